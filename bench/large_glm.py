"""Large-data GLMs: degenet's exact solver and gradient descent against scikit-learn, glum
and statsmodels, on 2,000,000 rows x 100 float32 features (issue 7).

Usage::

    python bench/large_glm.py                          # 2,000,000 x 100, both tasks
    python bench/large_glm.py --rows 200000 --tasks logistic
    python bench/large_glm.py --methods degenet-exact,glum,sklearn-newton-cholesky
    python bench/large_glm.py --tasks logistic --repeat 3 \
        --methods degenet-exact,fit-frame-exact,fit-parquet-exact,glum-frame,glum-parquet

With ``--repeat N`` every method runs N times, in rounds (each method once a round, so a
machine that slows down mid-way slows every method), and its time is the median of its
rounds (all listed under "rounds"). Each method runs in its own subprocess, which builds the same data (seeded; float32, rows
generated in blocks so no float64 copy ever exists), notes its RSS, runs the fit and
reports the fit's wall time and its process's peak RSS (``VmHWM`` in ``/proc/self/status``,
the high-water mark of resident memory, which includes the data, 0.8 GB at full size, and
the libraries the method imports). The fitted coefficients come back to this process, which
scores every method's training loss in float64 on the same rows:

- exact solvers (degenet exact, scikit-learn, glum, statsmodels) fit all rows; the optimum
  is the least loss any of them reached; "reached" means within 1e-6 relative of it;
- gradient descent trains on the first 80% of rows and stops early on the last 20% (the
  data are i.i.d., so a contiguous split is a random one and needs no copy); its optimum is
  degenet's exact solution on those same training rows; "reached" means within 1e-4.

The user's path (issue 16): ``degenet.fit`` on a DataFrame (read from the Parquet file
first, as a user would) and on the Parquet file itself, exact and gradient descent, and the
estimators on the numpy array, beside glum and scikit-learn on the same inputs (glum on the
file includes ``pd.read_parquet``). Each runs in its own process; its peak is measured from
the moment its input is in memory (``VmHWM`` reset through ``/proc/self/clear_refs``), and
"over input" is that peak minus the input's own size (the DataFrame's memory, the file's
size, the arrays' bytes). ``degenet.fit``'s exact fits use every row (its default); its
gradient-descent fits hold out 20% for early stopping, so their gap is to the all-rows
optimum and is not judged.

Tolerances given to the peers are tight enough to reach 1e-6 (lbfgs ``tol=1e-10``,
newton-cholesky ``tol=1e-8``, glum ``gradient_tol=1e-7``); a peer that stops short is
flagged, not re-run. The data are allocated 64-byte aligned (as Arrow and JAX buffers are)
so that degenet's gradient descent can share them with JAX (DLPack, no copy); with
``--unaligned`` they come from plain ``np.empty`` (16-byte aligned) and JAX copies them once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

EXACT = ["degenet-exact", "sklearn-lbfgs", "sklearn-newton-cholesky", "sklearn-linear",
         "glum", "statsmodels"]
USER = ["fit-frame-exact", "fit-parquet-exact", "estimator-exact", "glum-frame",
        "glum-parquet", "sklearn-frame", "fit-frame-gd", "fit-parquet-gd", "estimator-gd"]
METHODS = EXACT + ["degenet-gd"] + USER
TASK_METHODS = {
    "logistic": ["degenet-exact", "degenet-gd", "sklearn-newton-cholesky", "sklearn-lbfgs",
                 "glum", "statsmodels", *USER],
    "linear": ["degenet-exact", "degenet-gd", "sklearn-linear", "glum", "statsmodels", *USER],
}
BLOCK = 100_000
STATSMODELS_CAP_GB = 12.0


def rss_peak_gb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: a child inherits its
    parent's high-water mark across fork and exec, so it would report the driver's."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def rss_now_gb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def empty_float32(shape, aligned: bool) -> np.ndarray:
    if not aligned:
        return np.empty(shape, np.float32)
    size = int(np.prod(shape)) * 4
    raw = np.empty(size + 64, np.uint8)
    offset = (-raw.ctypes.data) % 64
    return raw[offset:offset + size].view(np.float32).reshape(shape)


def make_data(task: str, rows: int, features: int, seed: int, aligned: bool = True):
    """Correlated float32 features and a target with a known truth, built block by block."""
    rng = np.random.default_rng(seed)
    beta = rng.normal(scale=1.0 / np.sqrt(features), size=features)
    X = empty_float32((rows, features), aligned)
    y = np.empty(rows, np.float64)
    for start in range(0, rows, BLOCK):
        block = rng.standard_normal((min(BLOCK, rows - start), features))
        block[:, 1:] += 0.5 * block[:, :-1]  # neighbouring columns correlate
        block = block * np.linspace(0.5, 3.0, features) + np.linspace(-1.0, 2.0, features)
        X[start:start + len(block)] = block
        eta = (block - np.linspace(-1.0, 2.0, features)) @ beta + 0.2
        y[start:start + len(block)] = (
            rng.uniform(size=len(block)) < 1.0 / (1.0 + np.exp(-eta)) if task == "logistic"
            else eta + rng.normal(size=len(block)))
    return X, y


def loss(task: str, X, y, beta, alpha, rows=slice(None)) -> float:
    total, count = 0.0, 0
    Xr, yr = X[rows], y[rows]
    for start in range(0, len(yr), BLOCK):
        eta = np.asarray(Xr[start:start + BLOCK], np.float64) @ beta + alpha
        part = yr[start:start + BLOCK]
        total += float(np.sum(np.logaddexp(0.0, eta) - part * eta if task == "logistic"
                              else (part - eta) ** 2))
        count += len(part)
    return total / count


# ----------------------------------------------------------------------------- the methods
def run_degenet_exact(task, X, y):
    from degenet.exact.solve import solve

    family = "bernoulli" if task == "logistic" else "gaussian"
    start = time.perf_counter()
    solution = solve(family, X, y)
    seconds = time.perf_counter() - start
    return seconds, solution.beta[:, 0], float(solution.alpha[0]), {"iter": solution.n_iter}


def run_degenet_gd(task, X, y):
    from degenet.exact.design import column_stats
    from degenet.model.families import get_family
    from degenet.model.network import build_network, logits_model
    from degenet.data.scaling import Scaling
    from degenet.model.specs import parse_spec
    from degenet.train.settings import TrainSettings, train

    family = get_family("bernoulli" if task == "logistic" else "gaussian")
    n_train = int(0.8 * len(y))
    train_rows, val_rows = np.arange(n_train), np.arange(n_train, len(y))
    start = time.perf_counter()
    scaling = Scaling(*column_stats(X[:n_train], center=True))
    center, scale = (0.0, 1.0) if task == "logistic" else (y[:n_train].mean(), y[:n_train].std())
    target = (y - center) / scale
    net = build_network(parse_spec(task), family, n_features=X.shape[1], n_outputs=1, seed=0)
    # The defaults: batch 4096 on 1.6M training rows; a regression trains at lr 0.01 and
    # keeps each epoch's averaged iterate, which reaches 1e-4 of the optimum in 7-8 epochs
    # (before averaging, lr 0.003 left Adam's minibatch noise at 2.8e-3 / 1.9e-2 above it).
    settings = TrainSettings()
    result = train(logits_model(net), family, X, target, settings, train_rows=train_rows,
                   val_rows=val_rows, scaling=scaling, seed=0)
    seconds = time.perf_counter() - start
    kernel, bias = (np.asarray(v.value, np.float64) for v in net.get_layer("eta").weights)
    beta = kernel[:, 0] / scaling.scale * scale
    alpha = (float(bias[0]) - float(scaling.mean / scaling.scale @ kernel[:, 0])) * scale + center
    return seconds, beta, alpha, {"epochs": result.epochs, "compile": result.compile_seconds,
                                  "train": result.train_seconds}


def run_sklearn(task, X, y, solver):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    start = time.perf_counter()
    if task == "linear":
        model = LinearRegression().fit(X, y)
    else:
        tol = 1e-10 if solver == "lbfgs" else 1e-8
        model = LogisticRegression(penalty=None, solver=solver, tol=tol, max_iter=10_000)
        model.fit(X, y.astype(np.int8))
    seconds = time.perf_counter() - start
    coef, intercept = np.ravel(model.coef_), float(np.ravel(model.intercept_)[0])
    return seconds, coef.astype(np.float64), intercept, {"iter": int(np.max(getattr(
        model, "n_iter_", 0)))}


def run_glum(task, X, y):
    from glum import GeneralizedLinearRegressor

    start = time.perf_counter()
    model = GeneralizedLinearRegressor(family="binomial" if task == "logistic" else "normal",
                                       alpha=0, gradient_tol=1e-7, max_iter=100)
    model.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, np.asarray(model.coef_, np.float64), float(model.intercept_), {
        "iter": int(model.n_iter_)}


def run_statsmodels(task, X, y):
    import statsmodels.api as sm

    # statsmodels copies X to float64 more than once (20.7 GB peak on the full logistic task
    # here): cap the address space so that it fails with MemoryError on a shared machine
    # instead of taking the machine's memory.
    cap = int(STATSMODELS_CAP_GB * 1e9)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    design = sm.add_constant(X, prepend=False)
    if task == "logistic":
        params = sm.GLM(y, design, family=sm.families.Binomial()).fit(tol=1e-10).params
    else:
        params = sm.OLS(y, design).fit().params
    seconds = time.perf_counter() - start
    return seconds, np.asarray(params[:-1], np.float64), float(params[-1]), {}


# ----------------------------------------------------------------------------- the user's path
def write_parquet(path, X, y, rows_per_group=250_000) -> None:
    """The table as a Parquet file, ``x0..`` float32 and ``y``, written a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"x{j}" for j in range(X.shape[1])] + ["y"]
    with pq.ParquetWriter(path, pa.schema([(n, pa.float32()) for n in names[:-1]]
                                          + [("y", pa.float64())])) as writer:
        for start in range(0, len(y), rows_per_group):
            block = slice(start, start + rows_per_group)
            columns = [pa.array(np.ascontiguousarray(X[block, j])) for j in range(X.shape[1])]
            writer.write_table(pa.table(columns + [pa.array(y[block])], names=names))


