"""autodiff plot: samples with gaps, the pictures, and the command's errors."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from autodiff import parse
from autodiff.core.errors import EvaluationError, UsageError
from autodiff.features.curve import sample
from conftest import cli_env, extended, run_cli


def test_samples_f_and_its_derivative():
    curve = sample(parse("4*x**2 - 2*x + 5"), "x", -10.0, 10.0, {})
    assert len(curve.x) == 400 and curve.x[0] == -10.0 and curve.x[-1] == 10.0
    np.testing.assert_allclose(curve.value, 4 * curve.x**2 - 2 * curve.x + 5, rtol=1e-15)
    np.testing.assert_allclose(curve.slope, 8 * curve.x - 2, rtol=1e-15, atol=1e-13)


def test_undefined_points_are_nan_not_errors():
    curve = sample(parse("log(x)*y"), "x", -10.0, 10.0, {"y": 2.0})
    negative = curve.x <= 0
    assert np.isnan(curve.value[negative]).all() and np.isnan(curve.slope[negative]).all()
    np.testing.assert_allclose(curve.value[~negative], 2 * np.log(curve.x[~negative]))
    np.testing.assert_allclose(curve.slope[~negative], 2 / curve.x[~negative])
    assert curve.fixed == {"y": 2.0}


def test_a_value_without_a_slope_keeps_the_value():
    curve = sample(parse("sqrt(x)"), "x", 0.0, 1.0, {}, samples=3)
    assert list(curve.value) == [0.0, np.sqrt(0.5), 1.0]
    assert np.isnan(curve.slope[0]) and curve.slope[2] == 0.5


def test_sample_errors():
    with pytest.raises(EvaluationError, match="undefined everywhere on x from -3 to -1"):
        sample(parse("log(x)"), "x", -3.0, -1.0, {})
    with pytest.raises(UsageError, match="empty"):
        sample(parse("x"), "x", 1.0, 1.0, {})
    with pytest.raises(UsageError, match=r"^wrt y: not a variable"):
        sample(parse("x"), "y", 0.0, 1.0, {})
    with pytest.raises(UsageError, match=r"^samples must be between 2"):
        sample(parse("x"), "x", 0.0, 1.0, {}, samples=1)


def _curve_paths(svg: str) -> list[str]:
    """The 'd' of each path drawn in f's colour (the curve first, then the legend)."""
    pattern = r'<path d="([^"]*)"[^>]*style="[^"]*stroke: #1f77b4'
    return re.findall(pattern, svg, re.S)


def test_svg_on_stdout_is_deterministic_and_has_a_gap():
    args = ("plot", "sqrt(x**2 - 4)*y", "--at", "y=2", "-o", "-")
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert first.stdout.startswith("<?xml") and "</svg>" in first.stdout
    assert first.stdout == second.stdout
    # Undefined for |x| < 2: f is two pieces, each starting with a move, no line across.
    assert _curve_paths(first.stdout)[0].count("M") == 2
    assert "<!-- f = sqrt(x**2 - 4)*y   (y = 2) -->" in first.stdout
    assert "<dc:date>" not in first.stdout


