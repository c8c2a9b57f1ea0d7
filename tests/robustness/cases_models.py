"""Corpus cases: model files (saved, edited, damaged, attacked) and predict-time data."""

from __future__ import annotations

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

def lin_pred(frame: pd.DataFrame) -> np.ndarray:
    """Predictions of MODELS['lin'] computed by lstsq on its training rows (independent)."""
    ref = lstsq_ref(base(), "y", ["x1", "x2", "g"], MODELS["lin"].train_rows)
    return lstsq_predict(ref, frame, ["x1", "x2", "g"])


def log_proba(frame: pd.DataFrame) -> np.ndarray:
    """P(yes) of MODELS['log'] from statsmodels' GLM on its training rows."""
    ref = glm_ref(base(), "yb", ["x1", "x2", "g"], "bernoulli", MODELS["log"].train_rows, "yes")
    eta = lstsq_predict(ref, frame, ["x1", "x2", "g"])
    return 1 / (1 + np.exp(-eta))


def mlp_forward(frame: pd.DataFrame) -> np.ndarray:
    """The mlp fixture's prediction by a numpy forward pass over its weights."""
    w = [np.asarray(v, float) for v in MODELS["mlp"].model.get_weights()]
    h = frame[["x1", "x2"]].to_numpy(float)
    for k in range(0, len(w) - 2, 2):
        h = np.maximum(h @ w[k] + w[k + 1], 0)
    return (h @ w[-2] + w[-1])[:, 0]


# Sidecar edits refused before the sidecar's own sha256 is compared: format and keys first.
CHECKED_BEFORE_SEAL = ("format_version-string", "format_version-2", "key-missing")


