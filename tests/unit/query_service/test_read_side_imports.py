"""The query service depends on the read-model contract (`read_models`), never on the projector's code.

Checked twice: the whole ASGI application (HTTP views, WebSocket consumer) and the fan-out command are loaded in a
fresh interpreter and no projector module may come with them; and no module of the query service names the
projector in any import statement, even one inside a function that start-up never runs.
"""

from __future__ import annotations

from tests.import_checks import REPO_ROOT, file_imports, loaded_modules, top_packages

LOAD_THE_APPLICATION = """
import query_service.config.asgi
from django.urls import get_resolver
get_resolver().url_patterns  # the URLconf, and through it every view, loads on the first request: load it now
import query_service.management.commands.stream_fanout
"""


def test_the_asgi_application_and_the_fan_out_load_no_projector_module() -> None:
    loaded = loaded_modules(LOAD_THE_APPLICATION, {"DJANGO_SETTINGS_MODULE": "query_service.config.settings"})
    assert {"query_service.api.views", "query_service.stream.consumers", "query_service.stream.fanout"} <= set(loaded)
    assert "read_models.notices" in loaded
    assert top_packages(loaded) & {"projector", "command_service"} == set()


def test_no_module_of_the_query_service_imports_the_projector() -> None:
    for path in (REPO_ROOT / "query_service").rglob("*.py"):
        assert "projector" not in top_packages(file_imports(path)), f"{path} imports the projector"
