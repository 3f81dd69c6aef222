"""No module-level import circle in app/ or recommender/.

Import-linter (run by `make test`) checks the direction of every import, lazy ones included. This test checks
what it cannot: that no group of modules imports each other while being imported, the circle that breaks
with "partially initialized module" as soon as someone reorders an import. It reads each module's source with
`ast` and keeps the imports Python runs at import time: top-level statements, including those nested in
top-level `if`/`try`/`with` blocks and class bodies, but not function bodies (deliberate lazy imports) or
`if TYPE_CHECKING:` blocks. `from pkg import name` counts as importing `pkg.name` when that is a module, and
importing `a.b.c` counts as importing the packages `a` and `a.b` too, except those the importer is itself
inside (Python starts initialising them first, and `from own_package import submodule` needs only the
submodule); `from own_package import name` of a non-module name still counts.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "recommender")


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_time_statements(body: list[ast.stmt]):
    """Import statements that run when the module is imported (not those inside functions)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_time_statements(node.body)
            yield from import_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from import_time_statements(block)
        elif isinstance(node, ast.With):
            yield from import_time_statements(node.body)
        elif isinstance(node, ast.ClassDef):
            yield from import_time_statements(node.body)


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    attribute_sources: set[str] = set()  # `from x import name` that needs x's own (maybe unfinished) namespace
    for node in import_time_statements(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:  # relative: from . import x / from ..a import b
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module
        submodules = {f"{source}.{alias.name}" for alias in node.names} & known
        targets.update(submodules)
        if len(submodules) < len(node.names):  # some names are attributes of `source` itself
            attribute_sources.add(source)
        targets.add(source)
    edges = set(attribute_sources & known) - {name}
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in known and not (name == candidate or name.startswith(candidate + ".")):
                edges.add(candidate)
    return edges


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph has a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def test_the_graph_reader_sees_top_level_imports_and_skips_lazy_ones():
    graph = import_graph()
    assert "app.search.queue" in graph["app.posts.services"]  # a top-level import
    assert "app.core.api" in graph["app.api"]
    assert "app.accounts.api" not in graph["app.api"]  # imported inside register_api()
    assert "app.search.documents" not in graph["app.search.indexing"]  # imported inside a job
    assert "app" not in graph["app.extensions"]  # its own package is initialised first


def test_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in strongly_connected_components(graph) if len(c) > 1] == [["a", "b", "c"]]


def test_no_module_level_import_circle():
    circles = [c for c in strongly_connected_components(import_graph()) if len(c) > 1]
    assert circles == []


def test_no_module_circle_even_counting_lazy_imports():
    """The circles issue #16 named ran through lazy imports (app.api <-> each domain's api.py; posts.services
    -> search.indexing -> search.documents -> shop.tags -> posts.services): count those imports too, here."""
    import grimp  # ships with import-linter (the dev extra)

    graph = grimp.build_graph("app")
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    circles = [c for c in strongly_connected_components(edges) if len(c) > 1]
    # Known: extensions builds the API on core's problem schema; errors.py reaches db lazily to roll back.
    assert circles == [["app.core.errors", "app.extensions"]]
