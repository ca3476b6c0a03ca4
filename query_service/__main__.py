"""`python -m query_service ARGS`: Django's manage.py for the query service (stream_fanout, check, spectacular)."""

import os
import sys

from django.core.management import execute_from_command_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "query_service.config.settings")
execute_from_command_line(sys.argv)
