"""OpenSearch 2.19 as a real node from the Maven Central jars, through the small launcher beside this file.

The launcher (Launcher.java) loads the modules the projector needs as classpath plugins: HTTP (netty4),
analysis-common, painless, reindex (reindex, update/delete by query) and mapper-extras. See NOTES.md.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from infra.jvm import compile_java, java_tool, maven_classpath
from infra.service import Service
from runtime.settings import OPENSEARCH_PORT, OPENSEARCH_TRANSPORT_PORT

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "src" / "main" / "java" / "local" / "cqrs" / "opensearch" / "Launcher.java"
HEAP = "1g"


class OpenSearch(Service):
    """A single-node OpenSearch cluster on loopback, heap capped at 1 GB."""

    name = "opensearch"
    ports = (OPENSEARCH_PORT, OPENSEARCH_TRANSPORT_PORT)
    start_timeout = 180.0

    def prepare(self) -> None:
        java_tool()  # fail first on the most basic missing piece
        self._classpath = maven_classpath(HERE / "pom.xml", self.dir / "classpath.txt")
        compile_java(LAUNCHER, self._classpath, self.dir / "classes")
        for sub in ("home/config", "home/tmp", "data", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        home = self.dir / "home"
        settings = {
            "path.home": home,
            "path.data": self.dir / "data",
            "path.logs": self.dir / "logs",
            "cluster.name": "cqrs-local",
            "node.name": "cqrs-node-1",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": OPENSEARCH_PORT.value,
            "transport.port": OPENSEARCH_TRANSPORT_PORT.value,
            "cluster.routing.allocation.disk.threshold_enabled": "false",
        }
        return [
            java_tool(), f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-Xss1m", "-XX:-OmitStackTraceInFastThrow",
            f"-Djava.io.tmpdir={home / 'tmp'}", "-Djava.locale.providers=SPI,COMPAT", "-Dfile.encoding=UTF-8",
            "-Djava.awt.headless=true", "-Djna.nosys=true", "-Dio.netty.noUnsafe=true",
            "-Dio.netty.noKeySetOptimization=true", "-Dio.netty.recycler.maxCapacityPerThread=0",
            "-Dlog4j.shutdownHookEnabled=false", "-Dlog4j2.disable.jmx=true", "-Dlog4j2.formatMsgNoLookups=true",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
            "-cp", f"{self.dir / 'classes'}:{self._classpath}", "local.cqrs.opensearch.Launcher",
            *(f"-E{key}={value}" for key, value in settings.items()),
        ]  # fmt: skip

    def is_healthy(self) -> bool:
        url = f"{self.endpoint()}/_cluster/health?wait_for_status=yellow&timeout=1s"
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.load(response)["status"] in ("green", "yellow")

    def endpoint(self) -> str:
        return f"http://127.0.0.1:{OPENSEARCH_PORT.value}"

    def client_env(self) -> dict[str, str]:
        return {"OPENSEARCH_URL": self.endpoint()}
