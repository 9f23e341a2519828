"""The command line: thin typer commands over the library.

Each command lives in a module of its own; this module builds the app, reads
the command line so that expressions are never mistaken for options, and is
the one place where library errors become messages and exit codes. Only the
command that runs is imported and built (all of them for the overview help).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
import typer.main

from .._version import __version__
from ..core.errors import (
    AutodiffError,
    ExpressionError,
    MarkedError,
    MissingValueError,
    UsageError,
)
from ..core.safe_text import visible, visible_lines
from ..render.encoding import spell_what_cannot_be_encoded
from .status import ExitStatus, exit_status, replace_closed_streams, silence_stdout, wording

app = typer.Typer(
    name="autodiff",
    help="Differentiate expressions: values, gradients and pictures of the computation graph.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["--help", "-h"]},
)


def _ends_quietly(command: Callable[..., None]) -> Callable[..., None]:
    """A command whose reader went away exits 141, and Ctrl-C exits 130, silently.

    Inside the command, because Click would turn both into exit 1 ("Aborted!").
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(ExitStatus.BROKEN_PIPE) from None
        except KeyboardInterrupt:
            raise typer.Exit(ExitStatus.INTERRUPTED) from None

    return run


# Each command is the function of its name in the module of its name, in
# the order `autodiff --help` lists them. Importing all of them and letting
# typer build all of them took a third of a short run's start-up.
COMMANDS = (
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
)


def _register(names: Sequence[str]) -> None:
    for name in names:
        module = importlib.import_module(f".{name}", __name__)
        command = getattr(module, name)
        # The docstring's first line, whole: click would cut it at 45 characters.
        summary = (command.__doc__ or "").strip().splitlines()[0]
        app.command(name, no_args_is_help=True, short_help=summary)(_ends_quietly(command))


def _range_in_words(self: Any) -> str:
    """``0 to 17``, ``at least 1``: click writes ``0<=x<=17``, and here x is a variable."""
    low, high = self.min, self.max
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"{'more than' if self.min_open else 'at least'} {low}"
    return f"{'less than' if self.max_open else 'at most'} {high}"


def _word_the_ranges() -> None:
    from typer._click import types

    types._NumberRangeBase._describe_range = _range_in_words  # type: ignore[method-assign]


def _show_version(value: bool) -> None:
    if value:
        try:
            print(f"autodiff {__version__}", flush=True)
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(ExitStatus.BROKEN_PIPE) from None
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    color: Annotated[
        str,
        typer.Option(
            "--color",
            metavar="WHEN",
            help="Colour on a terminal: auto, always (for less -R) or never. Machine formats"
            " never have colour. Given anywhere on the command line; beats NO_COLOR.",
            autocompletion=lambda incomplete: [
                mode for mode in ("auto", "always", "never") if mode.startswith(incomplete)
            ],
        ),
    ] = "auto",
) -> None:
    """Differentiate expressions: values, gradients and pictures of the computation graph."""
    from .common import COLOUR_MODES, set_colour

    if color not in COLOUR_MODES:
        raise UsageError(f"--color is one of {', '.join(COLOUR_MODES)}, not '{color}'")
    set_colour(color)


def report(error: AutodiffError) -> None:
    """One clear message on stderr; a syntax error also shows where."""
    if isinstance(error, ExpressionError):
        where = f"{error.source}:{error.line}:{error.column}: " if error.source else ""
        message = visible_lines(error.message)
        print(f"autodiff: {visible_lines(where)}{_red('syntax error:')} {message}", file=sys.stderr)
        print(error.pointer(), file=sys.stderr)
    else:
        print(f"autodiff: {_red('error:')} {visible_lines(wording(error))}", file=sys.stderr)
        if isinstance(error, MarkedError):
            print(error.pointer(), file=sys.stderr)


def _red(text: str) -> str:
    """``text`` in red where stderr shows colour: what went wrong, at a glance."""
    from .common import colour_allowed

    return f"\x1b[31m{text}\x1b[0m" if colour_allowed(sys.stderr) else text


