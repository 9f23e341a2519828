"""Every example in the README and docs/ runs, and prints what the page says.

```console blocks: each `$ command` line runs in bash (with `autodiff` being
this checkout), in a scratch folder holding a copy of docs/examples/; the
lines after it, up to the next `$ ` line, are its expected output (stdout
and stderr together). A line `...` matches any number of lines. A command
must exit 0, so an example of an error ends with `; echo "exit $?"`.
```pycon blocks run as doctests. ```sh blocks run whole in bash and must exit 0,
except those marked ```sh no-run (installs, benchmarks that take minutes).
"""

from __future__ import annotations

import doctest
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, shell_env

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(kind: str) -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) == kind and "no-run" not in match.group(0).split("\n", 1)[0]:
                line = text.count("\n", 0, match.start()) + 1
                found.append((page.relative_to(ROOT).as_posix(), line, match.group(2)))
    return found


def console_examples() -> list[tuple[str, str, list[str]]]:
    examples = []
    for page, line, body in blocks("console"):
        current: tuple[str, list[str]] | None = None
        for row in body.splitlines():
            if row.startswith("$ "):
                if current:
                    examples.append((f"{page}:{line}", *current))
                current = (row[2:], [])
            elif current is not None:
                current[1].append(row.rstrip())
        if current:
            examples.append((f"{page}:{line}", *current))
    return examples


def _draws(command: str) -> bool:
    """Whether the command has Graphviz lay out a picture (DOT text needs no dot)."""
    return bool(re.search(r"autodiff (graph|explain)\b.*(\.svg|\.png|\.pdf|-o -(?! --format dot))",
                          command))  # fmt: skip


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "\n".join(".*?" if e == "..." else re.escape(e) for e in expected)
    return re.fullmatch(pattern, "\n".join(actual), re.S) is not None


_ran: set[tuple[str, str]] = set()  # console examples run in this worker's sandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    env = shell_env(folder, {"PYTHONUNBUFFERED": "1"})
    work = folder / "work"
    examples = ROOT / "docs" / "examples"
    if examples.exists():
        shutil.copytree(examples, work)
    else:
        work.mkdir()
    return work, env


@pytest.mark.parametrize(
    ("where", "command", "expected"),
    [
        # A block's examples run on one worker, in order: the later ones read
        # what the earlier wrote, and nothing runs twice.
        pytest.param(
            *example,
            marks=[pytest.mark.xdist_group(example[0])]
            + ([pytest.mark.dot] if _draws(example[1]) else []),
        )
        for example in console_examples()
    ],
    ids=lambda v: str(v)[:60],
)
def test_console_example(where, command, expected, sandbox):
    work, env = sandbox
    # Workers share no sandbox: the commands before this one in its block may
    # have run elsewhere, and this one may read what they wrote. Run them here
    # first (their output is checked by their own cases).
    earlier = [c for w, c, _ in console_examples() if w == where]
    for before in earlier[: earlier.index(command)]:
        if (where, before) not in _ran:
            subprocess.run(["bash", "-c", before], cwd=work, env=env, capture_output=True)
    _ran.add((where, command))
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", "{ " + command + "\n} 2>&1"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    actual = [line.rstrip() for line in result.stdout.splitlines()]
    assert result.returncode == 0, (
        f"{where}: `{command}` exited {result.returncode}\n{result.stdout}"
    )
    assert matches(expected, actual), f"{where}: `{command}` printed:\n" + "\n".join(actual)


@pytest.mark.parametrize(("page", "line", "body"), blocks("sh"), ids=lambda v: str(v)[:40])
def test_sh_block_runs(page, line, body, sandbox):
    work, env = sandbox
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", body],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{page}:{line}: {result.stderr}"


@pytest.mark.parametrize(("page", "line", "body"), blocks("pycon"), ids=lambda v: str(v)[:40])
def test_python_example(page, line, body):
    parser = doctest.DocTestParser()
    test = parser.get_doctest(body, {}, f"{page}:{line}", page, line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{page}:{line}: {runner.failures} doctest failures (see output)"


def test_there_are_examples():
    assert len(console_examples()) >= 10