def reset_peak() -> None:
    """Start the process's peak resident memory (VmHWM) again from its current size."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def user_input(method, args):
    """The input of a user's-path method, read as a user would, and its own size in GB."""
    import pandas as pd

    if "-parquet" in method:
        return args.parquet, os.path.getsize(args.parquet) / 1e9
    if "-frame" in method:
        import pyarrow as pa

        frame = pd.read_parquet(args.parquet)
        pa.default_memory_pool().release_unused()  # what reading left in Arrow's pool
        return frame, frame.memory_usage(deep=True).sum() / 1e9
    X, y = make_data(args.task, args.rows, args.features, args.seed, not args.unaligned)
    return (X, y), (X.nbytes + y.nbytes) / 1e9


def run_user(method, task, data):
    """Time one user's-path method on its input; beta, alpha and notes as the others."""
    import pandas as pd

    model, solver = ("logistic" if task == "logistic" else "linear"), method.split("-")[-1]
    start = time.perf_counter()
    if method.startswith("fit-"):
        import degenet
        from degenet.model.network import regression_weights


        fitted = degenet.fit(data, "y", model=model, solver=solver)
        seconds = time.perf_counter() - start
        beta, alpha = regression_weights(fitted.model)
        notes = {"epochs": fitted.epochs} if solver == "gd" else {
            "iter": fitted.exact.solution.n_iter}
        return seconds, beta[:, 0], float(alpha[0]), notes
    if method.startswith("estimator-"):
        import degenet

        X, y = data
        estimator = (degenet.LogisticRegression if task == "logistic"
                     else degenet.LinearRegression)(solver=solver)
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
        return seconds, np.ravel(estimator.coef_), float(np.ravel(estimator.intercept_)[0]), {}
    from glum import GeneralizedLinearRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression

    frame = pd.read_parquet(data) if method.endswith("-parquet") else data
    X, y = frame.drop(columns="y"), frame["y"]
    if method.startswith("glum"):
        peer = GeneralizedLinearRegressor(family="binomial" if task == "logistic" else "normal",
                                          alpha=0, gradient_tol=1e-7, max_iter=100).fit(X, y)
    elif task == "logistic":
        peer = LogisticRegression(penalty=None, solver="newton-cholesky", tol=1e-8,
                                  max_iter=10_000).fit(X, y.astype(np.int8))
    else:
        peer = LinearRegression().fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, np.ravel(peer.coef_).astype(np.float64), float(
        np.ravel(peer.intercept_)[0]), {}


