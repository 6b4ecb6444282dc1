"""The local cloud's boundaries, read from its sources (ast, nothing imported): it imports nothing else from
`devkit` (it knows nothing about the services it runs), and its modules form no import cycle. Every import counts:
module level, inside functions, under `if TYPE_CHECKING:`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "devkit" / "localcloud"
NAME = "devkit.localcloud"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([NAME, *parts])


def imported_names(path: Path, package: Path = PACKAGE) -> set[str]:
    """Absolute names of every module `path` imports (for `from m import a`: `m.a` when that is a module of the
    package, else `m`)."""
    this = module_name(path, package)
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = this.split(".") if is_package else this.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    sources = {module_name(p, package): p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}
    return {name: {n for n in imported_names(path, package) if n in sources} - {name} for name, path in sources.items()}


def foreign_imports(package: Path = PACKAGE) -> list[str]:
    """`module imports name` for each import of `devkit` outside the local cloud."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for name in sorted(imported_names(path, package)):
            inside = name == NAME or name.startswith(NAME + ".")
            if (name == "devkit" or name.startswith("devkit.")) and not inside:
                found.append(f"{module_name(path, package)} imports {name}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
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


def test_the_local_cloud_imports_nothing_else_from_devkit() -> None:
    assert foreign_imports() == [], "the local cloud knows nothing about our services; callers pass paths in"


def test_the_local_cloud_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 20 and f"{NAME}.cloud" in graph
    assert cycles(graph) == []


@pytest.fixture
def copy_of_the_package(tmp_path: Path) -> Path:
    copy = tmp_path / "localcloud"
    for source in PACKAGE.rglob("*.py"):
        if "__pycache__" not in source.parts:
            target = copy / source.relative_to(PACKAGE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
    return copy


def test_an_import_of_devkit_build_is_caught(copy_of_the_package: Path) -> None:
    pool = copy_of_the_package / "awslambda" / "pool.py"
    pool.write_text(pool.read_text() + "\n\ndef _late() -> None:\n    from devkit.build import bootstrap_path\n")
    assert foreign_imports(copy_of_the_package) == [
        f"{NAME}.awslambda.pool imports devkit.build",
        f"{NAME}.awslambda.pool imports devkit.build.bootstrap_path",
    ]


def test_a_cycle_is_caught_even_under_type_checking(copy_of_the_package: Path) -> None:
    environment = copy_of_the_package / "awslambda" / "environment.py"
    source = environment.read_text()
    environment.write_text(source + "\nif TYPE_CHECKING:\n    from .pool import FunctionPool\n")
    assert cycles(import_graph(copy_of_the_package)) == [[f"{NAME}.awslambda.environment", f"{NAME}.awslambda.pool"]]


def test_relative_and_package_imports_resolve_to_modules(tmp_path: Path) -> None:
    package = tmp_path / "localcloud"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from devkit.localcloud import sub\n")
    (package / "sub" / "__init__.py").write_text("from . import a\n")
    (package / "sub" / "a.py").write_text("from ..b import thing\n")
    (package / "b.py").write_text("import devkit.localcloud.sub.a\n")
    graph = import_graph(package)
    assert graph == {
        NAME: {f"{NAME}.sub"},
        f"{NAME}.sub": {f"{NAME}.sub.a"},
        f"{NAME}.sub.a": {f"{NAME}.b"},
        f"{NAME}.b": {f"{NAME}.sub.a"},
    }
    assert cycles(graph) == [[f"{NAME}.b", f"{NAME}.sub.a"]]
