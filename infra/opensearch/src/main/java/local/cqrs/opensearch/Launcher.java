/*
 * Launcher for a local, Docker-free OpenSearch 2.19.6 node built from the official
 * Maven Central jars (see infra/opensearch/pom.xml and infra/opensearch/NOTES.md).
 *
 * Usage:
 *   java <jvm flags> -cp "<outdir>:<maven classpath>" local.cqrs.opensearch.Launcher \
 *        -Epath.home=/x -Epath.data=/x/data -Epath.logs=/x/logs \
 *        -Ecluster.name=c -Enode.name=n -Ediscovery.type=single-node \
 *        -Enetwork.host=127.0.0.1 -Ehttp.port=19200 -Etransport.port=19300
 *
 * Settings: every argument "-Ekey=value" (or the two arguments "-E" "key=value") becomes a
 * node setting. Nothing else is accepted. path.home is required; path.home/config is
 * created if missing (config/opensearch.yml there is read if present, -E wins over it).
 *
 * Plugins: the modules below are loaded as "classpath plugins". If any of their classes
 * is missing from the classpath the launcher prints an error and exits with status 3.
 * Painless extensions (e.g. analysis-common's whitelist for analysis predicate scripts)
 * are not wired by OpenSearch for classpath plugins, so the launcher feeds them to
 * PainlessPlugin itself (java.util.ServiceLoader on META-INF/services) before the node
 * is built. The base Painless whitelist works either way.
 *
 * Lifecycle: the node is started, then the main thread parks. SIGTERM/SIGINT run a
 * shutdown hook that closes the node (waiting up to 10 s) and then stops log4j, so the
 * process exits cleanly and releases the node lock in path.data. Exit codes:
 * 143 = stopped by SIGTERM (JVM convention), 2 = bad arguments, 3 = missing plugin class,
 * 1 = startup failure (port in use, data dir locked by another node, ...).
 *
 * Logging: pass -Dlog4j2.configurationFile=infra/opensearch/log4j2.properties (console),
 * and -Dlog4j.shutdownHookEnabled=false so log4j stays alive while the node closes.
 */
package local.cqrs.opensearch;

import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.ExtensiblePlugin;
import org.opensearch.plugins.Plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public final class Launcher extends Node {

    /** Modules that a stock OpenSearch distribution would load from modules/. */
    static final String[] PLUGIN_CLASSES = {
        "org.opensearch.transport.Netty4Plugin",              // transport-netty4-client: HTTP + transport
        "org.opensearch.analysis.common.CommonAnalysisPlugin", // analysis-common
        "org.opensearch.painless.PainlessPlugin",              // lang-painless
        "org.opensearch.index.reindex.ReindexPlugin",          // reindex-client
        "org.opensearch.index.mapper.MapperExtrasPlugin",      // mapper-extras-client
    };
    static final String PAINLESS_PLUGIN = "org.opensearch.painless.PainlessPlugin";
    static final String PAINLESS_EXTENSION = "org.opensearch.painless.spi.PainlessExtension";

    private Launcher(Environment env, Collection<Class<? extends Plugin>> plugins) {
        super(env, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        Settings settings = parseArgs(args);
        List<Class<? extends Plugin>> plugins = loadPluginClasses();
        loadPainlessExtensions();

        Path home = Paths.get(settings.get("path.home")).toAbsolutePath();
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "opensearch-local");

        final Launcher node;
        try {
            node = new Launcher(env, plugins);
            node.start();
        } catch (Throwable t) {
            System.err.println("[launcher] FATAL: node failed to start: " + t);
            t.printStackTrace();
            System.err.flush();
            // non-daemon threads may already exist: halt instead of waiting for them
            Runtime.getRuntime().halt(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("[launcher] shutdown signal received, closing node");
            try {
                node.close();
                if (!node.awaitClose(10, TimeUnit.SECONDS)) {
                    System.out.println("[launcher] node did not close within 10s");
                }
            } catch (Throwable t) {
                System.err.println("[launcher] error while closing node: " + t);
            } finally {
                System.out.println("[launcher] node closed");
                System.out.flush();
                stopLog4j();
                stopped.countDown();
            }
        }, "launcher-shutdown"));

        System.out.println("[launcher] node started, http " + settings.get("http.port", "9200"));
        stopped.await(); // keep main alive until the hook has run
    }

    /** "-Ekey=value" or "-E" "key=value" -> Settings. Exits 2 on anything else. */
    static Settings parseArgs(String[] args) {
        Settings.Builder b = Settings.builder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String kv;
            if (a.equals("-E") && i + 1 < args.length) {
                kv = args[++i];
            } else if (a.startsWith("-E") && a.length() > 2) {
                kv = a.substring(2);
            } else {
                die(2, "unexpected argument '" + a + "' (expected -Ekey=value)");
                return null;
            }
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                die(2, "bad setting '" + kv + "' (expected key=value)");
            }
            b.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        Settings s = b.build();
        if (s.get("path.home") == null) {
            die(2, "-Epath.home=<dir> is required");
        }
        return s;
    }

    /** Resolves every plugin class, failing loudly (exit 3) if one is missing. */
    static List<Class<? extends Plugin>> loadPluginClasses() {
        List<Class<? extends Plugin>> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : PLUGIN_CLASSES) {
            try {
                Class<?> c = Class.forName(name, false, Launcher.class.getClassLoader());
                if (!Plugin.class.isAssignableFrom(c)) {
                    missing.add(name + " (not an org.opensearch.plugins.Plugin)");
                    continue;
                }
                out.add(c.asSubclass(Plugin.class));
            } catch (ClassNotFoundException | LinkageError e) {
                missing.add(name + " (" + e + ")");
            }
        }
        try {
            Class.forName(PAINLESS_EXTENSION, false, Launcher.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            missing.add(PAINLESS_EXTENSION + " (opensearch-scripting-painless-spi; " + e + ")");
        }
        if (!missing.isEmpty()) {
            die(3, "missing OpenSearch plugin classes on the classpath:\n  - "
                + String.join("\n  - ", missing)
                + "\nRebuild the classpath with: mvn -q -f infra/opensearch/pom.xml "
                + "dependency:build-classpath -Dmdep.outputFile=<file>");
        }
        return out;
    }

    /**
     * PluginsService only calls ExtensiblePlugin.loadExtensions for plugins loaded from
     * modules/ or plugins/ dirs, never for classpath plugins. PainlessPlugin keeps its
     * whitelists in a static map, so feeding the extensions through a throw-away instance
     * before the node is built makes them visible to the instance the node creates.
     */
    static void loadPainlessExtensions() throws Exception {
        ClassLoader cl = Launcher.class.getClassLoader();
        Object painless = Class.forName(PAINLESS_PLUGIN, true, cl).getConstructor().newInstance();
        List<String> names = new ArrayList<>();
        ((ExtensiblePlugin) painless).loadExtensions(new ExtensiblePlugin.ExtensionLoader() {
            @Override
            public <T> List<T> loadExtensions(Class<T> type) {
                List<T> found = new ArrayList<>();
                for (T ext : ServiceLoader.load(type, cl)) {
                    found.add(ext);
                    names.add(ext.getClass().getName());
                }
                return found;
            }
        });
        System.out.println("[launcher] painless extensions: " + names);
    }

    static void stopLog4j() {
        try {
            Class.forName("org.apache.logging.log4j.LogManager").getMethod("shutdown").invoke(null);
        } catch (Throwable ignored) {
            // logging is best effort at this point
        }
    }

    static void die(int code, String msg) {
        System.err.println("[launcher] ERROR: " + msg);
        System.err.flush();
        System.exit(code);
    }
}
