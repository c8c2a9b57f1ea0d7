"""The hostile-input corpus (issue 12): every case a clear error or a correct result.

More than 200 cases in eight families (files, targets, features, arguments, model files,
predict-time data, interruption, concurrency) plus the command line, each run as its own
test. None may end in a traceback, a silent wrong number, a hang or a loss of the user's
data; a session's summary line counts them (printed by this folder's ``conftest.py``).

The interruption family saves one trained model 50 times over another while a SIGINT lands
at a random moment of the save; the folder must hold the old model or the new one, loadable.
"""

from __future__ import annotations

import pytest

from tests.robustness import cases_cli, cases_features, cases_files, cases_models, runner, world
from tests.robustness.cases import CASES, OK, Outcome

OUTCOMES: list[Outcome] = []

for register in (cases_files.files_cases, cases_files.targets_cases,
                 cases_features.features_cases, cases_features.arguments_cases,
                 cases_features.determinism_cases, cases_models.model_files_cases,
                 cases_models.predict_cases, cases_cli.interruption_cases,
                 cases_cli.concurrency_cases, cases_cli.cli_cases):
    register()
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def corpus_world(request):
    names = {item.callspec.params["name"] for item in request.session.items
             if getattr(item, "callspec", None) is not None and "name" in item.callspec.params}
    runner.start_children(names)  # their imports overlap the first cases
    world.write_files()
    world.write_models()
    yield
    world.cleanup()


@pytest.mark.parametrize("name", list(BY_NAME))
def test_case(corpus_world, name):
    case = BY_NAME[name]
    if case.nobody and case.argv is not None and runner.ROOT and not runner.nobody_can_import():
        pytest.skip("user nobody cannot reach the installed packages (a private folder above "
                    "them), so the command cannot run as nobody here")
    outcome = runner.run_case(case)
    OUTCOMES.append(outcome)
    assert outcome.cls == OK, f"{outcome.cls}: {outcome.detail}"
