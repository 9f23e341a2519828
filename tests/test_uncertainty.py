"""Uncertainty propagation (issue 18): against the `uncertainties` package on
random formulas, qalc's figure, Monte Carlo on linear formulas, and the
command's formats and errors."""

from __future__ import annotations

import json
import math
import random

import pytest
import uncertainties
from uncertainties import umath

from autodiff import parse
from autodiff.features.uncertainty import lab_rounding, monte_carlo, propagate
from conftest import extended, run_cli, run_on_terminal

# Each piece as autodiff's text and as a function of `uncertainties` numbers.
UNARY = [
    ("sin({})", umath.sin),
    ("cos({})", umath.cos),
    ("exp(({})/5)", lambda u: umath.exp(u / 5)),
    ("atan({})", umath.atan),
    ("sqrt(1 + ({})**2)", lambda u: umath.sqrt(1 + u**2)),
    ("log(2 + ({})**2)", lambda u: umath.log(2 + u**2)),
]
BINARY = [
    ("({} + {})", lambda a, b: a + b),
    ("({} - {})", lambda a, b: a - b),
    ("({})*({})", lambda a, b: a * b),
    ("({})/(3 + ({})**2)", lambda a, b: a / (3 + b**2)),
]


def formula(rng: random.Random, depth: int, names: list[str]):
    if depth == 0:
        name = rng.choice(names)
        return name, lambda v: v[name]
    if rng.random() < 0.4:
        text, make = rng.choice(UNARY)
        inner, f = formula(rng, depth - 1, names)
        return text.format(inner), lambda v: make(f(v))
    text, make = rng.choice(BINARY)
    (a, fa), (b, fb) = formula(rng, depth - 1, names), formula(rng, depth - 1, names)
    return text.format(a, b), lambda v: make(fa(v), fb(v))


