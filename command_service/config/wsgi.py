"""WSGI entry point of the command service."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_service.config.settings")
application = get_wsgi_application()