def user_worker(args) -> None:
    # Imports are nobody's fit time, and each method's process imports only what its user
    # would: glum's memory is not degenet's, nor degenet's glum's.
    if args.worker.startswith(("fit-", "estimator-")):
        import degenet.estimators  # noqa: F401
        import degenet.fitting  # noqa: F401
    else:
        import glum  # noqa: F401
        import sklearn.linear_model  # noqa: F401

    data, input_gb = user_input(args.worker, args)
    reset_peak()
    before = rss_now_gb()
    seconds, beta, alpha, info = run_user(args.worker, args.task, data)
    np.savez(args.out, beta=beta, alpha=alpha)
    print(json.dumps({"seconds": seconds, "peak_gb": rss_peak_gb(), "before_gb": before,
                      "input_gb": input_gb, **info}))


def worker(args) -> None:
    if args.worker in USER:
        return user_worker(args)
    X, y = make_data(args.task, args.rows, args.features, args.seed, not args.unaligned)
    before = rss_now_gb()
    runner = {
        "degenet-exact": run_degenet_exact, "degenet-gd": run_degenet_gd,
        "sklearn-lbfgs": lambda t, X, y: run_sklearn(t, X, y, "lbfgs"),
        "sklearn-newton-cholesky": lambda t, X, y: run_sklearn(t, X, y, "newton-cholesky"),
        "sklearn-linear": lambda t, X, y: run_sklearn(t, X, y, "linear"),
        "glum": run_glum, "statsmodels": run_statsmodels}[args.worker]
    seconds, beta, alpha, info = runner(args.task, X, y)
    np.savez(args.out, beta=beta, alpha=alpha)
    print(json.dumps({"seconds": seconds, "peak_gb": rss_peak_gb(), "before_gb": before,
                      "data_gb": X.nbytes / 1e9, **info}))


