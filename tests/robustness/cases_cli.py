"""Corpus cases that need processes: interrupted saves, racing saves, the command line."""

from __future__ import annotations

import io
import json

from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd

from degenet import ConvergenceWarning, DataWarning
from tests.robustness.cases import HANG, LOSS, add, cli
from tests.robustness.references import (close_problem, glm_check, lin_check, lstsq_predict,
                                         lstsq_ref, mn_check, unchanged, loads_as, glm_ref,
                                         design_ref)
from tests.robustness.world import D, M, MODELS, base, num

from tests.robustness.cases_models import lin_pred
from tests.robustness.runner import concurrent_outcome, sigint_outcome, SIGINT_ROUNDS, CONCURRENT_ROUNDS

def interruption_cases() -> None:
    for i in range(SIGINT_ROUNDS):
        add(f"interruption/sigint-during-save-{i:02d}", "result",
            f"# child process: fit.save(folder) over a saved model, SIGINT at a random moment "
            f"(round {i}), then degenet.load(folder)",
            runner=lambda case, i=i: sigint_outcome(case, i),
            issue="replacing a model is not atomic: Ctrl-C during the save leaves neither",
            right="the folder always holds the old model or the new one, loadable")


def concurrency_cases() -> None:
    for r in range(CONCURRENT_ROUNDS):
        add(f"concurrency/two-processes-save-{r}", "result",
            f"# two child processes call fit.save(same_folder) at the same instant (round {r})",
            runner=lambda case, r=r: concurrent_outcome(case, r),
            issue="two processes saving to one folder leave a model that does not load, and "
                  "both report success",
            right="one complete model and a clear DegenetError for the other process")



# == the CLI ==================================================================================

def cli_json(n) -> dict:
    return json.loads(n.stdout)


