"""`python -m infra COMMAND`: start, stop and inspect the local backing services; run the whole system.

Commands:
    up [NAME ...]       start the services (all by default) and wait until each is healthy; a no-op for running ones
    down [NAME ...]     stop exactly the processes `up` started, by their pid files
    status              say what runs where
    env                 print the client environment variables (`export KEY=value` lines) for the local services
    exec -- CMD ...     run CMD with those variables set where the environment does not set them already
    run [PROCESS ...]   start the services, migrate, create topics and indices, then supervise the system's
                        processes (command, relay, projector, query, fanout; all by default) until Ctrl-C
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from infra.process import ServiceError, port_in_use, stop
from infra.service import Service
from infra.settings import PortSetting
from infra.stack import all_services


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m infra`."""
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("help", [])
    try:
        if command == "up":
            up(rest)
        elif command == "down":
            down(rest)
        elif command == "status":
            return status()
        elif command == "env":
            for key, value in client_env().items():
                print(f"export {key}={value}")
        elif command == "run":
            from infra.run import run  # imports honcho and this module: only when asked

            return run(rest)
        elif command == "exec" and rest:
            cmd = rest[1:] if rest[0] == "--" else rest
            os.execvpe(cmd[0], cmd, {**client_env(), **os.environ})
        else:
            print(__doc__)
            return 0 if command in ("help", "-h", "--help") else 2
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the services started by this run were stopped", file=sys.stderr)
        return 130
    return 0
