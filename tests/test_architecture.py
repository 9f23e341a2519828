"""The layers of docs/architecture.md, held by the imports themselves.

Every import in src/autodiff, at module level or inside a function, points
to its own layer or one below it; the one exception is the Jupyter hook in
``Value._repr_mimebundle_``, documented where it is. No two modules import
each other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "autodiff"

# Bottom first; a module may import its own layer and those before it.
LAYERS = [
    ["autodiff._version", "autodiff.core.safe_text", "autodiff.core.errors"],
    ["autodiff.core.ops"],
    ["autodiff.core.program"],
    ["autodiff.core.engine"],
    ["autodiff.core.tape"],
    ["autodiff.core.expression"],
    ["autodiff.language"],
    ["autodiff.features"],
    ["autodiff.render"],
    ["autodiff.cli"],
    ["autodiff.entry", "autodiff.__main__", "autodiff"],
]
UPWARD_ALLOWED = {("autodiff.core.engine", "autodiff.render.graph")}  # the Jupyter hook


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{module} is in no layer of LAYERS: add it"
    return best[0]


def imports(module: str) -> set[str]:
    """The autodiff modules ``module`` imports anywhere in its text."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("autodiff"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if not base.startswith("autodiff"):
                continue
            for alias in node.names:
                # `from . import ops` imports a module; `from .x import y` a name of x.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    found.discard(module)
    return {m for m in found if m in MODULES}


GRAPH = {m: imports(m) for m in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    upward = [
        target
        for target in sorted(GRAPH[module])
        if layer(target) > layer(module) and (module, target) not in UPWARD_ALLOWED
    ]
    assert not upward, f"{module} imports from a layer above it: {upward}"


def test_no_module_imports_round_a_circle() -> None:
    for start in sorted(GRAPH):
        # Everything reachable from start, with the module that led there.
        came_from: dict[str, str] = {}
        todo = [start]
        while todo:
            node = todo.pop()
            for target in GRAPH[node]:
                if (node, target) in UPWARD_ALLOWED or target in came_from:
                    continue
                came_from[target] = node
                todo.append(target)
        if start in came_from:
            circle = [start]
            while len(circle) == 1 or circle[-1] != start:
                circle.append(came_from[circle[-1]])
            pytest.fail("circle: " + " <- ".join(circle))


# The command line's shared parts; each command module uses only these.
CLI_SHARED = {
    "autodiff.cli.common",
    "autodiff.cli.output",
    "autodiff.cli.status",
    "autodiff.cli.streams",
}


@pytest.mark.parametrize(
    "command", sorted(m for m in MODULES if m.startswith("autodiff.cli.") and m not in CLI_SHARED)
)
def test_command_modules_do_not_import_each_other(command: str) -> None:
    others = {m for m in GRAPH[command] if m.startswith("autodiff.cli")} - CLI_SHARED
    assert not others, f"{command} imports another command: {sorted(others)}"


def test_the_allowed_upward_import_is_still_needed() -> None:
    for module, target in UPWARD_ALLOWED:
        assert target in GRAPH[module], f"{module} no longer imports {target}: drop the exception"


ARCHITECTURE = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_the_map_lists_every_module_and_names_only_paths_that_exist() -> None:
    named = set(
        re.findall(r"`((?:src|tests|docs|grammars)/[\w/.]+\.(?:py|md|lark))`", ARCHITECTURE)
    )
    for path in sorted(p for p in named if "NAME" not in p):  # NAME: a recipe's placeholder
        assert (SRC.parent / path).exists(), f"docs/architecture.md names {path}, which is gone"
    for path in MODULES.values():
        relative = str(path.relative_to(SRC.parent))
        if path.name == "__init__.py" and path.parent != PACKAGE and path.parent.name != "cli":
            continue  # a layer's package docstring: the table lists its modules
        assert relative in named, f"docs/architecture.md does not list {relative}"


def test_the_maps_layers_agree_with_the_imports() -> None:
    for number, path in re.findall(
        r"^\| (\d+) \| `(src/autodiff/[\w/.]+)\.py` \|", ARCHITECTURE, re.M
    ):
        module = module_name(SRC.parent / f"{path}.py")
        for target in GRAPH[module]:
            if (module, target) in UPWARD_ALLOWED:
                continue
            shown = re.search(
                rf"^\| (\d+) \| `{re.escape(str(MODULES[target].relative_to(SRC.parent)))}`",
                ARCHITECTURE,
                re.M,
            )
            if shown:
                assert int(shown.group(1)) <= int(number), (
                    f"{module} (layer {number}) imports {target} (layer {shown.group(1)})"
                )


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if not m.startswith(("autodiff.cli", "autodiff.entry")))
)
def test_the_library_names_no_command_line_flag_in_a_message(module: str) -> None:
    """Only the command line speaks of flags: the library names its parameters
    (UsageError.parameter), and cli/status.wording shows the option instead."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    flags = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and FLAG.search(node.value)
    ]
    assert not flags, f"{module} names command-line flags: {flags}"
