"""autodiff graph through a real subprocess: formats, streams, files, errors, determinism."""

from __future__ import annotations

import html
import re

import pytest

from conftest import ROOT, run_cli

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_AT = "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"
GOLDEN = ROOT / "tests" / "golden" / "neuron.dot"

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph", "gv": b"digraph"}


def svg_texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.mark.dot
def test_the_neuron_as_svg(tmp_path):
    result = run_cli("graph", NEURON, "--at", NEURON_AT, "-o", "neuron.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "wrote neuron.svg (10 values)\n"
    texts = svg_texts((tmp_path / "neuron.svg").read_text())
    output = texts.index("tanh(x1*w1 + x2*w2 + b)")
    assert texts[output + 1 : output + 3] == ["data 0.7071", "grad 1.0000"]
    grads = {name: texts[texts.index(name) + 2] for name in ("x1", "w1", "x2", "w2", "b")}
    assert grads == {
        "x1": "grad -1.5000",
        "w1": "grad 1.0000",
        "x2": "grad 0.5000",
        "w2": "grad 0.0000",
        "b": "grad 0.5000",
    }


@pytest.mark.dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot", "gv"])
def test_the_format_comes_from_the_extension(tmp_path, fmt):
    result = run_cli("graph", "x*y + sin(x)", "--at", "x=1,y=2", "-o", f"g.{fmt}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"g.{fmt}").read_bytes().startswith(MAGIC[fmt])
    assert result.stderr == f"wrote g.{fmt} (5 values)\n"


@pytest.mark.dot
def test_format_option_wins_over_the_extension(tmp_path):
    result = run_cli("graph", "x", "-o", "picture", "--format", "PNG", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote picture (1 value)\n"
    assert (tmp_path / "picture").read_bytes().startswith(MAGIC["png"])


@pytest.mark.dot
def test_stdout_gets_svg_by_default_and_dot_on_request(tmp_path):
    result = run_cli("graph", "x*y + sin(x)", "--at", "x=1,y=2", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("<?xml") and result.stdout.rstrip().endswith("</svg>")
    assert result.stderr == ""
    result = run_cli("graph", "x*y + sin(x)", "--at", "x=1,y=2", "-o", "-", "--format", "dot")
    assert result.stdout.startswith("digraph autodiff {")
    assert 'label="{ x | data 1.0000 | grad 2.5403 }"' in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_structure_alone_without_a_point():
    result = run_cli("graph", "4*x**2 - 2*x + 5", "-o", "-", "--format", "dot")
    assert result.returncode == 0, result.stderr
    assert "data" not in result.stdout and "grad" not in result.stdout
    assert 'label="{ 4*x**2 - 2*x + 5 }"' in result.stdout


def test_options_reach_the_picture():
    result = run_cli(
        "graph",
        NEURON,
        "--at",
        NEURON_AT,
        "-o",
        "-",
        "--format",
        "dot",
        "--rankdir",
        "tb",
        "--no-grad",
        "--decimals",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert "rankdir=TB" in result.stdout
    assert "grad" not in result.stdout
    assert 'label="{ b | data 6.88 }"' in result.stdout


def test_an_expression_starting_with_minus_is_not_an_option():
    result = run_cli("graph", "-x**2", "-o", "-", "--format", "dot")
    assert result.returncode == 0, result.stderr
    assert 'label="{ -x**2 }"' in result.stdout


# -- determinism ------------------------------------------------------------


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_dot_is_byte_identical_to_the_golden_file(seed):
    result = run_cli(
        "graph",
        NEURON,
        "--at",
        NEURON_AT,
        "-o",
        "-",
        "--format",
        "dot",
        env={"PYTHONHASHSEED": seed},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode() == GOLDEN.read_bytes()


@pytest.mark.dot
def test_svg_is_byte_identical_run_to_run(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        run_cli("graph", NEURON, "--at", NEURON_AT, "-o", f"{seed}.svg", cwd=tmp_path,
                env={"PYTHONHASHSEED": seed})  # fmt: skip
        outputs.append((tmp_path / f"{seed}.svg").read_bytes())
    assert outputs[0] == outputs[1]


@pytest.mark.dot
def test_a_pdf_carries_no_creation_date(tmp_path):
    # cairo dates a PDF to the second; blanked, two runs give the same bytes
    # whenever they run.
    outputs = []
    for run in ("1", "2"):
        run_cli("graph", NEURON, "--at", NEURON_AT, "-o", f"{run}.pdf", cwd=tmp_path)
        outputs.append((tmp_path / f"{run}.pdf").read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith(b"%PDF") and b"/CreationDate" not in outputs[0]


@pytest.mark.dot
def test_a_pdf_is_dated_by_source_date_epoch(tmp_path):
    run_cli("graph", "x", "-o", "g.pdf", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert b"/CreationDate (D:20231114221320Z)" in (tmp_path / "g.pdf").read_bytes()


# -- files ------------------------------------------------------------------


def test_output_is_required():
    result = run_cli("graph", "x")
    assert result.returncode == 2
    assert "--output" in result.stderr and result.stdout == ""


def test_a_directory_is_not_a_file(tmp_path):
    (tmp_path / "pictures").mkdir()
    for name in ("pictures", "pictures.svg"):
        (tmp_path / name).mkdir(exist_ok=True)
        result = run_cli("graph", "x", "-o", name, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr == f"autodiff: error: cannot write {name}: it is a directory\n"
        assert result.stdout == ""


def test_a_missing_directory(tmp_path):
    result = run_cli("graph", "x", "-o", "no/such/g.svg", cwd=tmp_path)
    assert result.returncode == 1
    assert "no such directory" in result.stderr
    (tmp_path / "afile").write_text("")
    result = run_cli("graph", "x", "-o", "afile/g.svg", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot write afile/g.svg" in result.stderr


def test_an_unknown_format_is_a_usage_error(tmp_path):
    result = run_cli("graph", "x", "-o", "g.jpeg", cwd=tmp_path)
    assert result.returncode == 2
    assert "-o g.jpeg: the file name must end in .svg, .png, .pdf, .dot or .gv" in result.stderr
    result = run_cli("graph", "x", "-o", "g.svg", "--format", "bmp", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown --format 'bmp'" in result.stderr
    result = run_cli("graph", "x", "-o", "-", "--format", "png", cwd=tmp_path)
    assert result.returncode == 2
    assert "-o - writes text" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.dot
def test_overwriting_is_atomic_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "g.svg"
    target.write_text("old")
    result = run_cli("graph", "x+1", "-o", "g.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(MAGIC["svg"])
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]
    assert oct(target.stat().st_mode & 0o777) != "0o600"


def test_an_error_leaves_the_old_file_untouched(tmp_path):
    target = tmp_path / "g.svg"
    target.write_text("old")
    result = run_cli("graph", "log(x)", "--at", "x=-1", "-o", "g.svg", cwd=tmp_path)
    assert result.returncode == 1
    result = run_cli("graph", "x", "-o", "g.svg", cwd=tmp_path, env={"PATH": str(tmp_path / "e")})
    assert result.returncode == 1
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


# -- without Graphviz -------------------------------------------------------


@pytest.fixture
def no_dot(tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return {"PATH": str(empty)}


@pytest.mark.parametrize("name", ["g.dot", "g.gv"])
def test_dot_text_needs_no_graphviz(tmp_path, no_dot, name):
    result = run_cli("graph", NEURON, "--at", NEURON_AT, "-o", name, cwd=tmp_path, env=no_dot)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_bytes() == GOLDEN.read_bytes()


@pytest.mark.parametrize("args", [["-o", "g.svg"], ["-o", "g.png"], ["-o", "-"]])
def test_pictures_without_graphviz_say_how_to_install_it(tmp_path, no_dot, args):
    result = run_cli("graph", "x*y", *args, cwd=tmp_path, env=no_dot)
    assert result.returncode == 1
    assert result.stdout == ""
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in result.stderr
    assert "DOT text needs nothing: -o graph.dot" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["empty-bin"]


# -- bad input and limits ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["4x", "-o", "-"], 2, "autodiff: syntax error: missing operator before 'x'"),
        (["x+y", "--at", "x=1", "-o", "-"], 2, "no value for variable 'y'; add --at y=VALUE"),
        (["log(x)", "--at", "x=0", "-o", "-"], 1, "log(0) is undefined"),
        (["sqrt(x)", "--at", "x=0", "-o", "-"], 1, "the derivative of sqrt at 0 is not finite"),
        (["x", "-o", "-", "--rankdir", "RL"], 2, "unknown rankdir 'RL'"),
        (["x", "-o", "-", "--decimals", "18"], 2, "--decimals"),
        # --precision means significant digits everywhere; the picture counts decimals.
        (["x", "-o", "-", "--precision", "3"], 2, "--precision"),
        (["x", "-o", "-", "--max-nodes", "0"], 2, "--max-nodes"),
    ],
)
def test_bad_input(args, code, message):
    result = run_cli("graph", *args)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_a_huge_graph_is_refused_with_a_way_out(tmp_path):
    huge = "+".join(["x"] * 2501)
    result = run_cli("graph", huge, "-o", "g.svg", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "autodiff: error: the graph has 2501 values, more than the limit of 2500; write DOT "
        "text instead (-o graph.dot), or raise the limit with --max-nodes N\n"
    )
    result = run_cli("graph", huge, "-o", "g.dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote g.dot (2501 values)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_max_nodes_applies_to_every_format(tmp_path):
    result = run_cli("graph", "x*y", "-o", "g.dot", "--max-nodes", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert "the expression has more than 2 nodes" in result.stderr
    result = run_cli("graph", "x*y", "-o", "g.dot", "--max-nodes", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.dot
def test_a_variable_used_300_times_renders(tmp_path):
    expression = " + ".join(f"x*{k}" for k in range(1, 301))
    result = run_cli("graph", expression, "--at", "x=2", "-o", "g.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    texts = svg_texts((tmp_path / "g.svg").read_text())
    assert texts[texts.index("x") + 1 : texts.index("x") + 3] == ["data 2.0000", "grad 45150.0000"]
