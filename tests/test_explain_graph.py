"""autodiff explain --graph: the trace on stdout, the graph's picture in a file."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_cli

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_AT = ["--at", "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"]


def test_graph_as_dot_beside_the_trace(tmp_path):
    result = run_cli("explain", NEURON, *NEURON_AT, "--graph", "neuron.dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == run_cli("explain", NEURON, *NEURON_AT).stdout
    dot = (tmp_path / "neuron.dot").read_text()
    # Every node carries the data and the grad that the trace computed, and
    # the name the trace gives it (n3, not x1*w1).
    trace = json.loads(run_cli("explain", NEURON, *NEURON_AT, "--format", "json").stdout)
    labels = re.findall(r'\[label="\{ (\w+) \|', dot)
    assert sorted(labels) == sorted(node["name"] for node in trace["forward"])
    assert "grad -1.5000" in dot and "grad 0.5000" in dot and "data 0.7071" in dot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.dot"]


@pytest.mark.dot
def test_graph_as_svg(tmp_path):
    result = run_cli("explain", "x*y", "--at", "x=2,y=5", "--graph", "g.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "g.svg").read_text()


@pytest.mark.parametrize("target", ["g.txt", "-"])
def test_graph_needs_a_picture_file(tmp_path, target):
    result = run_cli("explain", "x", "--at", "x=1", "--graph", target, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"--graph {target}: the file name must end in .svg" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_graph_errors_leave_stdout_empty(tmp_path):
    result = run_cli("explain", "x", "--at", "x=1", "--graph", "no/such/dir/g.svg", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "cannot write no/such/dir/g.svg: no such directory" in result.stderr
