"""`python -m infra run`: the whole system on one machine, and nothing left behind when it stops.

Start-up checks every port first, starts the backing services that are not running yet (remembering which),
migrates the command database, creates the topics and indices, then hands the system's processes to honcho.
Whatever ends the run (Ctrl-C or SIGTERM at any moment, a failed step, a supervised process that dies), the
processes and the backing services this run started are stopped; services that were running before are left alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from infra.process import ServiceError
from infra.procfile import AppProcess, Supervisor, select
from infra.stack import all_services, check_ports_free, client_env, down, up
from runtime.deployment import DEVELOPMENT, deployment_env
from runtime.settings import REPO_ROOT, database_url, state_root

PREPARE_READ_SIDE = (
    "from projector.consumer.app import ProjectorConfig, opensearch_client, prepare; "
    "prepare(opensearch_client(), ProjectorConfig.from_env())"
)


def run(names: Sequence[str]) -> int:
    """Bring the system up, supervise the named processes (all by default) and stop what this run started.

    Returns:
        130 or 143 after Ctrl-C or SIGTERM; otherwise the exit code of the process that ended the run, or 1 when
        it exited with 0 or by a signal (a supervised process should never end by itself).

    Raises:
        ServiceError: a port is taken, or a service or a start-up step failed (nothing started is left running).
        KeyboardInterrupt: Ctrl-C or SIGTERM during start-up (nothing started is left running).
    """
    processes = select(names)
    profile = deployment_env()  # development unless DJANGO_ENV says otherwise; a bad value stops the run here
    services = all_services()
    running_before = {service.name for service in services if service.running()}
    check_ports_free(
        [port for service in services if service.name not in running_before for port in service.ports]
        + [process.port for process in processes if process.port is not None]
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM during start-up unwinds like Ctrl-C
    try:
        up([])
        env = app_env()
        _step("migrating the command database", [sys.executable, "-m", "command_service", "migrate", "--noinput"], env)
        _step("creating the event topics and the read-model indices", [sys.executable, "-c", PREPARE_READ_SIDE], env)
        _print_urls(processes, env, profile)
        supervisor = Supervisor()
        for process in processes:
            supervisor.add(process, env)
        supervisor.loop()
        return _exit_code(supervisor.returncode)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        started = [service.name for service in services if service.name not in running_before and service.running()]
        if started:
            down(started)
        if running_before:
            print(f"left running (they ran before this run): {', '.join(sorted(running_before))}", flush=True)


def app_env() -> dict[str, str]:
    """The environment of the system's processes: the local services' client variables where none is set.

    The command database stays the embedded SQLite file unless `DATABASE_URL` itself names one.
    """
    env = {**client_env(), **os.environ, "SERVICES_DIR": str(state_root()), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # each process's entry point names its own
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = database_url()
    return env


def _step(what: str, argv: list[str], env: dict[str, str]) -> None:
    print(f"{what} ...", flush=True)
    result = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise ServiceError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(output[-30:]))


def _print_urls(processes: Sequence[AppProcess], env: dict[str, str], profile: str) -> None:
    lines = [f"  {label:<18} {url}" for process in processes for label, url in process.urls]
    lines.append(f"  {'command database':<18} {env['DATABASE_URL']}")
    note = " (DEBUG, dev secret key, public docs; DJANGO_ENV=production for the production profile)"
    lines.append(f"  {'profile':<18} {profile}{note if profile == DEVELOPMENT else ''}")
    print("The system is starting; Ctrl-C stops everything this run started.\n" + "\n".join(lines), flush=True)


def _exit_code(returncode: int | None) -> int:
    if returncode in (130, 143):
        return returncode
    print("a supervised process stopped by itself, so the run stopped everything it started", file=sys.stderr)
    return returncode if returncode and returncode > 0 else 1
