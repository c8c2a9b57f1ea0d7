"""The hostile-input corpus's case record: what runs, what a correct degenet does with it.

Every case is a piece of code against the public API (``import degenet``) or a ``degenet``
command line, and declares what a correct degenet does with it:

- ``error``:   a DegenetError (CLI: exit status 2) whose message is ONE line, names the value
               (the fragments in ``names``), has no numpy repr and no raw bytes; no Traceback;
- ``result``:  a value checked against an independent computation (numpy lstsq, statsmodels,
               a hand-written formula), never against degenet itself;
- ``warning``: a result plus a warning of a given class whose message holds a fragment.

``error|result`` and ``error|warning`` accept either. Each actual outcome is classified:

    ok             as declared
    traceback      an exception that is not a DegenetError (CLI: "Traceback" on stderr)
    silent-wrong   a wrong number, a wrong table, or bad input accepted without a word
    hang           past the case's time limit, or unbounded memory (peak RSS +40 MB reading a
                   48 MiB bomb)
    data-loss      a user's file overwritten, or no loadable model left behind
    bad-message    the right kind of error, but several lines / not naming the value / numpy
                   reprs / raw bytes
    refused        a clear error where a result was due

Written first against degenet 0.1 (the groundwork of issue 12), where 108 of 414 cases
were not ok; the cases are data, grouped by family of input in the ``cases_*`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

OK, TRACEBACK, SILENT, HANG, LOSS, BADMSG, REFUSED = (
    "ok", "traceback", "silent-wrong", "hang", "data-loss", "bad-message", "refused")
CLASSES = (OK, TRACEBACK, SILENT, HANG, LOSS, BADMSG, REFUSED)


@dataclass
class Case:
    name: str                       # "family/what"
    expect: str                     # "error", "result", "warning", "error|result", ...
    code: str = ""                  # Python run with exec in a fresh namespace; sets `result`
    argv: list | None = None        # a CLI case: the arguments after `degenet`
    names: tuple = ()               # fragments an error message must hold (case-insensitive)
    check: Callable | None = None   # (namespace) -> None when right, else what is wrong
    warns: tuple | None = None      # (warning class, message fragment)
    post: Callable | None = None    # integrity check run whatever happened -> data-loss
    wrong: str = SILENT             # the class of an unexpected success or a failed check
    sklearn: bool = False           # a ValueError raised inside scikit-learn counts as clear
    timeout: float = 30.0           # seconds (CLI cases: 180)
    memory: bool = False            # classify a peak-RSS rise over MEMORY_LIMIT_MB as a hang
    nobody: bool = False            # run as an unprivileged user (permission cases under root)
    env: dict = field(default_factory=dict)
    issue: str | None = None        # the issue-12 example this case reproduces
    right: str = ""                 # what a correct degenet does (for the report)
    runner: Callable | None = None  # a custom in-process runner (interruption, concurrency)
    process: bool = False           # a CLI case that needs its own process
    fsize: int | None = None        # RLIMIT_FSIZE of the CLI process: a disk that fills up

    @property
    def family(self) -> str:
        return self.name.split("/")[0]


@dataclass
class Outcome:
    case: Case
    cls: str
    detail: str
    seconds: float
    cpu: float = 0.0  # CPU seconds: this process's for in-process cases, the child's for CLI


CASES: list[Case] = []


def add(name: str, expect: str, code: str = "", **options) -> Case:
    case = Case(name, expect, code=code, **options)
    assert not any(c.name == name for c in CASES), name
    CASES.append(case)
    return case


def cli(name: str, expect: str, argv: list, code: str = "", **options) -> Case:
    options.setdefault("timeout", 180.0)  # a process importing Keras on a loaded machine
    return add(name, expect, code, argv=[str(a) for a in argv], **options)


def summary_line(outcomes: list[Outcome]) -> str:
    counts = {cls: sum(o.cls == cls for o in outcomes) for cls in CLASSES}
    shown = [f"{counts[c]} {c}" for c in CLASSES[:6]]
    shown += [f"{counts[c]} {c}" for c in CLASSES[6:] if counts[c]]
    return f"corpus: {len(outcomes)} cases, " + ", ".join(shown)