# ----------------------------------------------------------------------------- the driver
def run_method(method, task, args, folder) -> dict:
    out = os.path.join(folder, f"{task}-{method}.npz")
    command = [sys.executable, __file__, "--worker", method, "--task", task, "--rows",
               str(args.rows), "--features", str(args.features), "--seed", str(args.seed),
               "--out", out, "--parquet", os.path.join(folder, f"{task}.parquet")] + (
                   ["--unaligned"] if args.unaligned else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:100]}
    report = json.loads(done.stdout.strip().splitlines()[-1])
    coefficients = np.load(out)
    report["beta"], report["alpha"] = coefficients["beta"], float(coefficients["alpha"])
    return report


def median_report(runs: list[dict]) -> dict:
    """One method's rounds as one report: the median time (every round's in ``rounds``),
    the highest peak, the coefficients of the first round (the same data every round)."""
    if any("error" in run for run in runs):
        return next(run for run in runs if "error" in run)
    report = dict(runs[0])
    seconds = [run["seconds"] for run in runs]
    report["seconds"] = float(np.median(seconds))
    report["peak_gb"] = max(run["peak_gb"] for run in runs)
    if len(runs) > 1:
        report["rounds"] = " ".join(f"{value:.2f}" for value in seconds)
    return report


def optimum_on_training_rows(task, X, y) -> float:
    from degenet.exact.solve import solve

    n_train = int(0.8 * len(y))
    family = "bernoulli" if task == "logistic" else "gaussian"
    solution = solve(family, X[:n_train], y[:n_train])
    return loss(task, X, y, solution.beta[:, 0], float(solution.alpha[0]), slice(0, n_train))


def run_task(task, args, folder) -> None:
    methods = [m for m in TASK_METHODS[task] if m in args.methods]
    free_gb = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    X, y = make_data(task, args.rows, args.features, args.seed)
    data_gb = X.nbytes / 1e9
    if any(method in USER for method in methods):
        write_parquet(os.path.join(folder, f"{task}.parquet"), X, y)
    reports, runs = {}, {method: [] for method in methods}
    for turn in range(args.repeat):  # rounds of every method: a drift hits them all alike
        for method in methods:
            if method == "statsmodels" and min(STATSMODELS_CAP_GB, 26 * data_gb) > free_gb - 2:
                reports[method] = {"error": f"skipped: may need {26 * data_gb:.1f} GB, "
                                            f"{free_gb:.1f} GB free"}
                continue
            if turn and "error" in reports.get(method, {}):
                continue
            runs[method].append(run_method(method, task, args, folder))
            reports[method] = median_report(runs[method])
            print(f"  ({task} {method} done, round {turn + 1})", file=sys.stderr, flush=True)
    n_train = int(0.8 * len(y))
    for report in reports.values():
        if "beta" in report:
            report["loss"] = loss(task, X, y, report["beta"], report["alpha"])
    exact_losses = [r["loss"] for m, r in reports.items()
                    if m in EXACT and "loss" in r]
    best = min(exact_losses) if exact_losses else float("nan")
    gd_best = optimum_on_training_rows(task, X, y) if "degenet-gd" in reports else None
    if "loss" in reports.get("degenet-gd", {}):
        gd = reports["degenet-gd"]
        gd["loss"] = loss(task, X, y, gd["beta"], gd["alpha"], slice(0, n_train))
    print_task(task, args, data_gb, reports, best, gd_best)


