"""The corpus's one-line summary, printed at the end of any session that ran its cases."""

import sys

from tests.robustness.cases import summary_line


def pytest_terminal_summary(terminalreporter):
    module = sys.modules.get("tests.robustness.test_corpus")
    outcomes = getattr(module, "OUTCOMES", None)
    if outcomes:
        cpu = sum(outcome.cpu for outcome in outcomes)
        terminalreporter.write_line(f"{summary_line(outcomes)} ({cpu:.0f} CPU s in cases)")
