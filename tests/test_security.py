"""The threat model of docs/reliability.md, attacked: each test plants what another
local user could plant, or feeds what a hostile file could hold."""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff import grammar_tables, parse
from autodiff.expression import _Builder, grammar_path
from conftest import ROOT, cli_env, run_cli

# -- 1. no code from a shared cache ----------------------------------------------


class _Planted:
    """A pickle that, once loaded, creates the file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _old_cache_files(tmp: Path) -> list[Path]:
    """The files Lark's cache=True wrote, the way autodiff built its parser before."""
    script = (
        "from lark import Lark\n"
        "from autodiff.expression import _Builder, grammar_path\n"
        "Lark(grammar_path().read_text(encoding='utf-8'), parser='lalr',"
        " transformer=_Builder(), maybe_placeholders=False, cache=True)\n"
    )
    env = cli_env({"TMPDIR": str(tmp)})
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
    found = sorted(tmp.glob(".lark_cache_*"))
    assert found, "Lark's cache=True should have left its file here"
    return found


def test_a_planted_pickle_in_the_shared_temporary_directory_is_never_loaded(tmp_path):
    shared = tmp_path / "tmp"
    shared.mkdir()
    sentinel = tmp_path / "PWNED"
    for path in _old_cache_files(shared):
        # Lark's format: the grammar's hash on a line, then pickles, loaded in turn.
        first_line = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(first_line + b"\n" + pickle.dumps(_Planted(sentinel)))
    result = run_cli("grad", "4*x**2 - 2*x + 5", "--at", "x=3", env={"TMPDIR": str(shared)})
    assert (result.returncode, result.stdout) == (0, "value\t35.0\nd/dx\t22.0\n")
    assert not sentinel.exists()


def test_a_planted_symlink_is_never_written_through(tmp_path):
    shared = tmp_path / "tmp"
    shared.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for path in _old_cache_files(shared):
        path.unlink()
        path.symlink_to(victim)
    result = run_cli("grad", "x*y", "--at", "x=2,y=3", env={"TMPDIR": str(shared)})
    assert result.returncode == 0
    assert victim.read_text() == "precious\n"


def test_parsing_reads_and_writes_no_cache_anywhere(tmp_path):
    homes = {name: tmp_path / name for name in ("TMPDIR", "HOME", "XDG_CACHE_HOME")}
    for folder in homes.values():
        folder.mkdir()
    env = {name: str(folder) for name, folder in homes.items()}
    for args in (["grad", "sin(x)*y", "--at", "x=1,y=2"], ["explain", "x*y", "--at", "x=1,y=2"]):
        assert run_cli(*args, env=env).returncode == 0
    assert [p for folder in homes.values() for p in folder.iterdir()] == []


def test_the_shipped_tables_are_those_of_the_grammar():
    """Stale tables are rebuilt at run time; this test says to regenerate them."""
    compile_py = ROOT / "grammars" / "compile.py"
    spec = importlib.util.spec_from_file_location("compile_grammar", compile_py)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    grammar = grammar_path().read_text(encoding="utf-8")
    assert module.digest(grammar) == grammar_tables.GRAMMAR_SHA256, (
        "grammars/expr.lark changed: run python grammars/compile.py"
    )


@pytest.mark.parametrize(
    "text", ["4*x**2 - 2*x + 5", "-x^2^3", "pow(x, 2) / (1 - y)", "x*+-y", ".5e-3*x"]
)
def test_the_shipped_parser_parses_as_a_freshly_built_one(text):
    from autodiff.expression import _Parser

    shipped = _Parser.instance()
    assert shipped.lark.source_path == "<deserialized>"  # the tables, not a rebuild
    assert list(parse(text).steps) == _parse_steps(text)


def _parse_steps(text: str):
    from lark import Lark

    builder = _Builder()
    builder.reset(text)
    Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        transformer=builder,
        maybe_placeholders=False,
    ).parse(text)
    return builder.steps
