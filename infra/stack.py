"""The stack of local backing services, in start order, and what `up`, `down` and `status` do with it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from infra.kafka.service import Kafka
from infra.opensearch.service import OpenSearch
from infra.postgres.service import Postgres
from infra.process import ServiceError, port_in_use, stop
from infra.redis.service import Redis
from infra.service import Service
from runtime.settings import PortSetting


def all_services(root: Path | None = None) -> list[Service]:
    """Every backing service the system needs, in the order they start (and the reverse of how they stop)."""
    return [Postgres(root), Redis(root), Kafka(root), OpenSearch(root)]


def _select(names: Sequence[str]) -> list[Service]:
    services = all_services()
    if not names:
        return services
    known = {service.name: service for service in services}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ServiceError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


def check_ports_free(ports: Iterable[PortSetting]) -> None:
    """Make sure nothing listens on any of these ports.

    Raises:
        ServiceError: one line per taken port, naming its variable.
    """
    taken = [
        f"port {port.value} is already in use by another process: free it, or set {port.env_var} to another port"
        for port in ports
        if port_in_use(port.value)
    ]
    if taken:
        raise ServiceError("nothing was started:\n  " + "\n  ".join(taken))


def up(names: Sequence[str]) -> None:
    """Start the named services (all by default), all at once, then wait for each; undo everything on failure."""
    services = _select(names)
    to_start = []
    for service in services:
        record = service.running()
        if record:
            print(f"{service.name:<10} already running (pid {record.pid}): {service.endpoint()}")
        else:
            to_start.append(service)
    if not to_start:
        return
    check_ports_free(port for service in to_start for port in service.ports)
    for service in to_start:
        service.prepare()
    started = []
    try:
        for service in to_start:
            started.append((service, service.start()))
        for service, record in started:
            service.wait_healthy(record)
            service.after_start()
            print(f"{service.name:<10} started (pid {record.pid}): {service.endpoint()}", flush=True)
    except BaseException:  # a failure or Ctrl-C: leave nothing half-started
        for service, record in reversed(started):
            stop(record, sig=service.stop_signal)
            service.pid_file.unlink(missing_ok=True)
        raise


def down(names: Sequence[str]) -> None:
    """Stop the named services' recorded processes (all by default)."""
    for service in reversed(_select(names)):
        record = service.running()
        if record is None:
            print(f"{service.name:<10} not running")
            continue
        polite = stop(record, sig=service.stop_signal)
        service.pid_file.unlink(missing_ok=True)
        print(f"{service.name:<10} stopped (pid {record.pid}{'' if polite else ', killed after a timeout'})")


def status() -> int:
    """Print each service's state; return 0 when all run, 3 otherwise."""
    all_up = True
    for service in all_services():
        record = service.running()
        if record is None:
            all_up = False
            print(f"{service.name:<10} stopped")
            continue
        rss_mib = _rss_kib(record.pid) / 1024
        print(f"{service.name:<10} running (pid {record.pid}, {rss_mib:.0f} MiB resident): {service.endpoint()}")
    return 0 if all_up else 3


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def client_env() -> dict[str, str]:
    """The client variables for every local service."""
    env: dict[str, str] = {}
    for service in all_services():
        env.update(service.client_env())
    return env
