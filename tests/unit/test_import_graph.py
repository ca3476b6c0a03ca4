"""The tree's import graph has no circle: every import, at module level or inside a function, points one way.

Read from the source with `ast` (nothing is imported), over every package of the system and the tooling beside it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bench", "command_service", "events", "infra", "projector", "query_service", "read_models", "runtime")


def module_name(path: Path) -> str:
    """`a/b/c.py` -> `a.b.c`; a package's `__init__.py` is the package itself."""
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    """Every module of the packages, by name (migrations included: they import models too)."""
    return {
        module_name(path): path
        for package in PACKAGES
        if (REPO_ROOT / package).is_dir()
        for path in (REPO_ROOT / package).rglob("*.py")
    }


def imported_names(path: Path, name: str) -> Iterator[str]:
    """The absolute module names `path` (module `name`) imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from a import b` of a module b


def import_graph() -> dict[str, set[str]]:
    """{module: the project modules it imports}."""
    modules = source_modules()
    return {
        name: {target for target in imported_names(path, name) if target in modules and target != name}
        for name, path in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_anywhere_in_the_tree() -> None:
    assert circles(import_graph()) == []


def test_the_graph_is_read_from_every_package() -> None:
    graph = import_graph()
    assert {name.partition(".")[0] for name in graph} >= {"command_service", "events", "infra", "projector"}
    assert "events.envelope" in graph["events"]  # a package's own imports count


def test_a_circle_is_found_wherever_the_import_stands() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
