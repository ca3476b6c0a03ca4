"""Apache Kafka 4 as one KRaft node (broker and controller) from the Maven Central jars. See NOTES.md."""

from __future__ import annotations

import base64
import string
import subprocess
import uuid
from pathlib import Path

from kafka import KafkaAdminClient

from events.topics import ensure_topics
from infra.jvm import java_tool, maven_classpath
from infra.process import ServiceError
from infra.service import Service
from runtime.settings import KAFKA_CONTROLLER_PORT, KAFKA_PORT

HERE = Path(__file__).resolve().parent
HEAP = "512m"


class Kafka(Service):
    """A single-node Kafka cluster on loopback, heap capped at 512 MB."""

    name = "kafka"
    ports = (KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    start_timeout = 120.0

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def config_file(self) -> Path:
        return self.dir / "server.properties"

    def prepare(self) -> None:
        java_tool()
        self._classpath = maven_classpath(HERE / "pom.xml", self.dir / "classpath.txt")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        template = string.Template((HERE / "server.properties.template").read_text())
        self.config_file.write_text(
            template.substitute(
                KAFKA_LOG_DIRS=self.data_dir,
                KAFKA_PORT=KAFKA_PORT.value,
                KAFKA_CONTROLLER_PORT=KAFKA_CONTROLLER_PORT.value,
            )
        )
        if not (self.data_dir / "meta.properties").exists():
            self._format_storage()

    def _format_storage(self) -> None:
        result = subprocess.run(
            [*self._java(), "kafka.tools.StorageTool", "format", "--standalone", "-t", _cluster_id(),
             "-c", str(self.config_file)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServiceError(f"formatting Kafka's storage failed:\n{(result.stdout + result.stderr)[-2000:]}")

    def _java(self) -> list[str]:
        return [java_tool(), f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}", "-cp", self._classpath]

    def command(self) -> list[str]:
        java, logging, cp, classpath = self._java()
        return [
            java, f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
            logging, cp, classpath, "kafka.Kafka", str(self.config_file),
        ]  # fmt: skip

    def is_healthy(self) -> bool:
        admin = KafkaAdminClient(bootstrap_servers=self.endpoint(), request_timeout_ms=3000, client_id="health")
        try:
            return bool(admin.describe_cluster()["brokers"])
        finally:
            admin.close()

    def after_start(self) -> None:
        """Create the event topics with their partition counts (the broker does not auto-create topics)."""
        ensure_topics(self.endpoint(), timeout=30)

    def endpoint(self) -> str:
        return f"127.0.0.1:{KAFKA_PORT.value}"

    def client_env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.endpoint()}


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what `random-uuid` prints).

    Like Kafka's own `Uuid.randomUuid()`, never one starting with "-": the storage tool would read it as an option.
    """
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id