def model_files_cases() -> None:
    victim = ("folder = fresh()\nvictim = fresh() / 'precious.txt'\n"
              "victim.write_bytes(b'four years of thesis')\ncontent = victim.read_bytes()\n")
    add("model-files/save-over-planted-symlink", "error|result",
        victim + "(folder / 'model.keras').symlink_to(victim)\nMODELS['lin'].save(folder)",
        names=["model.keras"], post=unchanged("victim", "content"), wrong=LOSS,
        issue="saving follows a planted symlink and overwrites its target",
        right="never follow a symlink: refuse, or replace the link itself")
    add("model-files/save-over-symlinked-sidecar", "error|result",
        victim + "(folder / 'degenet.json').symlink_to(victim)\nMODELS['lin'].save(folder)",
        names=["degenet.json"], post=unchanged("victim", "content"), wrong=LOSS)
    add("model-files/save-folder-with-only-user-model.keras", "error",
        "folder = fresh()\nvictim = folder / 'model.keras'\n"
        "victim.write_bytes(b'PK my own keras model')\ncontent = victim.read_bytes()\n"
        "MODELS['lin'].save(folder)", names=["model.keras"], post=unchanged("victim", "content"),
        wrong=LOSS, issue="a folder holding only the user's own model.keras is overwritten",
        right="DegenetError: the folder holds a model.keras degenet did not write")
    add("model-files/save-folder-with-only-user-degenet.json", "error",
        "folder = fresh()\nvictim = folder / 'degenet.json'\n"
        "victim.write_text('{\"my\": \"settings\"}')\ncontent = victim.read_bytes()\n"
        "MODELS['lin'].save(folder)", names=["degenet.json"],
        post=unchanged("victim", "content"), wrong=LOSS,
        right="refuse: a degenet.json degenet did not write is the user's file")
    add("model-files/save-over-degenet-model-without-overwrite", "error",
        "frame = base()\nfolder = copy_model('lin')\nold = MODELS['lin']\n"
        "MODELS['log'].save(folder)", names=["overwrite"],
        post=loads_as("folder", "frame", "old"), wrong=LOSS,
        right="refuse to replace a model unless save(path, overwrite=True) (issue 12, item 1)")
    add("model-files/save-overwrite-true", "result",
        "frame = base()\nfolder = copy_model('lin')\nnew = MODELS['log']\n"
        "MODELS['log'].save(folder, overwrite=True)\nresult = degenet.load(folder)",
        check=lambda n: close_problem(n.result.predict_proba(n.frame)[:, 1],
                                      log_proba(n.frame), 1e-3, "P(yes)"),
        right="fit.save(path, overwrite=True) replaces a model (issue 12, item 1)")
    add("model-files/save-unwritable-folder", "error",
        "folder = fresh()\nfolder.chmod(0o555)\nMODELS['lin'].save(folder)",
        names=["folder", "perm"], nobody=True,
        issue="--save into a folder without write permission dies with a PermissionError",
        right="DegenetError: cannot write to <folder>: permission denied")
    add("model-files/save-full-disk", "error",
        "frame = base()\nfolder = copy_model('lin')\nold, new = MODELS['lin'], MODELS['log']\n"
        "limit = resource.getrlimit(resource.RLIMIT_FSIZE)\n"
        "handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2048, limit[1]))\n"
        "try:\n    new.save(folder, **({'overwrite': True} if 'overwrite' in "
        "inspect.signature(new.save).parameters else {}))\n"
        "finally:\n    resource.setrlimit(resource.RLIMIT_FSIZE, limit)\n"
        "    signal.signal(signal.SIGXFSZ, handler)",
        names=["folder"], post=loads_as("folder", "frame", "old"), wrong=LOSS,
        issue="a full disk during the save leaves neither the old model nor a new one",
        right="DegenetError naming the folder; the old model still loads")
    add("model-files/save-parent-is-a-file", "error",
        "MODELS['lin'].save(D / 'num.csv' / 'model')", names=["num.csv"],
        right="DegenetError: cannot save to .../num.csv/model: num.csv is a file")
    add("model-files/save-path-is-a-file", "error",
        "victim = fresh() / 'x.csv'\nvictim.write_text('a,b')\ncontent = victim.read_bytes()\n"
        "MODELS['lin'].save(victim)", names=["x.csv"], post=unchanged("victim", "content"))
    add("model-files/save-nul-in-path", "error",
        "MODELS['lin'].save(str(fresh()) + '/a\\x00b')", names=["path"],
        right="DegenetError: the path holds a NUL character")
    add("model-files/save-estimator-roundtrip", "result",
        "folder = fresh() / 'est'\nframe = base()\n"
        "m = degenet.LinearRegression(solver='exact').fit(num()[['x1', 'x2']], num().y)\n"
        "m.save(folder)\nresult = degenet.load(folder)",
        check=lambda n: close_problem(
            n.result.predict(n.frame[["x1", "x2"]]),
            lstsq_predict(lstsq_ref(num(), "y", ["x1", "x2"], n.m.fit_.train_rows), n.frame,
                          ["x1", "x2"]), 1e-5))
    add("model-files/roundtrip-linear", "result",
        "frame = base(50, seed=1)\nresult = degenet.load(copy_model('lin')).predict(frame)",
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("model-files/roundtrip-logistic", "result",
        "frame = base(50, seed=1)\n"
        "result = degenet.load(copy_model('log')).predict_proba(frame)[:, 1]",
        check=lambda n: close_problem(n.result, log_proba(n.frame), 1e-3, "P(yes)"))
    add("model-files/roundtrip-mlp", "result",
        "frame = base(50, seed=1)\nresult = degenet.load(copy_model('mlp')).predict(frame)",
        check=lambda n: close_problem(n.result, mlp_forward(n.frame), 1e-5))

    load = "result = degenet.load({}).predict(base(20, seed=2))"
    sidecar_edits = [
        ("family-gaussian-to-poisson", "lin", "s['family'] = 'poisson'", ["family"],
         "editing \"family\" in degenet.json loads and predicts wrong numbers"),
        ("levels-reordered", "lin",
         "s['encoding']['schema'][2]['levels'] = ['a', 'c', 'b']; "
         "s['encoding']['terms'] = ['x1', 'x2', 'g[c]', 'g[b]']",
         ["levels"], "reordering a categorical's levels loads and predicts wrong numbers"),
        ("levels-reversed", "lin",
         "s['encoding']['schema'][2]['levels'] = s['encoding']['schema'][2]['levels'][::-1]",
         ["g["], None),
        ("terms-renamed", "lin", "s['encoding']['terms'][0] = 'zz'", ["terms"], None),
        ("terms-dropped", "lin", "s['encoding']['terms'] = s['encoding']['terms'][:-1]",
         ["terms"], None),
        ("extra-level", "lin", "s['encoding']['schema'][2]['levels'].append('d')",
         ["g["], None),
        ("n_features", "lin", "s['n_features'] = 9", ["9"], None),
        ("n_outputs", "lin", "s['n_outputs'] = 2", ["2"], None),
        ("classes-swapped", "log", "s['classes'] = s['classes'][::-1]", ["classes"], None),
        ("classes-string", "log", "s['classes'] = 'ny'", ["classes"], None),
        ("classes-for-gaussian", "lin", "s['classes'] = ['a', 'b']", ["classes"], None),
        ("model-linear-to-mlp", "lin", "s['model'] = 'mlp'", ["mlp"], None),
        ("model-spec-garbage", "lin", "s['model'] = 'mlp:0'", ["mlp:0"], None),
        ("intercept-string", "lin", "s['intercept'] = 'false'", ["intercept"], None),
        ("keras_sha256-wrong", "lin", "s['keras_sha256'] = '0' * 64", ["sha256"], None),
        ("format_version-string", "lin", "s['format_version'] = '1'", ["version"], None),
        ("format_version-2", "lin", "s['format_version'] = 2", ["version"], None),
        ("key-missing", "lin", "del s['encoding']", ["encoding"], None),
        ("family-int", "lin", "s['family'] = 3", ["family"], None),
        ("family-list", "lin", "s['family'] = ['gaussian']", ["family"], None),
        ("encoding-terms-int", "lin", "s['encoding']['terms'] = 5", ["terms"], None),
        ("encoding-string", "lin", "s['encoding'] = 'x1,x2'", ["encoding"], None),
        ("scaling-string", "lin", "s['scaling']['mean'] = 'x'", ["scaling"], None),
        ("scaling-missing-scale", "lin", "del s['scaling']['scale']", ["scaling"], None),
        ("schema-kind-unknown", "lin", "s['encoding']['schema'][0]['kind'] = 'weird'",
         ["weird"], None),
        ("formula-injection", "lin",
         "s['encoding']['formula'] = \"y ~ __import__('os').system('echo pwned')\"",
         ["formula"], None),
        ("levels-dict", "lin", "s['encoding']['schema'][2]['levels'] = {'a': 1}", ["levels"],
         None),
        ("formula-injection-with-state", "lin",
         "s['encoding']['formula'] = \"y ~ __import__('os').system('echo pwned')\"; "
         "s['encoding']['formula_state'] = {}", ["__import__"], None),
    ]
    for label, model, edit, names, issue in sidecar_edits:
        # Edited by hand: its own sha256 disagrees, and that is the error.
        add(f"model-files/sidecar-{label}", "error",
            f"folder = copy_model({model!r})\nedit_sidecar(folder, lambda s: exec({edit!r}, "
            "{'s': s}))\n" + load.format("folder"),
            names=names if label in CHECKED_BEFORE_SEAL else ["degenet.json", "edited"],
            issue=issue, right="load refuses: the sidecar is sealed by its own sha256")
        # Edited and re-sealed, as an attacker would: the schema and the archive disagree.
        add(f"model-files/sidecar-{label}-resealed", "error",
            f"folder = copy_model({model!r})\nedit_sidecar(folder, lambda s: exec({edit!r}, "
            "{'s': s}), reseal=True)\n" + load.format("folder"), names=names, issue=issue,
            right="load refuses: the sidecar is checked against itself and the archive "
                  "(family vs output layer, terms vs input width, levels)")
    add("model-files/sidecar-coefficients-edited", "error",
        "folder = copy_model('lin')\n"
        "edit_sidecar(folder, lambda s: s['coefficients'][0].__setitem__('estimate', 99.0))\n"
        "result = degenet.load(folder).coefficients", names=["degenet.json"],
        right="the sidecar is covered by the hash: load refuses an edited table")
    add("model-files/sidecar-nested-100000", "error",
        "folder = copy_model('lin')\ntext = (folder / 'degenet.json').read_text().rstrip()\n"
        "(folder / 'degenet.json').write_text(text[:-1] + ', \"notes\": ' + nested(100000) "
        "+ '}')\n" + load.format("folder"), names=["degenet.json"],
        issue="a sidecar nested 100,000 levels deep: RecursionError",
        right="DegenetError: degenet.json is nested too deeply (schema: types, sizes, depth)")
    add("model-files/sidecar-not-json", "error",
        "folder = copy_model('lin')\n(folder / 'degenet.json').write_text('{\"format\": ')\n"
        + load.format("folder"), names=["degenet.json"])
    add("model-files/sidecar-a-list", "error",
        "folder = copy_model('lin')\n(folder / 'degenet.json').write_text('[1, 2]')\n"
        + load.format("folder"), names=["degenet.json"])
    add("model-files/sidecar-binary", "error",
        "folder = copy_model('lin')\n(folder / 'degenet.json').write_bytes(bytes(range(256)))\n"
        + load.format("folder"), names=["degenet.json"])
    add("model-files/config-bomb-48MiB", "error",
        "folder = edit_archive(copy_model('lin'), {'config.json': padded_json(48)})\n"
        + load.format("folder"), names=["config.json"], memory=True, wrong=HANG, timeout=60,
        issue="a config.json that inflates to 512 MiB is read whole before any size check",
        right="refused from the zip directory's sizes before anything is inflated")
    add("model-files/weights-bomb-48MiB", "error",
        "folder = edit_archive(copy_model('lin'), {'model.weights.h5': zeros_member(48)})\n"
        + load.format("folder"), names=["model.weights.h5"], memory=True, wrong=HANG,
        timeout=60, right="refused from the zip directory's sizes before anything is inflated")
    add("model-files/extra-member", "error",
        "folder = edit_archive(copy_model('lin'), {'evil.py': b'print(1)'})\n"
        + load.format("folder"), names=["evil.py"])
    add("model-files/traversal-member", "error",
        "folder = edit_archive(copy_model('lin'), {'../../evil.py': b'print(1)'})\n"
        + load.format("folder"), names=["evil.py"])
    add("model-files/truncated-archive-rehashed", "error",
        "folder = copy_model('lin')\narchive = folder / 'model.keras'\n"
        "archive.write_bytes(archive.read_bytes()[:1500])\nimport hashlib\n"
        "digest = hashlib.sha256(archive.read_bytes()).hexdigest()\n"
        "edit_sidecar(folder, lambda s: s.__setitem__('keras_sha256', digest), reseal=True)\n"
        + load.format("folder"), names=["model.keras"])
    add("model-files/truncated-archive", "error",
        "folder = copy_model('lin')\narchive = folder / 'model.keras'\n"
        "archive.write_bytes(archive.read_bytes()[:1500])\n" + load.format("folder"),
        names=["model.keras"])
    config_edits = [
        ("lambda-layer", "c['config']['layers'][1]['class_name'] = 'Lambda'", ["Lambda"], None),
        ("activation-dict",
         "[l['config'].__setitem__('activation', {'class_name': 'Lambda', 'config': {}}) "
         "for l in c['config']['layers'] if 'activation' in l['config']]", ["activation"],
         "an activation given as a dict: TypeError inside the allow-list check"),
        ("activation-list",
         "[l['config'].__setitem__('activation', ['relu']) for l in c['config']['layers'] "
         "if 'activation' in l['config']]", ["activation"], None),
        ("class_name-dict", "c['config']['layers'][1]['class_name'] = {'x': 1}", ["class"],
         None),
        ("module-os", "c['config']['layers'][1]['module'] = 'os'", ["'os'"], None),
        ("registered-name", "c['config']['layers'][1]['registered_name'] = 'my>Dense'",
         ["my>Dense"], None),
    ]
    for label, edit, names, issue in config_edits:
        add(f"model-files/config-{label}", "error",
            f"folder = edit_archive(copy_model('lin'), config=lambda c: exec({edit!r}, "
            "{'c': c}))\n" + load.format("folder"), names=names, issue=issue,
            right="DegenetError naming the archive and the value, before Keras sees it "
                  "(check the type before the set lookup)")
    add("model-files/config-not-json", "error",
        "folder = edit_archive(copy_model('lin'), {'config.json': b'{oops'})\n"
        + load.format("folder"), names=["config.json"])
    add("model-files/config-a-list", "error",
        "folder = edit_archive(copy_model('lin'), {'config.json': b'[]'})\n"
        + load.format("folder"), names=["model.keras"])
    add("model-files/archive-a-directory", "error",
        "folder = copy_model('lin')\n(folder / 'model.keras').unlink()\n"
        "(folder / 'model.keras').mkdir()\n" + load.format("folder"), names=["model.keras"])
    add("model-files/archive-symlink-to-urandom", "error",
        "folder = copy_model('lin')\n(folder / 'model.keras').unlink()\n"
        "(folder / 'model.keras').symlink_to('/dev/urandom')\n" + load.format("folder"),
        names=["model.keras"])
    add("model-files/load-a-file", "error", load.format("D / 'num.csv'"), names=["num.csv"])
    add("model-files/load-nonexistent", "error", load.format("D / 'nomodel'"),
        names=["nomodel"])
    add("model-files/load-folder-with-only-model.keras", "error",
        "folder = copy_model('lin')\n(folder / 'degenet.json').unlink()\n"
        + load.format("folder"), names=["degenet.json"])


def predict_cases() -> None:
    new = "frame = pd.read_csv(D / 'new.csv')\n"
    p = "result = MODELS['lin'].predict(frame)"
    for label, change, names in [
            ("missing-column", "frame = frame.drop(columns=['x2'])", ["'x2'"]),
            ("new-level", "frame.loc[3, 'g'] = 'd'", ["'d'", "'g'"]),
            ("x1-as-text", "frame['x1'] = 'high'", ["'x1'"]),
            ("g-as-numbers", "frame['g'] = 1.5", ["'g'"]),
            ("g-as-ints", "frame['g'] = np.arange(len(frame)) % 3", ["'g'"]),
            ("nan-x1", "frame.loc[[4, 9], 'x1'] = np.nan", ["'x1'", "2 rows"]),
            ("none-g", "frame.loc[4, 'g'] = None", ["'g'"]),
            ("inf-x1", "frame.loc[4, 'x1'] = np.inf", ["'x1'"]),
            ("bool-for-text", "frame['g'] = frame.x1 > 0", ["'g'"]),
            ("level-trailing-space", "frame.loc[2, 'g'] = 'a '", ["'a '"]),
            ("empty-string-level", "frame.loc[2, 'g'] = ''", ["''", "'g'"]),
            ("duplicate-columns", "frame = pd.concat([frame, frame[['x1']]], axis=1)", ["x1"]),
            ("dict-cells", "frame['x1'] = [{'a': 1}] * len(frame)", ["'x1'"]),
            ("datetime-x1", "frame['x1'] = pd.date_range('2020', periods=len(frame))",
             ["'x1'"])]:
        add(f"predict/{label}", "error", new + change + "\n" + p, names=names,
            right="DegenetError naming the column and the value")
    add("predict/numpy-array", "error",
        "result = MODELS['lin'].predict(np.ones((4, 3)))", names=["x1"])
    add("predict/extra-columns", "warning", new + "frame['extra'] = 1\n" + p,
        warns=(DataWarning, "'extra'"), check=lambda n: close_problem(n.result,
                                                                     lin_pred(n.frame), 1e-5))
    add("predict/target-present", "result", new + "frame['y'] = 0.0\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/columns-reordered", "result", new + "frame = frame[['g', 'x2', 'x1']]\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/zero-rows", "error|result", new + "frame = frame.iloc[:0]\n" + p,
        names=["row"], check=lambda n: None if len(n.result) == 0 else f"{len(n.result)} rows")
    add("predict/numbers-as-text", "result", new + "frame['x1'] = frame.x1.map(repr)\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame.astype({'x1': float})), 1e-5))
    add("predict/categorical-other-order", "result",
        new + "frame['g'] = pd.Categorical(frame.g, categories=['c', 'b', 'a'])\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame.astype({'g': str})), 1e-5))
    add("predict/int-dtype", "result", new + "frame['x1'] = np.arange(len(frame)) % 4\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/semicolon-csv", "result",
        new + "path = fresh() / 'new.csv'\nframe.to_csv(path, sep=';', index=False)\n"
        "result = MODELS['lin'].predict(path)",
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/polars", "result",
        new + "import polars\nresult = MODELS['lin'].predict(polars.from_pandas(frame))",
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/x1-1e39", "error|result", new + "frame.loc[0, 'x1'] = 1e39\n" + p,
        names=["'x1'"], check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5),
        right="float64 predictions (2e39), or refuse naming 'x1'; float32 gives inf")
    add("predict/x1-1e-40", "result", new + "frame['x1'] = frame.x1 * 1e-40\n" + p,
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/loaded-model", "result",
        new + "result = degenet.load(M / 'lin').predict(frame)",
        check=lambda n: close_problem(n.result, lin_pred(n.frame), 1e-5))
    add("predict/loaded-missing-column", "error",
        new + "result = degenet.load(M / 'lin').predict(frame.drop(columns=['g']))",
        names=["'g'"])
    add("predict/prediction-frame-classifier", "result",
        new + "result = degenet.prediction_frame(MODELS['log'], frame)",
        check=lambda n: (None if list(n.result.columns) == ["prediction", "proba_no",
                                                            "proba_yes"]
                         else f"columns {list(n.result.columns)}")
        or close_problem(n.result.proba_yes, log_proba(n.frame), 1e-3, "P(yes)"))
    add("predict/prediction-frame-regression", "result",
        new + "result = degenet.prediction_frame(MODELS['lin'], frame)",
        check=lambda n: close_problem(n.result.prediction, lin_pred(n.frame), 1e-5))
    add("predict/predict_proba-gaussian", "error",
        new + "result = MODELS['lin'].predict_proba(frame)", names=["gaussian"])
    add("predict/logistic-nan", "error",
        new + "frame.loc[1, 'x2'] = np.nan\nresult = MODELS['log'].predict(frame)",
        names=["'x2'"])
    add("predict/summary-mlp", "error", "result = MODELS['mlp'].summary()", names=["mlp"])
    add("predict/coefficients-mlp", "error", "result = MODELS['mlp'].coefficients",
        names=["mlp"])
    add("predict/summary-linear", "result", "result = MODELS['lin'].summary()",
        check=lambda n: None if "x1" in n.result and "intercept" in n.result else "no terms")


