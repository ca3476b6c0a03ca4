"""Running a service from Maven Central jars with the machine's Java: finding Java and Maven, the classpath."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from infra.process import ServiceError
from infra.service import require_executable

JDK_HINT = "a Java 17 JDK (Debian: `apt-get install -y openjdk-17-jdk-headless`)"
MAVEN_HINT = "Maven (Debian: `apt-get install -y maven`)"


def java_tool(name: str = "java") -> str:
    """A JDK tool (`java`, `javac`) from `JAVA_HOME` when set, else from PATH.

    Raises:
        ServiceError: not found; the message names the package to install.
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / name).is_file():
        return str(Path(java_home) / "bin" / name)
    return require_executable(name, JDK_HINT)


def maven_classpath(pom: Path, out_file: Path) -> str:
    """The runtime classpath of a pom's dependencies, jars left in Maven's local repository (~/.m2).

    Resolved once and cached in `out_file`; resolved again when the pom changes or a jar is gone.

    Raises:
        ServiceError: Maven is missing or the resolution failed (with Maven's last output lines).
    """
    if out_file.exists() and out_file.stat().st_mtime >= pom.stat().st_mtime:
        classpath = out_file.read_text().strip()
        if classpath and all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    mvn = require_executable("mvn", MAVEN_HINT)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    print(f"resolving {pom.parent.name} jars with Maven (the first time downloads them into ~/.m2) ...", flush=True)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={out_file}"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "JAVA_HOME": str(Path(java_tool()).resolve().parent.parent)},
    )
    if result.returncode != 0 or not out_file.exists():
        out_file.unlink(missing_ok=True)
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise ServiceError(f"Maven could not resolve {pom}:\n" + "\n".join(output))
    return out_file.read_text().strip()


def compile_java(source: Path, classpath: str, out_dir: Path) -> None:
    """Compile one Java source file into `out_dir`, unless its class is newer than the source.

    Raises:
        ServiceError: javac is missing or the compilation failed.
    """
    stamp = out_dir / ".compiled"
    if stamp.exists() and stamp.stat().st_mtime >= source.stat().st_mtime:
        return
    javac = java_tool("javac")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    result = subprocess.run(
        [javac, "-cp", classpath, "-d", str(out_dir), str(source)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ServiceError(f"javac failed on {source}:\n{result.stderr[-3000:]}")
    stamp.touch()
