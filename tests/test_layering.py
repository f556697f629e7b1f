"""Imports run one way (README, "Layout"), checked on the source files' syntax trees without importing them: the
client imports nothing of the project; networks, model files and image files sit below the engine; only the command
line imports the commands; the app and the plug-in stay out of the model stack; no module imports itself through
others.

An import under ``if TYPE_CHECKING:`` is no runtime edge. An import inside a function is one (it runs when the
function is first called, and a cycle through it can still meet a half-initialised module), so it counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# (folder that holds the package, package): the Krita plug-in lives in Krita's pykrita layout, the GIMP plug-in's
# helpers in its plug-in folder.
PACKAGES = (
    ("", "ldl_backend"),
    ("", "ldl_client"),
    ("", "ui"),
    ("plugin/krita", "ldl_krita"),
    ("plugin/gimp/ldl_upscale", "ldl_gimp"),
)
PLUGINS = ("ldl_krita", "ldl_gimp")

# The backend's layers, lowest first: a module may import its own layer and those below, never one above. The
# package itself, errors, paths, storage and lazy_exports sit under all of them.
BACKEND_LAYERS = (
    ("archs", "models", "imageio", "degradations", "metrics"),
    ("engine",),
    ("artifacts",),
    ("server", "training", "evaluation", "batch"),
    ("commands",),
    ("cli",),
)
_MODEL_STACK = tuple(
    f"ldl_backend.{name}" for name in ("server", "engine", "models", "training", "evaluation", "commands", "cli")
)


@dataclass(frozen=True)
class Rule:
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    exempt: tuple[str, ...] = ()


def _layer_rules() -> list[Rule]:
    chain = " <- ".join("/".join(layer) for layer in BACKEND_LAYERS)
    return [
        Rule(
            tuple(f"ldl_backend.{name}" for name in layer),
            tuple(f"ldl_backend.{name}" for above in BACKEND_LAYERS[rank + 1 :] for name in above),
            f"the backend's imports run one way: {chain}",
        )
        for rank, layer in enumerate(BACKEND_LAYERS[:-1])
    ]


RULES = (
    Rule(
        ("ldl_client",),
        ("ldl_backend", "ui", *PLUGINS),
        "ldl_client is the standard-library-only contract that the server and every front end import",
    ),
    *_layer_rules(),
    Rule(
        ("ldl_backend", "ldl_client", "ui", *PLUGINS),
        ("ldl_backend.commands",),
        "the commands are the command line's; shared code belongs in the layer it serves",
        exempt=("ldl_backend.cli", "ldl_backend.commands"),
    ),
    Rule(
        ("ui", *PLUGINS),
        _MODEL_STACK,
        "front ends reach models and jobs through ldl_client (local mask maths and image files are allowed)",
    ),
    Rule(
        ("ldl_krita",),
        ("ldl_backend", "ui", "ldl_gimp"),
        "the plug-in runs in Krita's Python: ldl_client and the stdlib",
    ),
    Rule(
        ("ldl_gimp",),
        ("ldl_backend", "ui", "ldl_krita"),
        "the plug-in runs in GIMP's Python: ldl_client and the stdlib",
    ),
    Rule(("ldl_backend",), ("ui", *PLUGINS), "the backend knows nothing about its front ends"),
)


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    path: Path
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.importer} -> {self.imported} at {self.path}:{self.line}{where}"


def find_modules(root: Path, packages: Iterable[tuple[str, str]]) -> dict[str, Path]:
    """Dotted module name -> source file for every ``.py`` under the packages (a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for folder, package in packages:
        base = root / folder
        for path in sorted((base / package).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_edges(root: Path, packages: Sequence[tuple[str, str]] = PACKAGES) -> list[Edge]:
    """Every runtime import of one project module by another, resolved to the module it loads."""
    modules = find_modules(root, packages)
    tops = {package for _, package in packages}
    edges: dict[tuple[str, str], Edge] = {}
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, in_function in _imports(tree.body, in_function=False):
            for name in _imported_names(node, importer, path.name == "__init__.py", modules):
                if name.split(".")[0] not in tops:
                    continue
                edge = Edge(importer, name, path.relative_to(root), node.lineno, in_function)
                # One edge per pair; a module-level import outranks one inside a function.
                previous = edges.get((edge.importer, edge.imported))
                if edge.importer != edge.imported and (previous is None or previous.in_function > in_function):
                    edges[(edge.importer, edge.imported)] = edge
    return list(edges.values())


def _imports(statements: Iterable[ast.AST], in_function: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, in_function)  # the body runs only under a type checker
        else:
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from _imports(ast.iter_child_nodes(node), inner)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: dict[str, Path]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # ``from package import name`` loads the submodule when ``name`` is one, else the package itself. A module that
    # is not in the tree (the plug-in's installed copy of the client) stays as written: a leaf of the graph.
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


def rule_violations(edges: Iterable[Edge], rules: Iterable[Rule] = RULES) -> list[str]:
    return [
        f"{edge}: {rule.why}"
        for rule in rules
        for edge in edges
        if _within(edge.importer, rule.importers)
        and not _within(edge.importer, rule.exempt)
        and _within(edge.imported, rule.forbidden)
    ]


def import_cycles(edges: Sequence[Edge]) -> list[list[Edge]]:
    """The edges inside each strongly connected group of modules (Tarjan's algorithm), one list per cycle group."""
    graph: dict[str, list[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, []).append(edge.imported)
        graph.setdefault(edge.imported, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                connect(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group: set[str] = set()
            while not group or module not in group:
                group.add(stack.pop())
            on_stack.difference_update(group)
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return [
        sorted((e for e in edges if e.importer in group and e.imported in group), key=str)
        for group in sorted(groups, key=min)
    ]


def _report(cycles: list[list[Edge]]) -> str:
    return "\n\n".join("\n".join(str(edge) for edge in cycle) for cycle in cycles)


# -- the real tree -------------------------------------------------------------------------------------------


def test_the_checker_sees_the_tree() -> None:
    # Guards the rules below against passing on an empty graph (a moved folder, a parse that finds nothing).
    edges = {(edge.importer, edge.imported) for edge in import_edges(REPOSITORY)}
    assert ("ldl_backend.commands.upscale", "ldl_backend.artifacts.files") in edges
    assert any(importer.startswith("ldl_krita.") and imported == "ldl_client" for importer, imported in edges)
    assert any(importer.startswith("ldl_gimp.") and imported.startswith("ldl_client") for importer, imported in edges)
    assert any(importer.startswith("ldl_client.") for importer, _ in edges)
    assert len(edges) > 300


def test_imports_follow_the_layers() -> None:
    violations = rule_violations(import_edges(REPOSITORY))
    assert not violations, "\n".join(violations)


def test_no_import_cycles() -> None:
    cycles = import_cycles(import_edges(REPOSITORY))
    assert not cycles, f"modules that import each other:\n{_report(cycles)}"


# -- the checker on a made-up tree ---------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_forbidden_imports_and_cycles_are_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "ldl_client/__init__.py": "import json\nfrom ldl_backend import errors\n",
            "ldl_backend/__init__.py": "",
            "ldl_backend/errors.py": "",
            "ldl_backend/cli.py": "from ldl_backend.commands import run\n",
            "ldl_backend/commands/__init__.py": "",
            "ldl_backend/commands/run.py": "from . import other\n",
            "ldl_backend/commands/other.py": "",
            "ldl_backend/models/__init__.py": "",
            "ldl_backend/models/store.py": "from ..engine.upscale import prepare\n",
            "ldl_backend/engine/__init__.py": "",
            "ldl_backend/engine/upscale.py": "def prepare():\n    from ldl_backend.models import store\n",
            "ldl_backend/engine/tiles.py": "from ldl_backend.artifacts.masks import mask_from_map\n",
            "ldl_backend/server/app.py": "import ldl_backend.commands.run\n",
            "ldl_backend/artifacts/__init__.py": "",
            "ldl_backend/artifacts/masks.py": "",
            "ui/jobs.py": "from ldl_backend.server import app\n",
            "ui/app.py": (
                "from typing import TYPE_CHECKING\n"
                "from ldl_backend.artifacts import masks\n"
                "if TYPE_CHECKING:\n"
                "    from ldl_backend.engine import upscale\n"
            ),
        },
    )
    packages = (("", "ldl_backend"), ("", "ldl_client"), ("", "ui"))

    edges = import_edges(tmp_path, packages)

    assert {(e.importer, e.imported) for e in edges} == {
        ("ldl_client", "ldl_backend.errors"),
        ("ldl_backend.cli", "ldl_backend.commands.run"),
        ("ldl_backend.commands.run", "ldl_backend.commands.other"),
        ("ldl_backend.models.store", "ldl_backend.engine.upscale"),
        ("ldl_backend.engine.upscale", "ldl_backend.models.store"),
        ("ldl_backend.engine.tiles", "ldl_backend.artifacts.masks"),
        ("ldl_backend.server.app", "ldl_backend.commands.run"),
        ("ui.app", "ldl_backend.artifacts.masks"),
        ("ui.jobs", "ldl_backend.server.app"),
    }
    reported = {line.split(" at ")[0] for line in rule_violations(edges)}
    assert reported == {
        "ldl_client -> ldl_backend.errors",
        "ldl_backend.models.store -> ldl_backend.engine.upscale",
        "ldl_backend.engine.tiles -> ldl_backend.artifacts.masks",
        "ldl_backend.server.app -> ldl_backend.commands.run",
        "ui.jobs -> ldl_backend.server.app",
    }
    [cycle] = import_cycles(edges)
    assert [str(edge) for edge in cycle] == [
        "ldl_backend.engine.upscale -> ldl_backend.models.store at ldl_backend/engine/upscale.py:2 (inside a function)",
        "ldl_backend.models.store -> ldl_backend.engine.upscale at ldl_backend/models/store.py:1",
    ]


def test_a_clean_tree_reports_nothing(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "ldl_backend/__init__.py": "from ldl_backend.lazy import load\n",
            "ldl_backend/lazy.py": "",
            "ldl_backend/engine/__init__.py": "",
            "ldl_backend/engine/upscale.py": "from ldl_backend.models.store import Store\n",
            "ldl_backend/models/__init__.py": "",
            "ldl_backend/models/store.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ldl_backend.engine.upscale import f\n"
            ),
        },
    )
    edges = import_edges(tmp_path, (("", "ldl_backend"),))
    assert {(e.importer, e.imported) for e in edges} == {
        ("ldl_backend", "ldl_backend.lazy"),
        ("ldl_backend.engine.upscale", "ldl_backend.models.store"),
    }
    assert rule_violations(edges) == []
    assert import_cycles(edges) == []