@pytest.mark.parametrize(
    ("name", "magic"),
    extended([("f.svg", b"<?xml"), ("f.png", b"\x89PNG"), ("f.pdf", b"%PDF")], 1, several=True),
)
def test_files_by_extension(tmp_path, name, magic):
    result = run_cli(
        "plot", "sin(x)", "--range=-pi:pi", "--samples", "50", "-o", name, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == f"wrote {name} (50 samples of f and df/dx)\n"
    assert (tmp_path / name).read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left


def test_wrt_and_the_other_variables():
    result = run_cli("plot", "x*y", "--wrt", "y", "--at", "x=3", "--range", "0:1", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert "<!-- f = x*y   (x = 3) -->" in result.stdout
    assert "<!-- y -->" in result.stdout  # the x axis is y


def test_a_failed_plot_leaves_an_existing_file_alone(tmp_path):
    target = tmp_path / "f.svg"
    target.write_text("before")
    result = run_cli("plot", "log(x)", "--range", "-2:-1", "-o", "f.svg", cwd=tmp_path)
    assert result.returncode == 1
    assert target.read_text() == "before"


def test_matplotlib_is_imported_only_for_a_plot():
    code = "import sys, autodiff.cli; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    extended(
        [
            (["x"], 2, "autodiff: error: missing option -o / --output"),
            (["x", "-o", "f.txt"], 2, "-o f.txt: the file name must end in .svg, .png or .pdf"),
            (["x", "--range", "3", "-o", "-"], 2, "bad --range '3': expected LOW:HIGH"),
            (["x", "--range", "a:b", "-o", "-"], 2, "bad --range 'a:b'"),
            (["x", "--range", "2:1", "-o", "-"], 2, "--range 2:1 is empty"),
            (["x*y", "-o", "-"], 2, "no value for variable 'y'; add --at y=VALUE"),
            (["3", "-o", "-"], 2, "the expression has no variable to plot against"),
            (["log(x)", "--range", "-3:-1", "-o", "-"], 1, "f is undefined everywhere"),
            (
                ["x", "-o", "no/such/dir/f.svg"],
                1,
                "cannot write no/such/dir/f.svg: no such directory",
            ),
            (["x", "--samples", "1", "-o", "-"], 2, "--samples must be between 2"),
        ],
        5,
        several=True,
    ),
)
def test_cli_errors(tmp_path, args, code, message):
    result = run_cli("plot", *args, cwd=tmp_path)
    assert result.returncode == code
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_range_wider_than_the_largest_float_is_refused(tmp_path):
    out = tmp_path / "p.svg"
    result = run_cli("plot", "sin(x)", "--range=-1e308:1e308", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr == (
        "autodiff: error: bad --range '-1e308:1e308': the interval is wider than 1.8e308\n"
    )
    assert not out.exists()


# -- poles (issue 14, item 12) --------------------------------------------------


def gaps(values) -> int:
    """How many runs of NaN the samples hold: each is a break in the line."""
    missing = np.isnan(values)
    return int(np.sum(missing[1:] & ~missing[:-1]) + missing[0])


def test_the_line_breaks_at_each_pole_and_the_axis_fits_the_bulk():
    curve = sample(parse("tan(x)"), "x", -10, 10, {})
    poles = int(np.sum(np.abs(np.arange(-7, 7) * np.pi + np.pi / 2) < 10))
    assert gaps(curve.value) == poles == 6
    assert curve.clipped and curve.ylim is not None
    low, high = curve.ylim
    assert -20 < low < 0 < high < 60  # not the +-10^4 of the samples beside the poles
    inverse = sample(parse("1/x"), "x", -10, 10, {})
    assert gaps(inverse.value) == 1


def test_a_curve_without_poles_keeps_every_sample_in_view():
    curve = sample(parse("4*x**2 - 2*x + 5"), "x", -10, 10, {})
    assert (curve.ylim, curve.clipped) == (None, False)
    assert gaps(curve.value) == 0
    steep = sample(parse("exp(x)"), "x", -10, 10, {})
    assert gaps(steep.value) == 0  # steep is not a pole: no jump against the slope


def test_ylim_is_the_axis_and_what_lies_beyond_is_said():
    curve = sample(parse("x"), "x", -10, 10, {}, ylim=(-5.0, 5.0))
    assert (curve.ylim, curve.clipped) == ((-5.0, 5.0), True)


@pytest.mark.parametrize(
    ("ylim", "code", "message"),
    [("-5:5", 0, "wrote t.svg"), ("5:1", 2, "LOW must be less than HIGH"), ("a", 2, "LOW:HIGH")],
)
def test_ylim_on_the_command_line(tmp_path, ylim, code, message):
    result = run_cli("plot", "tan(x)", "--ylim", ylim, "-o", "t.svg", cwd=tmp_path)
    assert result.returncode == code
    assert message in result.stderr