@pytest.mark.parametrize("seed", extended(list(range(30)), keep=10))
def test_agrees_with_the_uncertainties_package(seed):
    rng = random.Random(seed)
    names = ["a", "b", "c"]
    text, f = formula(rng, 3, names)
    text = f"{text} + a*b*c"  # every name occurs
    values = {n: rng.uniform(-2, 2) for n in names}
    sigmas = {n: rng.uniform(0.001, 0.3) for n in names if rng.random() < 0.8}
    measured = {
        n: uncertainties.ufloat(v, sigmas[n]) if n in sigmas else v for n, v in values.items()
    }
    want = f(measured) + measured["a"] * measured["b"] * measured["c"]
    found = propagate(parse(text), values, sigmas)
    assert math.isclose(found.value, want.nominal_value, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(found.sigma, want.std_dev, rel_tol=1e-9, abs_tol=1e-12), text
    assert sum(c.share for c in found.budget) == pytest.approx(1.0) or found.sigma == 0
    assert [c.contribution for c in found.budget] == sorted(
        (c.contribution for c in found.budget), reverse=True
    )


def test_correlations_agree_with_the_uncertainties_package():
    x, y = uncertainties.correlated_values_norm([(1.0, 0.1), (2.0, 0.2)], [[1, 0.3], [0.3, 1]])
    want = x / y + x * y
    found = propagate(
        parse("x/y + x*y"), {"x": 1.0, "y": 2.0}, {"x": 0.1, "y": 0.2}, {("x", "y"): 0.3}
    )
    assert math.isclose(found.sigma, want.std_dev, rel_tol=1e-12)


def test_qalcs_figure_and_the_lab_rounding():
    found = propagate(parse("x*sin(y)"), {"x": 2.0, "y": 1.0}, {"x": 0.1, "y": 0.05})
    # qalc: (2±0.1)*sin(1±0.05) = 1.68±0.10
    assert lab_rounding(found.value, found.sigma) == "1.68 ± 0.10"
    assert lab_rounding(9.8106521, 0.1096) == "9.81 ± 0.11"
    assert lab_rounding(123456.0, 1234.0) == "123500 ± 1200"
    # The float 1.2345e-9 is 1.23450000000000001e-9: half-even on the exact value.
    assert lab_rounding(1.2345e-9, 1.2e-11) == "(1.235 ± 0.012)e-09"
    assert lab_rounding(3.0, 0.0) == "3 ± 0"


def test_monte_carlo_agrees_on_a_linear_formula():
    expression = parse("2*x - 3*y + 1")
    linear = propagate(expression, {"x": 1.0, "y": 2.0}, {"x": 0.5, "y": 0.25})
    sampled = monte_carlo(linear, expression, 200_000, seed=7)
    mc = sampled.monte_carlo
    assert mc is not None and not sampled.disagrees
    # The sample's standard error: sigma/sqrt(N) for the mean, sigma/sqrt(2N) for sigma.
    assert abs(mc.mean - linear.value) < 5 * linear.sigma / math.sqrt(200_000)
    assert abs(mc.sigma - linear.sigma) < 5 * linear.sigma / math.sqrt(400_000)
    again = monte_carlo(linear, expression, 200_000, seed=7).monte_carlo
    assert again == mc  # seeded: the same figures every run
    correlated = propagate(
        parse("x + y"), {"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 1.0}, {("x", "y"): 0.5}
    )
    assert correlated.sigma == pytest.approx(math.sqrt(3))
    mc = monte_carlo(correlated, parse("x + y"), 200_000, 1).monte_carlo
    assert mc is not None and mc.sigma == pytest.approx(math.sqrt(3), rel=0.01)


def test_monte_carlo_flags_a_formula_too_nonlinear():
    expression = parse("exp(x)")
    found = monte_carlo(propagate(expression, {"x": 0.0}, {"x": 1.0}), expression, 50_000, 0)
    assert found.disagrees  # e**N(0, 1) has mean 1.65 and sigma 2.16; linear: 1 ± 1


# -- the command ------------------------------------------------------------------


PENDULUM = ["4*pi**2*L/T**2", "--at", "L=1.00±0.01,T=2.006±0.005"]


def test_the_pendulum_in_every_format(tmp_path):
    result = run_cli("uncertainty", *PENDULUM, "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(record) == {"expr", "at", "sigmas", "value", "sigma", "grad", "budget"}
    assert [c["name"] for c in record["budget"]] == ["L", "T"]
    assert sum(c["share"] for c in record["budget"]) == pytest.approx(1)
    g = 4 * math.pi**2 / 2.006**2
    assert record["value"] == pytest.approx(g, rel=1e-15)
    assert record["sigma"] == pytest.approx(math.hypot(g * 0.01, 2 * g / 2.006 * 0.005))
    table = run_cli("uncertainty", *PENDULUM, "--format", "table").stdout
    assert "f = 9.81 ± 0.11" in table.splitlines()
    assert table.splitlines()[0] == "f = 4*pi**2*L/T**2  at  L = 1 ± 0.01, T = 2.006 ± 0.005"
    plain = run_cli("uncertainty", *PENDULUM).stdout.splitlines()
    assert plain[0].startswith("value\t9.81") and plain[1].startswith("sigma\t0.109")
    csv = run_cli("uncertainty", *PENDULUM, "--format", "csv").stdout.splitlines()
    assert csv[0] == "L,T,L_sigma,T_sigma,value,sigma,d_L,d_T"
    ascii_form = run_cli("uncertainty", "4*pi**2*L/T**2", "--at", "L=1.00+/-0.01,T=2.006+/-0.005")
    assert ascii_form.stdout == "\n".join(plain) + "\n"


def test_monte_carlo_from_the_command_line_warns_when_far_from_linear():
    near = run_cli("uncertainty", "2*x + y", "--at", "x=1±0.1,y=2±0.1", "--monte-carlo", "20000")
    assert near.returncode == 0 and near.stderr == ""
    far = run_cli(
        "uncertainty", "exp(x)", "--at", "x=0±1", "--monte-carlo", "20000", "--format", "json"
    )
    assert far.returncode == 0
    assert "autodiff: warning: Monte Carlo gives" in far.stderr
    assert json.loads(far.stdout)["monte_carlo"]["samples"] == 20000


def test_points_with_sigma_columns(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(
        "run,L,L_sigma,T,T_sigma\n1,1.0,0.01,2.006,0.005\n2,0.5,,1.42,0.01\n3,1,0.01,0,0\n"
    )
    result = run_cli(
        "uncertainty",
        "4*pi**2*L/T**2",
        "--points",
        str(path),
        "--at",
        "L=1±0.002",
        "--format",
        "csv",
    )
    assert result.returncode == 1  # row 3 divides by 0
    lines = result.stdout.splitlines()
    assert lines[0] == "run,L,L_sigma,T,T_sigma,value,sigma,d_L,d_T,error"
    first = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    single = json.loads(run_cli("uncertainty", *PENDULUM, "--format", "json").stdout)
    assert float(first["sigma"]) == single["sigma"]
    second = dict(zip(lines[0].split(","), lines[2].split(","), strict=True))
    g = 4 * math.pi**2 * 0.5 / 1.42**2  # L_sigma empty: the --at figure, 0.002
    assert float(second["sigma"]) == pytest.approx(math.hypot(g / 0.5 * 0.002, 2 * g / 1.42 * 0.01))
    assert lines[3].startswith("3,1,0.01,0,0,,,,,") and "line 4" in result.stderr


@pytest.mark.parametrize(
    ("args", "said", "caret_under"),
    [
        (["x", "--at", "x=1±-0.1"], "an uncertainty is not negative", "-0.1"),
        (["x", "--at", "x=1±"], "± needs the uncertainty after it", ""),
        (["x", "--at", "x=1+/-"], "+/- needs the uncertainty after it", ""),
        (["x*y", "--at", "x=1±0.1,y=2±0.1", "--correlation", "x:y=1.5"], "between -1 and 1", "1.5"),
        (
            ["x*y", "--at", "x=1±0.1,y=2±0.1", "--correlation", "x:z=0.5"],
            "z is not a variable",
            "z",
        ),
        (["x*y", "--at", "x=1±0.1,y=2±0.1", "--correlation", "x=0.5"], "expected NAME:NAME=R", "x"),
        (["x", "--at", "x=±0.1"], "± needs the measured value before it", "±0.1"),
        (["x", "--at", "y=1,x= +/-0.1"], "+/- needs the measured value before it", "+/-"),
    ],
)
def test_bad_uncertainties_are_refused_with_a_caret(args, said, caret_under):
    result = run_cli("uncertainty", *args)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("autodiff: error:") and said in lines[0]
    shown, caret = lines[1], lines[2]
    assert caret.strip() == "^"
    assert shown[caret.index("^") :].startswith(caret_under) or not caret_under


def test_an_exact_input_and_no_uncertainty_at_all():
    found = propagate(parse("x*y"), {"x": 2.0, "y": 3.0}, {"x": 0.1})
    assert [c.name for c in found.budget] == ["x"] and found.sigma == pytest.approx(0.3)
    none = run_cli("uncertainty", "x*y", "--at", "x=2,y=3", "--format", "table")
    assert none.returncode == 0 and "f = 6 ± 0" in none.stdout


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Each term's square alone would underflow (1e-340) or overflow (1e340).
        ({"x": (1e-170, 1e-170), "y": (1.0, 1.0)}, math.sqrt(2) * 1e-170),
        ({"x": (1e170, 1e170), "y": (1.0, 1e-10)}, 1e170 * math.sqrt(1 + 1e-20)),
        ({"x": (3e-200, 4e-200), "y": (1.0, 0.0)}, 4e-200),
    ],
)
def test_sigma_neither_underflows_nor_overflows(at, expected):
    point = {n: v for n, (v, _) in at.items()}
    sigmas = {n: s for n, (_, s) in at.items()}
    found = propagate(parse("x*y"), point, sigmas)
    assert found.sigma == pytest.approx(expected, rel=1e-15)
    assert math.fsum(c.share for c in found.budget) == pytest.approx(1.0)


def test_inconsistent_correlations_are_refused_without_monte_carlo():
    # Each pair is possible; the three together are not (the matrix has a
    # negative eigenvalue), and the linear sigma alone would not notice.
    result = run_cli(
        "uncertainty", "x + y + z", "--at", "x=1±1,y=1±1,z=1±1",
        "--correlation", "x:y=0.9", "--correlation", "y:z=0.9", "--correlation", "x:z=-0.9",
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert "the correlations given are not consistent" in result.stderr
    fine = run_cli(
        "uncertainty", "x + y + z", "--at", "x=1±1,y=1±1,z=1±1",
        "--correlation", "x:y=0.9", "--correlation", "y:z=0.9", "--correlation", "x:z=0.9",
    )  # fmt: skip
    assert fine.returncode == 0, fine.stderr


def test_monte_carlo_work_is_bounded():
    big = "+".join(f"sin(x*{k})" for k in range(1, 60))
    result = run_cli("uncertainty", big, "--at", "x=1±0.1", "--monte-carlo", "10000000")
    assert (result.returncode, result.stdout) == (2, "")
    assert "more than the limit of 200,000,000" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("expr", ["abs(x)", "x**2", "x**2*y"])
def test_a_flat_input_is_named_in_a_warning(expr):
    result = run_cli("uncertainty", expr, "--at", "x=0±0.5,y=2±0.1", "--format", "json")
    assert result.returncode == 0
    flat = [c["name"] for c in json.loads(result.stdout)["budget"] if c["partial"] == 0]
    assert flat
    assert f"the slope of f in {', '.join(flat)} is 0 here" in result.stderr
    sloped = run_cli("uncertainty", "x**2", "--at", "x=1±0.5")
    assert "slope" not in sloped.stderr


def test_a_points_error_record_says_its_point_and_sigmas_apart(tmp_path):
    result = run_cli(
        "uncertainty", "log(x)", "--points", "-", "--format", "jsonl",
        input="x,x_sigma\n1,0.1\n0,0.2\n",
    )  # fmt: skip
    assert result.returncode == 1
    failed = json.loads(result.stdout.splitlines()[1])
    assert failed["at"] == {"x": 0.0} and failed["sigmas"] == {"x": 0.2}
    assert "log(0) is undefined" in failed["error"]


def test_a_variable_named_like_a_sigma_column_is_refused_with_points():
    result = run_cli("uncertainty", "x + x_sigma", "--points", "-", input="x,x_sigma\n1,0.1\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert "the column x_sigma is the uncertainty of x" in result.stderr


@pytest.mark.parametrize("at", ["x=0±1e200", "x=1e308±1e300", "x=0±1e-200"])
def test_monte_carlo_keeps_its_figures_in_range(at):
    result = run_cli("uncertainty", "x", "--at", at, "--monte-carlo", "1000", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "RuntimeWarning" not in result.stderr
    found = json.loads(result.stdout)
    mc = found["monte_carlo"]
    assert math.isfinite(mc["mean"]) and mc["sigma"] == pytest.approx(found["sigma"], rel=0.1)


def test_monte_carlo_warns_for_chance_only_beyond_the_sampling_error():
    # A linear formula: the samples differ from the linear figures by chance alone.
    calls = [
        run_cli("uncertainty", "x", "--at", "x=1±0.1", "--monte-carlo", str(n), "--seed", str(s))
        for n, s in [(100, 0), (100, 1), (100, 2), (5, 3), (2, 4)]
    ]
    assert all(c.returncode == 0 and "warning" not in c.stderr for c in calls)
    flat = run_cli("uncertainty", "x**2", "--at", "x=0±0.1", "--monte-carlo", "1000")
    assert "Monte Carlo gives" in flat.stderr  # linear sigma 0, the samples spread


@pytest.mark.parametrize(
    ("value", "sigma", "shown"),
    [
        (1.0, 5e-324, "1.0 ± 4.9e-324"),
        (1e-320, 5e-324, "(9.9999 ± 0.0049)e-321"),
        (0.1, 0.0, "0.1 ± 0"),
        (6.0, 0.0, "6 ± 0"),
        (9.810652192067229, 0.10962088956423055, "9.81 ± 0.11"),
        (1.68, 0.0996, "1.68 ± 0.10"),
        (2.675, 0.005, "2.6750 ± 0.0050"),
        (1.2345e-7, 1.2e-9, "(1.235 ± 0.012)e-07"),
        # Powers of ten whose float is just below them (1e-07 is 9.99...e-08).
        (1e-7, 1.2e-9, "(1.000 ± 0.012)e-07"),
        (1e-6, 1e-8, "(1.000 ± 0.010)e-06"),
        (1e23, 1e21, "(1.000 ± 0.010)e+23"),
    ],
)
def test_lab_rounding_at_the_edges_of_the_float_range(value, sigma, shown):
    assert lab_rounding(value, sigma) == shown


def test_a_subnormal_sigma_in_the_table():
    result = run_cli("uncertainty", "x", "--at", "x=1±5e-324", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "f = 1.0 ± 4.9e-324" in result.stdout


def test_a_variable_named_like_an_output_column_is_refused_in_csv():
    result = run_cli("uncertainty", "x*d_x", "--at", "x=1±0.1,d_x=2", "--format", "csv")
    assert (result.returncode, result.stdout) == (2, "")
    assert "would name 'd_x' twice" in result.stderr
    taylor = run_cli(
        "taylor", "c0*y", "--at", "c0=1,y=2", "--wrt", "y", "--order", "1", "--format", "csv"
    )
    assert taylor.returncode == 2 and "would name 'c0' twice" in taylor.stderr


def test_points_honour_strict_and_escape_the_file_name(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x\n1\n")
    strict = run_cli("uncertainty", "x", "--points", str(path), "--at", "z=5", "--strict")
    assert strict.returncode == 2 and "--at gives z" in strict.stderr
    odd = tmp_path / "a\x1b[31mred.csv"
    odd.write_text("x,x_sigma\n1,0.1\n")
    code, shown = run_on_terminal("uncertainty", "x", "--points", str(odd), "--format", "table")
    assert code == 0 and b"\x1b[31m" not in shown and b"\\x1b[31m" in shown


def test_plain_points_spell_out_control_bytes(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('x,x_sigma,note\n1,0.1,"a\x1b]0;title\x07\nb"\n')
    result = run_cli("uncertainty", "x", "--points", str(path), "--format", "plain")
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "note\ta\\x1b]0;title\\x07\\nb" in result.stdout


def test_rounding_noise_is_no_disagreement():
    result = run_cli("uncertainty", "(x + 0.1) - x", "--at", "x=1±0.1", "--monte-carlo", "1000")
    assert result.returncode == 0 and "Monte Carlo gives" not in result.stderr


def test_a_stream_hears_each_refusal_and_warning_once(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x,x_sigma\n" + "0,0.1\n" * 50)
    big = "+".join(f"sin(x*{k})" for k in range(1, 60))
    limit = run_cli("uncertainty", big, "--points", str(path), "--monte-carlo", "10000000")
    assert (limit.returncode, limit.stdout) == (2, "")
    assert limit.stderr.count("error") == 1 and "draw fewer samples" in limit.stderr
    flat = run_cli("uncertainty", "x**2", "--points", str(path), "--format", "csv")
    assert flat.returncode == 0 and len(flat.stdout.splitlines()) == 51
    assert flat.stderr.count("warning") == 1 and "line 2:" in flat.stderr


def test_an_unreadable_record_says_at_null(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x,x_sigma\n1,0.1\n1,2,3\n")
    result = run_cli("uncertainty", "x", "--points", str(path), "--format", "jsonl")
    failed = json.loads(result.stdout.splitlines()[1])
    assert (
        failed["at"] is None and failed["sigmas"] is None and "expected 2 fields" in failed["error"]
    )