def cli_cases() -> None:
    cli("cli/version", "result", ["--version"],
        check=lambda n: None if n.stdout.startswith("degenet ") else f"stdout {n.stdout!r}",
        process=True)
    cli("cli/fit-no-arguments", "error", ["fit"], names=["DATA"],
        right="one line: error: missing argument DATA (typer prints a box)")
    cli("cli/fit-unknown-option", "error", ["fit", "num.csv", "-t", "y", "--bogus"],
        names=["--bogus"], right="one line: error: no such option --bogus")
    cli("cli/fit-nonexistent-file", "error", ["fit", "nosuch.csv", "-t", "y"],
        names=["nosuch.csv"], process=True)
    cli("cli/fit-empty-file", "error", ["fit", "empty.csv", "-t", "y"], names=["empty.csv"])
    cli("cli/fit-gzip-named-csv", "error|result", ["fit", "gz.csv", "-t", "y", "--json"],
        names=["gz.csv"], issue="a gzip file named .csv prints raw bytes as column names",
        check=lambda n: None if set(cli_json(n)["coefficients"]) == {"x1", "x2", "intercept"}
        else f"coefficients {list(cli_json(n)['coefficients'])}",
        right="read the gzip, or one line naming gz.csv as compressed; no raw bytes")
    cli("cli/fit-duplicate-header", "error", ["fit", "dup.csv", "-t", "y", "--solver", "exact"],
        names=["x1"], issue="duplicate header names read as x1, x1.1")
    cli("cli/fit-directory", "error", ["fit", "dir.csv", "-t", "y"], names=["dir.csv"])
    cli("cli/fit-unreadable-file", "error", ["fit", "noread.csv", "-t", "y"],
        names=["noread.csv"], nobody=True, process=True)
    cli("cli/fit-seed-negative", "error", ["fit", "num.csv", "-t", "y", "--seed", "-1"],
        names=["seed", "-1"])
    cli("cli/fit-validation-1", "error", ["fit", "num.csv", "-t", "y", "--validation", "1"],
        names=["validation"])
    cli("cli/fit-learning-rate-1e6-mlp", "warning",
        ["fit", "diverge.csv", "-t", "y", "--model", "mlp:8", "--learning-rate", "1e6"],
        warns=(ConvergenceWarning, "learning"),
        issue="a network that diverges says nothing, exit code 0",
        right="warning: ... diverged ... (and exit status != 0 under --strict)")
    cli("cli/fit-formula-injection", "error",
        ["fit", "num.csv", "--formula", "y ~ __import__('os').system('echo pwned')"],
        names=["__import__"],
        post=lambda n: "the formula ran code (it printed 'pwned')"
        if "pwned" in n.stdout.split() else None)
    cli("cli/fit-backticks-formula", "result",
        ["fit", "spaces.csv", "--formula", "y ~ `my col` + x2", "--solver", "exact", "--json"],
        check=lambda n: None if "my col" in cli_json(n)["coefficients"] else
        f"coefficients {list(cli_json(n)['coefficients'])}",
        issue="a formula naming a column with a space in backticks fails in formulaic")
    cli("cli/fit-json-intercept-collision", "error|result",
        ["fit", "collide.csv", "-t", "y", "--solver", "exact", "--json"],
        names=["intercept"],
        check=lambda n: None if len(cli_json(n)["coefficients"]) == 4 else
        f"{len(cli_json(n)['coefficients'])} coefficients in the JSON for 4 terms: "
        f"{list(cli_json(n)['coefficients'])}",
        issue="fit --json silently drops one of two rows named 'intercept'")
    cli("cli/fit-json-g[b]-collision", "error|result",
        ["fit", "collide_g.csv", "-t", "y", "--solver", "exact", "--json"], names=["g[b]"],
        check=lambda n: None if len(cli_json(n)["coefficients"]) == 5 else
        f"{len(cli_json(n)['coefficients'])} coefficients in the JSON for 5 terms: "
        f"{list(cli_json(n)['coefficients'])}",
        issue="fit --json silently drops one of two rows named 'g[b]'")
    cli("cli/fit-json-result", "result",
        ["fit", "base.csv", "-t", "y", "--features", "x1,x2,g", "--solver", "exact", "--json"],
        check=cli_fit_check)
    cli("cli/fit-save-unwritable", "error",
        ["fit", "num.csv", "-t", "y", "--solver", "exact", "--save", "ro"], names=["ro"],
        nobody=True, issue="--save into a folder without write permission trains, prints, "
        "then dies with a PermissionError traceback",
        right="one line before training: error: cannot write to ro: permission denied",
        process=True)
    cli("cli/fit-save-busy-folder", "error",
        ["fit", "num.csv", "-t", "y", "--solver", "exact", "--save", "."], names=["."])
    cli("cli/fit-save-over-planted-symlink", "error|result",
        ["fit", "num.csv", "-t", "y", "--solver", "exact", "--save", "planted"],
        "folder = D / 'planted'\nfolder.mkdir()\nvictim = D / 'precious.txt'\n"
        "victim.write_bytes(b'four years of thesis')\ncontent = victim.read_bytes()\n"
        "(folder / 'model.keras').symlink_to(victim)",
        post=unchanged("victim", "content"), wrong=LOSS, names=["model.keras"],
        issue="saving follows a planted symlink and overwrites its target", process=True)
    cli("cli/fit-save-full-disk", "error",
        ["fit", "num.csv", "-t", "y", "--solver", "exact", "--save", "fullmodel"],
        names=["fullmodel"], fsize=4096, process=True,
        issue="--save on a full disk dies with a traceback after training",
        right="one line: error: cannot write fullmodel: no space left (checked before "
              "training where possible); no half-written folder")
    cli("cli/inspect-nested-sidecar", "error", ["inspect", "deepmodel"],
        "folder = D / 'deepmodel'\nshutil.copytree(M / 'lin', folder)\n"
        "text = (folder / 'degenet.json').read_text().rstrip()\n"
        "(folder / 'degenet.json').write_text(text[:-1] + ', \"notes\": ' + nested(100000) "
        "+ '}')", names=["degenet.json"],
        issue="a sidecar nested 100,000 levels deep: RecursionError from degenet inspect")
    cli("cli/inspect-not-a-model", "error", ["inspect", "dir.csv"], names=["dir.csv"])
    cli("cli/inspect-encoding-a-string", "error", ["inspect", "badenc"],
        "folder = D / 'badenc'\nshutil.copytree(M / 'lin', folder)\n"
        "edit_sidecar(folder, lambda s: s.__setitem__('encoding', 'x1,x2'), reseal=True)",
        names=["encoding"])
    cli("cli/inspect-classes-an-int", "error", ["inspect", "badclasses"],
        "folder = D / 'badclasses'\nshutil.copytree(M / 'log', folder)\n"
        "edit_sidecar(folder, lambda s: s.__setitem__('classes', 5), reseal=True)",
        names=["classes"])
    cli("cli/inspect-json", "result", ["inspect", "linmodel", "--json"],
        check=lambda n: None if cli_json(n)["encoding"]["terms"] == ["x1", "x2", "g[b]", "g[c]"]
        else f"terms {cli_json(n)['encoding']['terms']}")
    cli("cli/predict", "result", ["predict", "linmodel", "new.csv"],
        check=lambda n: close_problem(pd.read_csv(__import__("io").StringIO(n.stdout))
                                      .prediction, lin_pred(pd.read_csv(D / "new.csv")), 1e-5),
        process=True)
    cli("cli/predict-missing-column", "error", ["predict", "linmodel", "missingcol.csv"],
        names=["'x2'"])
    cli("cli/predict-new-level", "error", ["predict", "linmodel", "newlevel.csv"],
        names=["'d'"])
    cli("cli/predict-output-in-missing-folder", "error",
        ["predict", "linmodel", "new.csv", "-o", "nofolder/out.csv"], names=["nofolder"])
    cli("cli/predict-output-is-input", "error",
        ["predict", "linmodel", "new.csv", "-o", "new.csv"],
        "content = (D / 'new.csv').read_bytes()\nvictim = D / 'new.csv'", names=["new.csv"],
        post=unchanged("victim", "content"), wrong=LOSS)
    cli("cli/predict-edited-family", "error", ["predict", "famedit", "new.csv"],
        "folder = D / 'famedit'\nshutil.copytree(M / 'lin', folder)\n"
        "edit_sidecar(folder, lambda s: s.__setitem__('family', 'poisson'))",
        names=["degenet.json", "edited"],
        issue="editing \"family\" in degenet.json loads and predicts wrong numbers")
    cli("cli/predict-edited-family-resealed", "error", ["predict", "famedit2", "new.csv"],
        "folder = D / 'famedit2'\nshutil.copytree(M / 'lin', folder)\n"
        "edit_sidecar(folder, lambda s: s.__setitem__('family', 'poisson'), reseal=True)",
        names=["family"],
        issue="editing \"family\" in degenet.json loads and predicts wrong numbers")
    cli("cli/keras-backend-not-installed", "error", ["fit", "num.csv", "-t", "y"],
        env={"KERAS_BACKEND": "torch"}, names=["torch"],
        issue="KERAS_BACKEND naming a backend that is not installed",
        right="one line: error: KERAS_BACKEND=torch is not installed; degenet runs on jax",
        process=True)
    cli("cli/compare-report-is-data", "error",
        ["compare", "num.csv", "-t", "y", "--report", "num.csv"],
        "content = (D / 'num.csv').read_bytes()\nvictim = D / 'num.csv'", names=["num.csv"],
        post=unchanged("victim", "content"), wrong=LOSS)
    cli("cli/compare-report-missing-folder", "error",
        ["compare", "num.csv", "-t", "y", "--models", "linear", "--report", "nodir/r.html"],
        names=["nodir"])
    cli("cli/compare-json", "result",
        ["compare", "num.csv", "-t", "y", "--models", "linear", "--solver", "exact", "--json"],
        check=cli_compare_check)


