"""The threat model of docs/reliability.md, attacked: each test plants what another
local user could plant, or feeds what a hostile file could hold."""

from __future__ import annotations

import importlib.util
import io
import os
import pickle
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autodiff import parse
from autodiff.language import grammar_tables
from autodiff.language.parser import _Builder, grammar_path
from conftest import ROOT, cli_env, extended, run_cli, run_on_terminal

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
        "from autodiff.language.parser import _Builder, grammar_path\n"
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
    assert list(parse(text).steps) == _parse_steps(text)


def test_parsing_with_the_shipped_tables_never_imports_lark():
    # Lark compiles the grammar (grammars/compile.py); a run only reads its tables.
    code = "import sys; from autodiff import parse; parse('x*y + 1'); print('lark' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    )
    assert result.stdout.strip() == "False"


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


# -- 2. -o replaces regular files only ---------------------------------------------

DOT = ["graph", "x*y", "--at", "x=2,y=3", "--format", "dot"]
UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# CI runs as root with AUTODIFF_REQUIRE_ALL=1: there these tests never skip.
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 and os.environ.get("AUTODIFF_REQUIRE_ALL") != "1",
    reason="mknod and setpriv need root",
)


def _dot_text() -> str:
    result = run_cli(*DOT, "-o", "-")
    assert result.returncode == 0
    return result.stdout