def print_task(task, args, data_gb, reports, best, gd_best) -> None:
    print(f"\n## {task}: {args.rows:,} rows x {args.features} float32 features "
          f"(data {data_gb:.2f} GB); exact optimum (least loss reached) {best:.10g}")
    print(f"{'method':<25}{'seconds':>9}{'peak GB':>9}{'x data':>8}{'before':>8}"
          f"{'rel. gap':>11}{'reached':>9}  notes")
    for method, r in reports.items():
        if "error" in r:
            print(f"{method:<25}  {r['error']}")
            continue
        if method in USER:
            continue
        reference, tol = (gd_best, 1e-4) if method == "degenet-gd" else (best, 1e-6)
        gap = (r["loss"] - reference) / reference
        notes = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in r.items()
                          if k in ("iter", "epochs", "compile", "train", "rounds"))
        print(f"{method:<25}{r['seconds']:9.2f}{r['peak_gb']:9.2f}{r['peak_gb'] / data_gb:8.2f}"
              f"{r['before_gb']:8.2f}{gap:11.2e}{'yes' if gap <= tol else 'NO':>9}  {notes}")
    peers = {m: r for m, r in reports.items() if m in ("sklearn-lbfgs", "sklearn-linear",
                                                        "sklearn-newton-cholesky", "glum")
             and "seconds" in r}
    if peers and "seconds" in reports.get("degenet-exact", {}):
        name = min(peers, key=lambda m: peers[m]["seconds"])
        fastest = peers[name]["seconds"]
        print(f"fastest of scikit-learn and glum: {name} {fastest:.2f} s; degenet exact "
              f"{fastest / reports['degenet-exact']['seconds']:.2f}x faster (target > 1)")
        if "seconds" in reports.get("degenet-gd", {}):
            print(f"degenet gradient descent takes {reports['degenet-gd']['seconds'] / fastest:.2f}"
                  f"x the fastest peer's time (target <= 3)")
    print_user(reports, best)


def print_user(reports, best) -> None:
    """The user's path: each method's time and its peak over its input's own size."""
    users = {m: r for m, r in reports.items() if m in USER}
    if not users:
        return
    print(f"\nthe user's path{'':<10}{'seconds':>9}{'input GB':>9}{'peak GB':>9}{'over in':>8}"
          f"{'rel. gap':>11}  notes (exact fits: every row; gd: 80%)")
    for method, r in users.items():
        if "error" in r:
            print(f"{method:<25}  {r['error']}")
            continue
        gap = (r["loss"] - best) / best if "loss" in r else float("nan")
        notes = ", ".join(f"{k} {v}" for k, v in r.items() if k in ("iter", "epochs", "rounds"))
        print(f"{method:<25}{r['seconds']:9.2f}{r['input_gb']:9.2f}{r['peak_gb']:9.2f}"
              f"{r['peak_gb'] - r['input_gb']:8.2f}{gap:11.2e}  {notes}")
    solver = reports.get("degenet-exact", {}).get("seconds")
    for ours, theirs in (("fit-frame-exact", "glum-frame"), ("fit-parquet-exact", "glum-parquet"),
                         ("estimator-exact", "glum")):
        if "seconds" in users.get(ours, {}) and "seconds" in reports.get(theirs, {}):
            a, b = users[ours], reports[theirs]
            line = (f"{ours}: {b['seconds'] / a['seconds']:.2f}x faster than {theirs} "
                    f"(target > 1); peak over input {a['peak_gb'] - a['input_gb']:.2f} GB "
                    "(target <= 0.6)")
            if solver:
                line += f"; {a['seconds'] / solver:.2f}x the solver alone (target <= 1.3)"
            print(line)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", default="logistic,linear")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per method")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every method; times are the rounds' medians")
    parser.add_argument("--unaligned", action="store_true",
                        help="plain np.empty data (JAX then copies it once)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    args.methods = args.methods.split(",")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1; received {args.repeat}")
    print(f"# large GLM benchmark: {args.rows:,} x {args.features}, seed {args.seed}, "
          f"{os.cpu_count()} CPUs; peak = VmHWM of each method's own process"
          + (f"; times: medians of {args.repeat} rounds" if args.repeat > 1 else ""))
    with tempfile.TemporaryDirectory() as folder:
        for task in args.tasks.split(","):
            run_task(task, args, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