def arrange_arguments(args: Sequence[str], group: Any) -> list[str]:
    """Put a command's options first and everything else after ``--``.

    A token is an option only when it equals a declared option name (or is
    ``--name=value``); anything else, ``-x**2`` and ``-w1*o`` included, is an
    argument. Click alone would read a leading '-' as an option.
    """
    args, colour = _take_colour(list(args))
    head: list[str] = colour
    while args and args[0].startswith("-") and args[0] != "--":
        head.append(args.pop(0))  # the app's own options: --help, --version
    if not args:
        return head
    command = group.get_command(None, args[0])
    head.append(args.pop(0))
    if command is None:
        return head + args
    options = _declared_options(command)
    chosen: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            rest.extend(args[i:])
            break
        name, has_value, _ = token.partition("=")
        if token in options:
            if options[token] and (i == len(args) or args[i] in options or args[i] == "--"):
                raise UsageError(f"{token} needs a value{_choices(command, token)}")
            chosen.append(token)
            if options[token] and i < len(args):
                chosen[-1] = f"{token}={args[i]}" if token.startswith("--") else token
                if not token.startswith("--"):
                    chosen.append(args[i])
                i += 1
        elif has_value and name.startswith("--") and options.get(name):
            chosen.append(token)
        else:
            _refuse_a_typo(name, options, head[-1])
            rest.append(token)
    return head + chosen + (["--", *rest] if rest else [])


def _take_colour(args: list[str]) -> tuple[list[str], list[str]]:
    """``--color WHEN`` wherever it is (before ``--``), as the app's option: like
    grep's, it is given after the command as often as before it."""
    rest: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        if token == "--color":
            if i + 1 == len(args):
                raise UsageError("--color needs a value (one of auto, always, never)")
            found = [f"--color={args[i + 1]}"]
            i += 2
            continue
        if token.startswith("--color="):
            found = [token]
        else:
            rest.append(token)
        i += 1
    return rest, found


def _refuse_a_typo(token: str, options: dict[str, bool], command: str) -> None:
    """``--fromat`` is a mistyped ``--format``, not an expression.

    Only a ``--word`` of four letters or more within two edits of a declared
    option: ``--x`` and ``-x**2`` stay expressions, as the rule says.
    """
    if not re.fullmatch(r"--[A-Za-z][A-Za-z-]{3,}", token):
        return
    near = [o for o in options if o.startswith("--") and _edits(token, o) <= 2]
    if near:
        closest = min(near, key=lambda o: _edits(token, o))
        raise UsageError(
            f"no such option '{token}'; did you mean '{closest}'? (an expression that starts"
            f" with -- goes after --: autodiff {command} -- '{token}')"
        )


def _edits(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one): --fromat to --format is 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _choices(command: Any, option: str) -> str:
    """`` (one of table, plain, json)`` when the option's help lists its values."""
    for param in command.params:
        if option in getattr(param, "opts", ()):
            listed = re.match(r"One of ([^.]+?)\.", param.help or "")
            if listed:
                return f" (one of {listed.group(1)})"
            return f" ({param.metavar})" if param.metavar else ""
    return ""


def _declared_options(command: Any) -> dict[str, bool]:
    """Every option name of a command, mapped to whether it takes a value."""
    names: dict[str, bool] = {"--help": False, "-h": False}
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes_value = not (param.is_flag or param.count)
        for name in (*param.opts, *param.secondary_opts):
            names[name] = takes_value
    return names


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    replace_closed_streams()
    for stream in (sys.stdout, sys.stderr):
        spell_what_cannot_be_encoded(stream)
    try:
        _run(list(args))
    except KeyboardInterrupt:
        raise
    except BrokenPipeError:
        silence_stdout()
        sys.exit(ExitStatus.BROKEN_PIPE)
    except OSError as error:
        # Every file the tool reads or writes by name reports its own errors;
        # what reaches here is standard output failing (a full disk, a closed
        # descriptor), or, against that rule, a named file: then it is named.
        silence_stdout()
        name = error.filename  # str or bytes as the call was given it (None: no file)
        if isinstance(name, (str, bytes, os.PathLike)):
            name = os.fsdecode(name)
        what = "write output" if name is None else f"use {visible(str(name))}"
        print(f"autodiff: error: cannot {what}: {error.strerror or error}", file=sys.stderr)
        sys.exit(ExitStatus.ERROR)
    except Exception as error:  # a bug: one line, and the traceback only when asked for
        silence_stdout()
        if os.environ.get("AUTODIFF_DEBUG"):
            traceback.print_exc()
        print(
            f"autodiff: internal error: {type(error).__name__}: {visible_lines(str(error))[:200]}"
            " (AUTODIFF_DEBUG=1 shows the traceback; please report it)",
            file=sys.stderr,
        )
        sys.exit(ExitStatus.ERROR)


@functools.cache
def _group(command: str | None) -> Any:
    """The click group, with only ``command`` in it when that names one.

    Built once per process and command: typer reads each command's signature
    and annotations (4 ms a command), which repeated calls of main() (the
    in-process fuzzers, a notebook) would otherwise pay each time.

    Shell completion (--install-completion, --show-completion, and the
    shell asking for the words that fit, which runs ``autodiff`` with no
    arguments) comes only with the whole group: a command that runs never
    imports it (tests/test_completion.py checks that).
    """
    app.registered_commands.clear()
    app._add_completion = command is None or command not in COMMANDS
    _register([command] if command in COMMANDS and command is not None else COMMANDS)
    _word_the_ranges()
    return typer.main.get_command(app)