@needs_root
def test_a_character_device_is_written_in_place_not_replaced(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null
    result = run_cli(*DOT, "-o", str(null))
    assert (result.returncode, result.stderr) == (0, "")
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert list(tmp_path.iterdir()) == [null]  # and no temporary file left beside it


@needs_root
def test_a_full_device_is_an_error_and_stays_a_device(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a copy of /dev/full
    result = run_cli(*DOT, "-o", str(full))
    assert result.returncode == 1
    assert result.stderr == f"autodiff: error: cannot write {full}: No space left on device\n"
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run_cli(*DOT, "-o", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0
    assert received == [_dot_text().encode()]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_standard_output_by_name_is_the_open_descriptor(name):
    result = run_cli(*DOT, "-o", name)
    assert (result.returncode, result.stdout, result.stderr) == (0, _dot_text(), "")


def test_dev_stdout_redirected_to_a_file_keeps_appending(tmp_path):
    log = tmp_path / "log"
    log.write_text("before\n")
    with open(log, "a") as out:
        code = subprocess.run(
            [sys.executable, "-m", "autodiff", *DOT, "-o", "/dev/stdout"],
            stdout=out,
            env=cli_env(),
            timeout=60,
        ).returncode
    assert code == 0
    assert log.read_text() == "before\n" + _dot_text()


def _reachable_by_nobody() -> bool:
    """Whether uid 65534 can run this interpreter on this checkout (a 0700 parent: no)."""
    probe = [*UNPRIVILEGED, sys.executable, "-c", "import autodiff.cli"]
    return subprocess.run(probe, env=cli_env(), capture_output=True, timeout=60).returncode == 0


@needs_root
@pytest.mark.parametrize("name", ["/dev/null", "/dev/stdout"])
def test_an_unprivileged_user_may_write_to_devices(tmp_path, name):
    if not _reachable_by_nobody():
        pytest.skip("the checkout or the venv sits in a folder uid 65534 cannot enter")
    os.chmod(tmp_path, 0o755)
    result = subprocess.run(
        [*UNPRIVILEGED, sys.executable, "-m", "autodiff", *DOT, "-o", name],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (_dot_text() if name == "/dev/stdout" else "")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_is_an_error(tmp_path):
    result = run_cli(*DOT, "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == f"autodiff: error: cannot write {tmp_path}: it is a directory\n"


def test_a_replaced_file_keeps_its_permission_bits(tmp_path):
    private = tmp_path / "g.dot"
    private.write_text("old\n")
    private.chmod(0o600)
    assert run_cli(*DOT, "-o", str(private)).returncode == 0
    assert (stat.S_IMODE(private.stat().st_mode), private.read_text()) == (0o600, _dot_text())


def test_a_read_only_file_is_replaced_only_with_force(tmp_path):
    frozen = tmp_path / "g.dot"
    frozen.write_text("old\n")
    frozen.chmod(0o444)
    result = run_cli(*DOT, "-o", str(frozen))
    assert result.returncode == 1
    assert "read-only" in result.stderr and "--force" in result.stderr
    assert frozen.read_text() == "old\n"
    assert run_cli(*DOT, "-o", str(frozen), "--force").returncode == 0
    assert (stat.S_IMODE(frozen.stat().st_mode), frozen.read_text()) == (0o444, _dot_text())


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path):
    target = tmp_path / "real.dot"
    target.write_text("old\n")
    link = tmp_path / "link.dot"
    link.symlink_to(target)
    assert run_cli(*DOT, "-o", str(link)).returncode == 0
    assert link.is_symlink() and target.read_text() == _dot_text()
    dangling = tmp_path / "dangling.dot"
    dangling.symlink_to(tmp_path / "new.dot")
    assert run_cli(*DOT, "-o", str(dangling)).returncode == 0
    assert dangling.is_symlink() and (tmp_path / "new.dot").read_text() == _dot_text()


def test_sigterm_during_the_write_removes_the_temporary_file(tmp_path):
    """The signal arrives between the temporary file's write and its rename."""
    script = (
        "import os, signal, sys\n"
        "from autodiff.cli import output\n"
        "def chmod(path, mode):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    signal.sigtimedwait([], 0)\n"  # let the handler run here
        "output.os.chmod = chmod\n"
        "sys.argv = ['autodiff', *sys.argv[1:]]\n"
        "from autodiff.entry import main\n"
        "main()\n"
    )
    picture = tmp_path / "g.dot"
    picture.write_text("old\n")
    result = subprocess.run(
        [sys.executable, "-c", script, *DOT, "-o", str(picture)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert result.returncode == 143, result.stderr
    assert sorted(tmp_path.iterdir()) == [picture]
    assert picture.read_text() == "old\n"


# -- 3. user text is never rich markup -------------------------------------------------

MARKUP = ["[/bold]", "[red]R[/red]", "[link=https://evil.example/]docs[/link]", ":smile:", "[/x]"]


def _csv(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\n" for row in rows)


@pytest.mark.parametrize("fmt", extended(["table", "plain", "csv", "tsv", "json", "jsonl"], 2))
def test_markup_in_csv_fields_and_headers_is_shown_as_typed(fmt):
    rows = [["[/x]", "x"], *([text, str(k)] for k, text in enumerate(MARKUP, 1))]
    result = run_cli("grad", "x", "--points", "-", "--format", fmt, input=_csv(rows))
    assert (result.returncode, result.stderr) == (0, "")
    for text in MARKUP:
        assert text in result.stdout, text
    assert "\x1b" not in result.stdout and "😄" not in result.stdout


def test_markup_in_json_lines_keys_and_values_is_shown_as_typed():
    lines = "".join(f'{{"x": {k}, "[red]key[/red]": "{text}"}}\n' for k, text in enumerate(MARKUP))
    args = ["grad", "x", "--points", "-", "--points-format", "jsonl", "--format", "table"]
    result = run_cli(*args, input=lines)
    assert result.returncode == 0, result.stderr
    for text in [*MARKUP, "[red]key[/red]"]:
        assert text in result.stdout, text


def test_markup_as_a_stdin_expression_is_an_error_record_shown_as_typed():
    result = run_cli("grad", "-", "--at", "x=2", "--format", "table", input="[/x]\nx*[red]\nx\n")
    assert result.returncode == 2
    assert "[/x]" in result.stdout and "x*[red]" in result.stdout
    assert any(line.split()[:2] == ["x", "2"] for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "x", "--at", "x=[red]1"],
        ["grad", "x", "--wrt", "[link=https://evil.example/]y[/link]", "--at", "x=1"],
        ["explain", "x", "--at", "[/bold]=1"],
        ["hessian", "x*y", "--at", "x=1,y=2", "--wrt", "[red]z"],
        ["check", "x", "--at", "x=1", "--format", "[/x]"],
        ["graph", "x", "-o", "[red]g.svg", "--format", "[/bold]"],
    ],
)
def test_markup_in_options_is_quoted_as_typed_in_the_error(args):
    code, shown = run_on_terminal(*args)
    assert code == 2
    text = shown.decode()
    assert "Traceback" not in text and "MarkupError" not in text
    assert any(piece in text for piece in ("[red]", "[/bold]", "[/x]", "[link="))


# -- 4. no raw control characters on a terminal ------------------------------------------

HOSTILE = "\x1b]0;PWNED\x07\x1b[2J"


def _raw_controls(shown: bytes) -> set[int]:
    """Bytes a terminal acts on, other than the line ends a pseudo-terminal adds."""
    return {b for b in shown if (b < 0x20 and b not in b"\n\r\t") or b == 0x7F}


def test_stream_errors_and_table_cells_escape_a_hostile_field(tmp_path):
    points = tmp_path / "f.csv"
    points.write_text(f"x,y\n1,{HOSTILE}\n2,3\n")
    code, shown = run_on_terminal("grad", "x*y", "--points", str(points))
    assert code == 2
    assert _raw_controls(shown) == set()
    assert shown.count(b"\\x1b]0;PWNED\\x07\\x1b[2J") >= 2  # the stderr message and the cell
    assert b"6" in shown  # the good record is kept


def test_machine_formats_to_a_pipe_carry_fields_byte_for_byte(tmp_path):
    points = tmp_path / "f.csv"
    points.write_text(f"id,x\n{HOSTILE},2\n")
    expected = {
        "csv": f"id,x,value,d_x,error\n{HOSTILE},2,2.0,1.0,\n",
        "tsv": f"id\tx\tvalue\td_x\terror\n{HOSTILE}\t2\t2.0\t1.0\t\n",
    }
    for fmt in expected:
        result = run_cli("grad", "x", "--points", str(points), "--format", fmt)
        assert (result.returncode, result.stdout) == (0, expected[fmt])


def test_a_stdin_line_with_an_escape_is_escaped_in_its_table_row():
    code, shown = run_on_terminal("grad", "-", "--at", "x=1", input=f"x{HOSTILE}\n".encode())
    assert code == 2 and _raw_controls(shown) == set()
    assert b"\\x1b[2J" in shown


def test_explain_plain_shows_line_breaks_of_the_expression_as_escapes():
    result = run_cli("explain", "x\r+\x0b1\x0c", "--at", "x=1", "--format", "plain")
    assert result.returncode == 0
    assert not set(result.stdout) & set("\r\x0b\x0c")
    assert "x\\r+\\x0b1\\x0c" in result.stdout


def test_wrote_path_escapes_the_file_name(tmp_path):
    name = "a\x1b[2Jb\nc.dot"
    result = run_cli("graph", "x", "-o", name, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == "wrote a\\x1b[2Jb\\nc.dot (1 value)\n"
    assert (tmp_path / name).is_file()


@pytest.mark.parametrize(
    "args",
    extended(
        [
            ["grad", f"x+{HOSTILE}"],
            ["grad", "x", "--at", f"x=1{HOSTILE}"],
            ["explain", f"x*y\r\x0b{HOSTILE}", "--at", "x=1,y=2"],
            ["explain", "x*y\r\x0b\x0c", "--at", "x=1,y=2"],
            ["check", "x\r*\x0cy", "--at", "x=1,y=2"],
            ["hessian", "x\r*\x0cy", "--at", "x=1,y=2"],
            ["diff", "x\r*\x0cy"],
            ["graph", "x", "-o", f"g{HOSTILE}.dot"],
            ["plot", "x", "-o", f"p{HOSTILE}.svg"],
            ["grad", "x", "--order", "2", "--wrt", f"x{HOSTILE}", "--at", "x=1"],
        ],
        4,
    ),
)
def test_every_command_on_a_terminal_shows_no_raw_control_bytes(args, tmp_path):
    code, shown = run_on_terminal(*args, cwd=tmp_path)
    assert code in (0, 1, 2, 3), shown
    assert b"Traceback" not in shown
    assert _raw_controls(shown) == set(), shown


# -- 5. one number syntax; TSV has no quoting --------------------------------------------


@pytest.mark.parametrize("text", ["٣", "１", "1_000"])
def test_numbers_are_ascii_everywhere(text):
    assert run_cli("grad", "x", "--at", f"x={text}").returncode == 2
    assert run_cli("grad", f"{text}*x", "--at", "x=1").returncode == 2
    result = run_cli("grad", "x", "--points", "-", "--format", "csv", input=f"x\n{text}\n2\n")
    assert result.returncode == 2
    assert result.stdout.splitlines()[1:] == [f"{text},,,x: '{text}' is not a number", "2,2.0,1.0,"]


def test_a_tsv_field_starting_with_a_quote_is_literal():
    result = run_cli("grad", "x", "--points", "-", "--points-format", "tsv", "--format", "jsonl",
                     input='id\tx\n"q\t3\n')  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"value": 3.0' in result.stdout


def test_a_tsv_field_is_written_byte_for_byte():
    fields = '"q\\"', "a,b", "'x'"
    text = "id\tx\n" + "".join(f"{f}\t{i}\n" for i, f in enumerate(fields))
    result = run_cli("grad", "x", "--points", "-", "--points-format", "tsv", "--format", "tsv",
                     input=text)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()[1:]] == list(fields)


def test_tsv_output_escapes_only_what_a_tsv_field_cannot_hold():
    result = run_cli("grad", "-", "--format", "tsv", "--at", "x=2", input="x\t*x\n")
    assert result.stdout.splitlines()[1:] == ["x\\t*x\t4.0\t4.0\t"]


@pytest.mark.parametrize("stray", ['"5', '5"inch', '"a""b'])
def test_a_stray_quote_costs_its_own_record_and_no_other(stray):
    rows = [f"{i},{i}" for i in range(3000)]
    rows[10] = f"{stray},10"
    text = "id,x\n" + "\n".join(rows) + "\n"
    result = run_cli("grad", "x", "--points", "-", "--format", "csv", input=text)
    out = result.stdout.splitlines()[1:]
    assert len(out) == 3000
    expected_ok = [f"{i},{i},{float(i)!r},1.0," for i in range(3000) if i != 10]
    assert [line for i, line in enumerate(out) if i != 10] == expected_ok
    if stray == '5"inch':  # a quote inside an unquoted field is a character
        assert result.returncode == 0 and out[10] == '"5""inch",10,10.0,1.0,'
    else:
        assert result.returncode == 2 and out[10].endswith(
            "is not closed properly within 1000 lines"
        )
        assert "line 12:" in result.stderr


def test_a_quoted_field_that_never_closes_is_bounded_and_costs_one_record():
    from autodiff.features.points import MAX_QUOTED_LINES, PointReader

    lines = ["x,note\n", '1,"open\n'] + [f"{i},n\n" for i in range(2, 3 * MAX_QUOTED_LINES)]
    reader = PointReader(io.StringIO("".join(lines)), "csv", ["x"], {}, chunk_size=100)
    chunks = list(reader)
    assert max(len(c) for c in chunks) <= 100 + MAX_QUOTED_LINES
    assert sum(len(c) for c in chunks) == len(lines) - 1
    assert [i for c in chunks for i in c.errors] == [0]


_ASCII_ONLY = [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}]


@pytest.mark.parametrize("env", _ASCII_ONLY)
@pytest.mark.parametrize(
    ("args", "spelled"),
    extended(
        [
            (("grad", "x*y", "--at", "x=1,y=2", "--format", "table"), "df/dx"),
            (("hessian", "x*y", "--at", "x=1,y=2", "--format", "table"), "d^2f/"),
            (("explain", "x**2", "--at", "x=3"), "n3 -> x"),
            (("explain", "x**2", "--at", "x=3", "--format", "plain"), "->"),
        ],
        3,
        several=True,
    ),
)
def test_a_stream_without_unicode_gets_ascii_spellings(env, args, spelled):
    result = run_cli(*args, input=b"", env={"PYTHONIOENCODING": "", **env})
    assert result.returncode == 0, result.stderr
    assert spelled.encode() in result.stdout
    result.stdout.decode("ascii")  # nothing else slipped through


@pytest.mark.parametrize("env", _ASCII_ONLY)
def test_a_users_character_an_ascii_stream_cannot_hold_is_escaped_not_a_traceback(env):
    text = "note,x\né,1\n".encode()
    env = {"PYTHONIOENCODING": "", **env}
    result = run_cli("grad", "x", "--points", "-", "--format", "csv", input=text, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == rb"\xe9,1,1.0,1.0,"


_EVERY_OUTPUT = [
    ("grad", "x**2", "--at", "x=3"),
    ("grad", "x**2", "--at", "x=3", "--format", "table"),
    ("grad", "x", "--points", "-", "--format", "table"),
    ("grad", "x", "--points", "-", "--format", "jsonl"),
    ("grad", "-", "--at", "x=1", "--format", "table"),
    ("hessian", "x*y", "--at", "x=1,y=2"),
    ("hessian", "x*y", "--at", "x=1,y=2", "--format", "json"),
    ("explain", "x*y", "--at", "x=1,y=2"),
    ("explain", "x*y", "--at", "x=1,y=2", "--format", "json"),
    ("diff", "x**3"),
    ("check", "x**2", "--at", "x=1"),
    ("check", "x**2", "--at", "x=1", "--format", "table"),
    ("graph", "x*y", "--at", "x=1,y=2", "-o", "-", "--format", "dot"),
    ("plot", "sin(x)", "--at", "x=0", "-o", "-"),
    ("--version",),
    ("grad", "--help"),
]


@pytest.mark.parametrize("args", extended(_EVERY_OUTPUT, 4), ids=" ".join)
def test_a_reader_gone_before_the_first_byte_is_exit_141_from_every_command(args):
    # The read end is closed before the command starts: its first write fails,
    # however small the output (a pipe buffer would hide a late close).
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "autodiff", *args], stdout=write_end,
                                stderr=subprocess.PIPE, input=b"x\n1\n", env=cli_env(),
                                timeout=60)  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == b""


_INTERRUPT_AFTER = """
import os, signal, sys, threading, time
from autodiff import entry

delay = float(sys.argv[1])
started = threading.Event()

def on_call(frame, event, arg):
    if event == "call" and frame.f_code is entry.main.__code__:
        sys.setprofile(None)
        started.set()

def interrupt():
    started.wait()
    time.sleep(delay)
    os.kill(os.getpid(), signal.SIGINT)

sys.argv = ["autodiff", "grad", "x**2", "--at", "x=3"]
threading.Thread(target=interrupt, daemon=True).start()
sys.setprofile(on_call)
entry.main()
"""


@pytest.mark.parametrize("delay", extended([0.001, 0.005, 0.02, 0.05, 0.1, 0.2], 2))
def test_ctrl_c_from_the_entry_points_first_statement_on_is_quiet(delay):
    # A real SIGINT, sent while the entry point imports the command line or
    # runs it: what comes before the entry point (the interpreter's own start)
    # is Python's, not ours.
    result = subprocess.run([sys.executable, "-c", _INTERRUPT_AFTER, str(delay)],
                            capture_output=True, text=True, env=cli_env(), timeout=60)  # fmt: skip
    assert result.returncode in (130, 0), result.stderr  # 0: it finished first
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr


@pytest.mark.parametrize("end", ["", "\n"])
def test_a_quote_opened_on_the_last_line_is_an_error_record_not_a_value(end):
    from autodiff.features.points import PointReader

    text = 'x,y\n1,2\n2,"3' + end
    (chunk,) = list(PointReader(io.StringIO(text), "csv", ["x", "y"], {}))
    assert sorted(chunk.errors) == [1]
    assert "is not closed properly" in str(chunk.errors[1])
    assert chunk.values["x"][0] == 1.0 and chunk.values["y"][0] == 2.0


def test_a_grammar_edited_after_compiling_is_compiled_in_memory():
    # The shipped tables no longer match the grammar: Lark compiles it afresh,
    # and the same runtime runs the result, errors worded alike.
    code = (
        "import sys\n"
        "import autodiff.language.grammar_tables as tables\n"
        "tables.GRAMMAR = 'edited'\n"
        "from autodiff import parse\n"
        "print(parse('sin(x)*y + 2').format(), 'lark' in sys.modules)\n"
        "try:\n    parse('x+')\nexcept Exception as error:\n    print(str(error).splitlines()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    )
    assert result.stdout.splitlines() == [
        "sin(x)*y + 2 True",
        "an operator with no right operand: unexpected end of input; expected"
        " '(', '+', '-', a name, a number (line 1, column 3)",
    ]
