"""`python -m command_service ARGS`: Django's manage.py for the command service (migrate, runserver, outbox_relay)."""

import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_service.config.settings")
execute_from_command_line(sys.argv)
