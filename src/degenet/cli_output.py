"""How the ``degenet`` command speaks on stderr: one line per error or warning, and the
exit statuses (2: a usage or input error; 3: under ``--strict``, a model that did not
converge). :class:`Commands` makes click's own usage errors one line too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from degenet import errors
from degenet.errors import DegenetError, one_line

stderr = Console(stderr=True, soft_wrap=True)

# Exit statuses: 2 for a usage or input error (one line on stderr), 3 under --strict when a
# fit did not converge (diverged, no better than the baseline, stopped short).
USAGE_ERROR, NOT_CONVERGED = 2, 3


# click's ClickException (its UsageError: a bad option, bad value, missing argument; a file
# it cannot open): typer vendors click from 0.2x on and re-exports only BadParameter, a
# subclass, from every version.
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class Commands(TyperGroup):
    """typer's group of commands, with click's usage errors as one line, like degenet's own.

    typer prints a usage line, a hint and a framed panel (five lines) for a missing
    argument or an unknown option; every degenet error is one ``error: ...`` line, in the
    console script and under typer's CliRunner alike. A bare ``degenet`` prints its help.
    """

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _CLICK_ERROR as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # a bare `degenet`: its help
                typer.echo(error.ctx.get_help())
                code = 0
            else:
                message = " ".join(error.format_message().split()).rstrip(".")
                where = (f"; see `{error.ctx.command_path} --help`"
                         if getattr(error, "ctx", None) is not None else "")
                say("error", message + where)
                code = error.exit_code  # 2 for a usage error
        except typer.Abort:  # Ctrl-C at a prompt
            stderr.print("aborted", highlight=False)
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def say(kind: str, message) -> None:
    """One line on stderr: ``error: ...`` or ``warning: ...``; the message is plain text
    (a term such as ``g[b]`` is not read as markup)."""
    style = "bold red" if kind == "error" else "yellow"
    stderr.print(f"[{style}]{kind}:[/] {escape(one_line(message))}", highlight=False)


def fail(message: str):
    say("error", message)
    raise typer.Exit(USAGE_ERROR)


def exit_if_strict(strict: bool, shown: list) -> None:
    """Under ``--strict``, a ConvergenceWarning ends the command with status 3."""
    convergence = vars(errors).get("ConvergenceWarning")  # made when one was raised
    if strict and convergence is not None and any(issubclass(c, convergence) for c in shown):
        say("error", "a model did not converge (see the warnings above); --strict makes that "
                     "exit status 3")
        raise typer.Exit(NOT_CONVERGED)


def write_predictions(frame, output: Path) -> None:
    """``degenet predict -o``: a Parquet or CSV file; one line when it cannot be written."""
    try:
        if output.suffix.lower() == ".parquet":
            frame.to_parquet(output, index=False)
        else:
            frame.to_csv(output, index=False)
    except OSError as error:
        raise DegenetError(f"cannot write {output}: "
                           f"{(error.strerror or type(error).__name__).lower()}") from None
