"""Settings of the read benchmark's ORM server: the command service's own, plus django.contrib.postgres (full-text
search) and the ORM posts list."""

from command_service.config.settings import *  # noqa: F403
from command_service.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]
ROOT_URLCONF = "bench.orm_list"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
