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
from collections.abc import Sequence

from infra.process import ServiceError
from infra.stack import client_env, down, status, up
from runtime.settings import SettingError


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
            from infra.run import run  # imports honcho: only when asked

            return run(rest)
        elif command == "exec" and rest:
            cmd = rest[1:] if rest[0] == "--" else rest
            os.execvpe(cmd[0], cmd, {**client_env(), **os.environ})
        else:
            print(__doc__)
            return 0 if command in ("help", "-h", "--help") else 2
    except (ServiceError, SettingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the services started by this run were stopped", file=sys.stderr)
        return 130
    return 0
