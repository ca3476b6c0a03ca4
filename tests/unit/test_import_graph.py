"""The tree's import graph has no circle: every import, at module level or inside a function, points one way.

Read from the source with `ast` (nothing is imported), over every package of the system and the tooling beside it.
"""

from __future__ import annotations

from pathlib import Path

from tests.import_checks import REPO_ROOT, file_imports, module_name, top_packages

PACKAGES = ("bench", "command_service", "events", "infra", "projector", "query_service", "read_models", "runtime")


def source_modules() -> dict[str, Path]:
    """Every module of the packages, by name (migrations included: they import models too)."""
    return {
        module_name(path): path
        for package in PACKAGES
        if (REPO_ROOT / package).is_dir()
        for path in (REPO_ROOT / package).rglob("*.py")
    }


def import_graph() -> dict[str, set[str]]:
    """{module: the project modules it imports}."""
    modules = source_modules()
    return {
        name: {target for target in file_imports(path) if target in modules and target != name}
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
    assert top_packages(set(graph)) >= {"command_service", "events", "infra", "projector", "read_models", "runtime"}
    assert "events.envelope" in graph["events"]  # a package's own imports count


def test_a_circle_is_found_wherever_the_import_stands() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