def _command_name(args: Sequence[str]) -> str | None:
    """The command the arguments run: the first that is not an option of the app."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--color":
            skip = True  # its value is not the command
            continue
        if not arg.startswith("-"):
            return arg
        if arg == "--":
            return None
    return None


def _run(args: list[str]) -> None:
    from typer._click import exceptions as click_errors

    name = _command_name(args)
    cword = os.environ.get("COMP_CWORD")
    if os.environ.get("_AUTODIFF_COMPLETE") and cword is not None and not cword.isdigit():
        # Typer reads it with int(): a shell sets it, a stray value is a usage mistake.
        mistake = UsageError(f"COMP_CWORD must be a word index, got {visible(cword)!r}")
        report(mistake)
        sys.exit(exit_status(mistake))
    group = _group(name)
    try:
        # Not standalone: click's own complaints come back here, to be said
        # in the tool's one style rather than click's three-line usage block.
        code = group.main(
            arrange_arguments(args, group), prog_name="autodiff", standalone_mode=False
        )
    except AutodiffError as error:
        if isinstance(error, MissingValueError):
            error = _as_option_mistake(error, args, group.get_command(None, name or ""))
        report(error)
        sys.exit(exit_status(error))
    except click_errors.NoArgsIsHelpError as help_shown:
        help_shown.show()
        sys.exit(ExitStatus.USAGE)
    except click_errors.UsageError as mistake:
        command = mistake.ctx.command_path if mistake.ctx is not None else "autodiff"
        print(
            f"autodiff: {_red('error:')} {visible_lines(_click_message(mistake))}", file=sys.stderr
        )
        print(f"try '{command} --help'", file=sys.stderr)
        sys.exit(ExitStatus.USAGE)
    except click_errors.ClickException as error:
        print(
            f"autodiff: {_red('error:')} {visible_lines(error.format_message())}", file=sys.stderr
        )
        sys.exit(error.exit_code)
    except SystemExit as done:
        # Click turns a reader that went away while it wrote help into exit 1,
        # leaving its flush-pacifying wrapper on stdout as the only sign.
        if done.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            sys.exit(ExitStatus.BROKEN_PIPE)
        sys.stdout.flush()  # here, so that a full disk is reported, not met at exit
        raise
    sys.stdout.flush()
    if code:
        sys.exit(code)


def _click_message(error: Any) -> str:
    """click's complaint in the tool's words: what is wrong with which option."""
    from typer._click import exceptions as click_errors

    param = getattr(error, "param", None)
    if isinstance(error, click_errors.NoSuchOption):
        near = f"; did you mean '{error.possibilities[0]}'?" if error.possibilities else ""
        return f"no such option '{error.option_name}'{near}"
    if isinstance(error, click_errors.MissingParameter) and param is not None:
        if param.param_type_name == "option":
            return f"missing option {' / '.join(sorted(param.opts, key=len))}"
        return f"missing {param.human_readable_name}"
    if isinstance(error, click_errors.BadParameter) and param is not None:
        option = max(param.opts, key=len) if param.opts else param.human_readable_name
        kind = getattr(param.type, "name", "")
        low, high = getattr(param.type, "min", None), getattr(param.type, "max", None)
        given = re.match(r"'?(.*?)'? is not (?:a valid|in the range)", error.message)
        if kind.startswith(("int", "float")):
            what = "a whole number" if kind.startswith("int") else "a number"
            if low is not None and high is not None:
                what += f" from {low} to {high}"
            elif low is not None:
                what += f" of at least {low}"
            elif high is not None:
                what += f" of at most {high}"
            got = f", got '{given.group(1)}'" if given else ""
            return f"{option} must be {what}{got}"
        return f"{option}: {error.message.rstrip('.')}"
    message = str(error.format_message()).rstrip(".")
    return message[:1].lower() + message[1:]


def _as_option_mistake(
    error: MissingValueError, args: Sequence[str], command: Any
) -> AutodiffError:
    """``autodiff grad --verbose --at x=1``: say that --verbose was read as the expression."""
    for token in (f"--{error.name}", f"-{error.name}"):
        if token in args and command is not None:
            names = sorted(o for o in _declared_options(command) if o.startswith("--"))
            return UsageError(
                f"'{token}' is not an option of autodiff {command.name}, so it was read as the"
                f" expression, and {error.name} has no value; the options are {', '.join(names)}"
            )
    return error
