"""Django project configuration of the command service."""
