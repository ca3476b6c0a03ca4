"""`python -m command_service ARGS`: Django's manage.py for the command service (migrate, runserver, outbox_relay)."""

import os
import sys

from django.core.management import execute_from_command_line

from runtime.settings import SettingError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_service.config.settings")
try:
    execute_from_command_line(sys.argv)
except SettingError as error:  # a refused setting: its message names the variable, no traceback needed
    sys.exit(f"error: {error}")
