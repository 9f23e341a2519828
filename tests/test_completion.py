"""Shell completion the Typer way (issue 14, item 7): scripts for bash, zsh
and fish, the words a shell is offered, and nothing of it built when a
command runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import cli_env, run_cli, shell_env

# Without it, --install-completion and --show-completion detect the shell
# from the process tree; with it they take the shell as their value.
EXPLICIT = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}

BASH_TRY = r"""
source <(autodiff --show-completion bash)
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_autodiff_completion autodiff
printf '%s\n' "${COMPREPLY[@]}"
"""


def bash_offers(tmp_path, *words: str) -> list[str]:
    """What bash offers for the last of ``words``, through the installed script."""
    result = subprocess.run(
        ["bash", "-c", BASH_TRY, "bash", "autodiff", *words],
        capture_output=True,
        text=True,
        env=shell_env(tmp_path, EXPLICIT),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        (["gr"], ["grad", "graph"]),
        (
            [""],
            [
                "grad",
                "jacobian",
                "graph",
                "explain",
                "check",
                "plot",
                "hessian",
                "diff",
                "taylor",
                "uncertainty",
            ],
        ),
        (["grad", "--form"], ["--format"]),
        (
            ["grad", "x", "--format", ""],
            ["table", "plain", "json", "jsonl", "csv", "tsv", "parquet"],
        ),
        (["grad", "x", "--format", "j"], ["json", "jsonl"]),
        (["grad", "x", "--points-format", "t"], ["tsv"]),
        (["graph", "x", "--rankdir", ""], ["LR", "TB"]),
        (["graph", "x", "-o", "a.svg", "--format", "p"], ["png", "pdf"]),
        (["--col"], ["--color"]),
        (["--color", "a"], ["auto", "always"]),
    ],
)
def test_bash_completes_commands_options_and_values(tmp_path, words, offered):
    assert bash_offers(tmp_path, *words) == offered


@pytest.mark.parametrize("words", [["graph", "x", "-o", ""], ["grad", "x", "--points", ""]])
def test_file_options_leave_bash_to_complete_files(tmp_path, words):
    # Nothing offered, and the script asks bash for its default (file names) then.
    assert bash_offers(tmp_path, *words) == []
    script = run_cli("--show-completion", "bash", env=EXPLICIT).stdout
    assert "complete -o default -F _autodiff_completion autodiff" in script


def test_zsh_and_fish_are_offered_the_same_words():
    zsh = run_cli(
        env={"_AUTODIFF_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "autodiff grad --fo"}
    )
    assert zsh.returncode == 0 and '"--format"' in zsh.stdout
    files = run_cli(
        env={"_AUTODIFF_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "autodiff graph x -o "}
    )
    assert files.stdout.strip() == "_files"
    fish = run_cli(
        env={
            "_AUTODIFF_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "autodiff grad x --format j",
        }
    )
    assert fish.returncode == 0 and fish.stdout.split() == ["json", "jsonl"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o default"), ("zsh", "compdef"), ("fish", "complete --command autodiff")],
)
def test_show_completion_prints_each_shells_script(shell, marker):
    result = run_cli("--show-completion", shell, env=EXPLICIT)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout and "_AUTODIFF_COMPLETE" in result.stdout


def test_install_completion_writes_to_the_users_own_files(tmp_path):
    result = run_cli("--install-completion", "bash", env={**EXPLICIT, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "autodiff.sh"
    assert "_AUTODIFF_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def test_the_overview_help_lists_completion_and_a_command_builds_none_of_it():
    assert "--install-completion" in run_cli("--help").stdout
    assert "--show-completion" in run_cli("--help").stdout
    # In a fresh interpreter: the command that runs is built without the
    # completion options (building them is what start-up would pay); main()
    # exits, so the built command is read in an atexit hook.
    code = (
        "import atexit, sys\n"
        "from autodiff.cli import _group\n"
        "def report():\n"
        "    names = {n for p in _group('grad').params for n in getattr(p, 'opts', ())}\n"
        "    sys.stderr.write('OPTIONS ' + ' '.join(sorted(names)))\n"
        "atexit.register(report)\n"
        "from autodiff.cli import main\n"
        "main(['grad', 'x', '--at', 'x=1', '--format', 'json'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    options = result.stderr.split("OPTIONS ", 1)[1].split()
    assert "--color" in options
    assert "--install-completion" not in options and "--show-completion" not in options


@pytest.mark.parametrize("cword", ["abc", "-1", "", "1\x1b[31m"])
def test_a_word_index_that_is_not_one_is_a_usage_error(cword):
    env = {"_AUTODIFF_COMPLETE": "complete_bash", "COMP_WORDS": "autodiff gr", "COMP_CWORD": cword}
    result = run_cli(env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert "COMP_CWORD must be a word index" in result.stderr and "\x1b" not in result.stderr
