"""Settings of the read benchmark's ORM server: the command service's own, plus the ORM posts list."""

from command_service.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.orm_list"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
