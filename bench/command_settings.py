"""Settings of the command-write benchmark's server: the project's own, plus one comparison route."""

from command_service.config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.command_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
