"""The PyPI distribution `Events`, whose top-level package is also named `events`, reached past this package.

opensearch-py depends on it and runs `from events import Events` when imported. This package sits first on
`sys.path` in every process of the project, so it shadows that one and the import would fail. `events.__getattr__`
hands out the two names it exports from the distribution's own file, loaded under a private module name, only when
someone asks (usually opensearch-py at import); the contract itself never uses them.
"""

from __future__ import annotations

import functools
import importlib.util
from importlib.metadata import PackageNotFoundError, distribution
from types import ModuleType

EXPORTS = frozenset({"Events", "EventsException"})


@functools.cache
def shadowed_module() -> ModuleType:
    """The PyPI `events.events` module (raises ImportError when the distribution is not installed)."""
    try:
        path = distribution("Events").locate_file("events/events.py")
    except PackageNotFoundError as exc:
        raise ImportError("the PyPI distribution `Events` (needed by opensearch-py) is not installed") from exc
    spec = importlib.util.spec_from_file_location("events._pypi_events", str(path))
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
