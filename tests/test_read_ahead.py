"""A stream's chunks read in a forked child (features/read_ahead.py): the same
chunks, errors and output as one process, errors that cross the pipe intact,
and a child that never outlives the run."""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autodiff.core import errors
from autodiff.features import points
from autodiff.features.lines import LineTooLong, RecordError
from autodiff.features.read_ahead import ReadAhead
from conftest import cli_env, run_cli

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="read-ahead needs os.fork")

# Plain lines (the fast path), then quoted fields, bad numbers, a short row
# and a line past the limit (the careful path), over several chunks.
ROWS = (
    [f"{i * 0.37 - 5},{i % 7 - 3.5},p{i}\n" for i in range(700)]
    + ['1,"2",quoted\n', "x,1,bad number\n", "1\n", "9" * 300 + ",1,long\n", "2,-0,zero\n"]
    + [f"{i * 1e-7},{-i}e3,q{i}\n" for i in range(500)]
)
TEXT = "x,y,name\n" + "".join(ROWS)


def reader(text: str = TEXT) -> points.PointReader:
    return points.PointReader(
        io.StringIO(text, newline=""), "csv", ["x", "y"], {}, chunk_size=128, max_line_length=200
    )


def described(chunk: points.PointChunk) -> tuple[object, ...]:
    return (
        chunk.columns,
        list(chunk.lines),
        [list(f) for f in chunk.fields],
        {n: v.tobytes() for n, v in chunk.values.items()},  # bit for bit, NaN and -0 too
        {i: (type(e), str(e), e.__dict__) for i, e in chunk.errors.items()},
    )


def test_the_child_gives_the_chunks_one_process_reads():
    alone = [described(c) for c in reader()]
    ahead = [described(c) for c in ReadAhead(reader())]
    assert len(alone) > 5 and ahead == alone
    kinds = {kind for c in alone for kind, _, _ in c[4].values()}
    assert LineTooLong in kinds and RecordError in kinds


def test_the_position_comes_from_the_child():
    data = ("x,y,name\n" + "".join(ROWS * 60)).encode()  # more than one block read
    stream = io.BytesIO(data)
    text = io.TextIOWrapper(stream, newline="")
    source = points.PointReader(text, "csv", ["x", "y"], {}, chunk_size=4096)
    ahead = ReadAhead(source, stream.tell)
    seen = [ahead.tell() for _ in ahead]
    assert seen[-1] == len(data) and seen == sorted(seen) and seen[0] < len(data)
    assert stream.tell() < len(data)  # this process never read on


@pytest.mark.parametrize(
    "error",
    [
        errors.UsageError("plain", parameter="wrt", detail="why"),
        errors.MissingValueError("x", ["a", "b"]),
        errors.UnknownVariableError("z", ["x", "y"]),
        errors.LimitError("too many", "max_nodes"),
        errors.ExpressionError("unexpected", "1 +", 3),
        errors.MarkedError("marked", "a b", 2),
        errors.EvaluationError.of_value("log", [-1.0], "is undefined"),
        LineTooLong("the line is longer than 5 characters", "max_line_length"),
        RecordError("expected 2 fields, got 1"),
    ],
)
def test_errors_cross_the_pipe_as_they_were(error):
    back = pickle.loads(pickle.dumps(error, pickle.HIGHEST_PROTOCOL))
    assert type(back) is type(error)
    assert (str(back), back.args, back.__dict__) == (str(error), error.args, error.__dict__)


def failing_after(count: int):
    yield from range(count)
    raise errors.MissingValueError("y", ["x"])


def test_an_error_in_the_child_is_raised_here_after_the_chunks_before_it():
    got = []
    with pytest.raises(errors.MissingValueError) as caught:
        for item in ReadAhead(failing_after(3)):
            got.append(item)
    assert got == [0, 1, 2] and "y" in str(caught.value)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # reaped