def cli_fit_check(n) -> str | None:
    """The JSON coefficients within 3 std errors of lstsq on all rows (the split is not in
    the JSON) and std errors within 25% of the textbook ones."""
    document = cli_json(n)
    rows = {row["term"]: row for row in document["coefficient_table"]}
    frame = pd.read_csv(D / "base.csv")
    ref = lstsq_ref(frame, "y", ["x1", "x2", "g"])
    for term, value in ref.items():
        if term not in rows:
            return f"term {term} absent"
        if abs(rows[term]["estimate"] - value) > 3 * rows[term]["std_error"]:
            return f"{term}: {rows[term]['estimate']:.6g} vs lstsq {value:.6g}"
    return None


def cli_compare_check(n) -> str | None:
    scores = {row["model"]: row for row in cli_json(n)["scores"]}
    linear, baseline = scores["linear"]["deviance"], scores["baseline"]["deviance"]
    frame = num()
    ref = lstsq_ref(frame, "y", ["x1", "x2"])
    residual = float(np.mean((frame.y - lstsq_predict(ref, frame, ["x1", "x2"])) ** 2))
    if not 0.5 * residual < linear < 2 * residual:  # held-out vs in-sample residual variance
        return f"held-out linear deviance {linear:.4g}; in-sample residual variance {residual:.4g}"
    if not baseline > 4:  # var(2 x1 - x2) = 5
        return f"baseline deviance {baseline:.4g}; var(y) is about 5"
    return None