def test_a_child_that_is_killed_is_an_error_not_a_hang():
    def endless():
        yield os.getpid()
        while True:
            yield 0

    ahead = iter(ReadAhead(endless()))
    child = next(ahead)
    assert child != os.getpid()
    os.kill(child, signal.SIGKILL)
    with pytest.raises(errors.UsageError, match="stopped unexpectedly"):
        for _ in ahead:
            pass


def test_a_child_killed_in_the_middle_of_a_message_is_an_error_too():
    def dies_while_sending():
        import threading

        yield os.getpid()
        # Killed (as by the OOM killer) while its next message is half in the pipe.
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGKILL)).start()
        yield b"x" * 10_000_000

    ahead = iter(ReadAhead(dies_while_sending()))
    next(ahead)
    time.sleep(0.8)  # the pipe is full and the child dead before this reads on
    with pytest.raises(errors.UsageError, match="stopped unexpectedly"):
        next(ahead)


PARENT = """
import os, sys, time
from autodiff.features.read_ahead import ReadAhead

def endless():
    yield os.getpid()
    while True:
        time.sleep(0.05)  # a source that never ends, as `tail -f`
    yield None

for child in ReadAhead(endless()):
    print(child, flush=True)
"""


def test_the_child_ends_when_its_parent_is_killed_outright():
    """SIGKILL runs no clean-up in the parent; the child must not read on for ever."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=cli_env()
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the reading child outlived its parent")


def test_stopping_early_takes_the_child_down():
    def endless():
        yield os.getpid()
        while True:
            yield np.zeros(1000)

    ahead = iter(ReadAhead(endless()))
    child = next(ahead)
    next(ahead)
    ahead.close()  # what a loop left by an exception does
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


CSV_ARGS = ["grad", "sin(x*y) + log(x)", "--format", "csv"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "tsv"])
def test_the_command_writes_the_same_bytes_with_one_core_or_two(tmp_path, fmt):
    """Records, error records, messages on stderr and the exit status: --threads
    1 reads in this process, 2 (and the default, with two cores) in a child."""
    source = tmp_path / "points.csv"
    source.write_text("x,y,name\n" + "".join(ROWS * 30))  # 36,150 rows: two chunks
    runs = [
        run_cli("grad", "sin(x*y) + log(x)", "--points", str(source), "--format", fmt, *extra)
        for extra in (["--threads", "1"], ["--threads", "2"] if fmt == "csv" else [])
    ]
    assert runs[0].returncode == 2 and "line 703: error" in runs[0].stderr
    assert len(runs[0].stdout.splitlines()) == len(ROWS) * 30 + (fmt != "jsonl")  # a header
    one, two = runs
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr)


def test_a_pipe_read_ahead_keeps_every_record_in_order():
    rows = "".join(f"{i},{i % 5}\n" for i in range(1, 150_001))
    run = run_cli(*CSV_ARGS, "--points", "-", input="x,y\n" + rows)
    assert run.returncode == 0, run.stderr
    out = run.stdout.splitlines()
    assert len(out) == 150_001 and [line.split(",")[0] for line in out[1:]] == [
        str(i) for i in range(1, 150_001)
    ]


def group(leader: int) -> list[int]:
    """The processes of ``leader``'s process group, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == leader and fields[0] != "Z":
                found.append(int(entry))
    return found


def test_ctrl_c_while_the_child_reads_a_slow_pipe_leaves_no_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiff", *CSV_ARGS, "--points", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,  # never full: the run is never held up by it
        stderr=subprocess.PIPE,
        env=cli_env(),
        start_new_session=True,  # the signal goes to its group, as a terminal's would
    )
    assert process.stdin is not None
    # More than a block (the header is read with the first one): the fork
    # comes after it, and the child then waits on the open pipe.
    process.stdin.write(b"x,y\n" + b"1,2\n" * 400_000)
    process.stdin.flush()
    deadline = time.monotonic() + 20
    while len(group(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # started and forked: the child blocks on the pipe
    assert len(group(process.pid)) == 2
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # the group is empty: no child left behind
