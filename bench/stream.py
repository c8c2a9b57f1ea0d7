"""Streaming Parquet datasets: streamed gradient descent and the streamed exact solver
against one decode pass, peak memory, and agreement with the in-memory fit.

    python bench/stream.py make [--scale S] [--data DIR]     # d20m (20M x 20), d2m (2M x 100)
    flock /tmp/degenet-bigmem.lock flock /tmp/degenet-bench.lock \\
        nice -n 10 python bench/stream.py run [--scale S] [--epochs E] [--no-memory]

``--scale 0.1`` makes and runs a tenth of the rows (``DIR/scale-0.1/``). Each measured fit
runs in its own process (peak RSS is that process's VmHWM). Per dataset and model (logistic
on ``y_log``, linear on ``y_lin``) it prints:

* decode: one pass reading the row groups and building the float32 design blocks
  (:class:`degenet.data.blocks.Source`, blocks thrown away): rows/s;
* GD: ``degenet.fit(..., stream=True)`` rows read per second of training (passes x rows,
  validation rows included) as a share of the decode rate (target >= 80%), that of decode
  passes run just before and just after the fit (the share to the dataset's first decode
  pass is printed too); a run that ends
  at ``max_epochs`` reads once more to score its last epoch's weights on the validation
  rows (:mod:`degenet.train.stream`), so the share counting epochs only is printed too;
* exact: the streamed solver's seconds over (its passes x one decode pass) (target <= 1.3x),
  the decode pass timed before and after the solve in the solver's own process, of the
  blocks the solver reads (column-major for Newton on one output: no transpose of the record
  batches; :func:`degenet.streaming.solver_source`); beside it,
  the same over a decode pass on one core (the process pinned to it), the rate the issue
  quoted: on 2 cores the decode's threads take both, so the ratio to it is the solver's
  whole extra work, not only the part that could not overlap;
* (``child`` alone) the CPU seconds of every thread and the minor page faults of each timed
  pass, to see how many cores a pass keeps busy;
* peak RSS of each streamed fit, and of a one-epoch fit on a quarter of the files (the peak
  must not grow with the rows; target < 1 GB);
* agreement with ``degenet.fit(..., stream=False)`` (the table read whole): exact
  coefficients' max relative difference (target 1e-10); GD: each fit's gap to the exact
  optimum of its training rows, as a share of the loss (target: within 1e-4).

Print ``uptime`` beside the figures: on a shared machine they move with the load.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SETS = {"d20m": dict(rows=20_000_000, features=20, row_group_rows=131_072),
        "d2m": dict(rows=2_000_000, features=100, row_group_rows=32_768)}
MODELS = (("logistic", "y_log"), ("linear", "y_lin"))
FAMILIES = {"logistic": "bernoulli", "linear": "gaussian"}


def folder_for(data: str, scale: float, name: str) -> str:
    return os.path.join(data if scale == 1.0 else os.path.join(data, f"scale-{scale:g}"), name)


def make_dataset(folder: str, *, n_rows: int, n_features: int, n_files: int = 20,
                 row_group_rows: int = 131_072) -> None:
    """``n_files`` Parquet files: float32 ``x0..`` with unequal means and spreads, a gaussian
    ``y_lin`` and a bernoulli ``y_log`` from one linear predictor; a file at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(12345)
    beta = rng.normal(0.0, 0.5, n_features) / np.sqrt(n_features)
    means, spreads = rng.normal(0.0, 3.0, n_features), np.exp(rng.normal(0.0, 0.7, n_features))
    per_file = -(-n_rows // n_files)
    for f in range(n_files):
        rng = np.random.default_rng([0, f])
        m = min(per_file, n_rows - f * per_file)
        Z = rng.standard_normal((m, n_features), dtype=np.float32)
        eta = (Z @ beta.astype(np.float32)).astype(np.float64) - 0.3
        X = Z * spreads.astype(np.float32) + means.astype(np.float32)
        columns = {f"x{j}": X[:, j] for j in range(n_features)}
        columns["y_lin"] = (eta + rng.standard_normal(m)).astype(np.float32)
        columns["y_log"] = (rng.random(m) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float32)
        pq.write_table(pa.table(columns), os.path.join(folder, f"part-{f:05d}.parquet"),
                       row_group_size=row_group_rows, compression="snappy")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss is inherited across exec)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


LAYOUTS = {"C": "row-major", "F": "column-major"}


def child(source: str, target: str, features: int, task: str, extra: dict) -> dict:
    """One measurement in this process (``python bench/stream.py child ...``)."""
    import warnings

    warnings.simplefilter("ignore")
    names = [f"x{j}" for j in range(features)]
    out = {}
    if task in ("decode", "exact-stream"):
        from degenet.data.blocks import Coder, Source
        from degenet.model.families import get_family
        from degenet.streaming import open_table, solve_table, solver_source, target_summary

        family = get_family(FAMILIES[extra.get("model", "linear")])
        table = open_table(source, target, features=names, validation=0.0)
        classes = family.encode_target(table.stats.target).classes
        blocks = Source(Coder(table.plan, table.encoding, classes, table.stats.dtype),
                        table.groups)
        if task == "exact-stream":  # the solver's own decode: its blocks' layout
            blocks = solver_source(blocks, family, family.n_outputs(
                len(classes) if classes else None))
            out["layout"] = blocks.coder.order

        out["cpu"] = {}  # phase -> [CPU seconds of every thread, minor page faults]

        def timed(phase: str, work):
            start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            result = work()
            now = resource.getrusage(resource.RUSAGE_SELF)
            out["cpu"][phase] = [now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime,
                                 now.ru_minflt - used.ru_minflt]
            return result, time.perf_counter() - start

        def decode_pass(phase: str = "decode") -> float:
            out["rows"], seconds = timed(phase, lambda: sum(
                len(train) + len(val) for train, val in blocks.blocks()))
            return seconds

        if task == "decode":
            out["seconds"] = decode_pass()
        else:
            # A decode pass before and after the solve, in this process: the machine's speed
            # drifts between processes (a pass took 2.3-4.2 s within an hour).
            before = decode_pass("decode before")
            values, counts = target_summary(table.stats, classes)
            exact, out["seconds"] = timed("exact", lambda: solve_table(
                table, blocks, family, True, len(classes) if classes else None, values, counts))
            out["decode_seconds"] = [before, decode_pass("decode after")]
            out.update(passes=exact.solved.passes, beta=exact.solution.beta.ravel().tolist(),
                       alpha=exact.solution.alpha.tolist())
    else:
        import degenet

        start = time.perf_counter()
        fitted = degenet.fit(source, target, model=extra["model"], features=names,
                             solver=task, stream=extra["stream"], **extra.get("training", {}))
        out["seconds"] = time.perf_counter() - start
        regression = fitted.exact
        out.update(beta=regression.solution.beta.ravel().tolist(),
                   alpha=regression.solution.alpha.tolist(), exact_seconds=regression.seconds,
                   loss_gap_relative=regression.loss_gap_relative if task == "gd" else 0.0)
        if fitted.training is not None:
            training = fitted.training
            # A run that ends at max_epochs with validation rows reads them once more.
            out.update(epochs=training.epochs, train_seconds=training.train_seconds,
                       passes=training.epochs + int(not training.stopped_early
                                                    and training.watched == "val_loss"))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def measure(source: str, target: str, features: int, task: str, **extra) -> dict:
    cores = extra.get("cores")
    # ``cores``: the child runs on that many cores from its start (every thread inherits it).
    pin = (lambda: os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])
           ) if cores else None
    done = subprocess.run([sys.executable, __file__, "child", source, target, str(features),
                           task, json.dumps(extra)], capture_output=True, text=True,
                          preexec_fn=pin)
    if done.returncode:
        raise RuntimeError(f"{task} on {source} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _both(seconds: list) -> str:
    """The seconds of the decode passes before and after a fit."""
    return " and ".join(f"{t:.2f}" for t in seconds)


def run(data: str, scale: float, epochs: int, memory: bool) -> None:
    print(f"uptime: {os.popen('uptime').read().strip()}")
    for name, spec in SETS.items():
        source, p = folder_for(data, scale, name), spec["features"]
        files = sorted(glob.glob(os.path.join(source, "*.parquet")))
        decode = measure(source, "y_log", p, "decode")
        # Pinning a process to one core needs sched_setaffinity (Linux).
        one_core = (measure(source, "y_log", p, "decode", cores=1)["seconds"]
                    if hasattr(os, "sched_setaffinity") else float("nan"))
        rows, rate = decode["rows"], decode["rows"] / decode["seconds"]
        print(f"\n== {name}: {rows:,} rows x {p} float32 features, "
              f"{sum(map(os.path.getsize, files)) / 1e9:.2f} GB in {len(files)} files")
        print(f"decode (read + design blocks): {rate / 1e6:.2f} M rows/s "
              f"({decode['seconds']:.1f} s a pass), peak RSS {decode['peak_rss_mb']:.0f} MB; "
              f"on one core {rows / one_core / 1e6:.2f} M rows/s ({one_core:.1f} s)")
        quarter = os.path.join(source, "part-0000[0-4].parquet")
        small = measure(quarter, "y_log", p, "gd", model="logistic", stream=True,
                        training={"max_epochs": 1})
        big = measure(source, "y_log", p, "gd", model="logistic", stream=True,
                      training={"max_epochs": 1})
        print(f"peak RSS of a one-epoch streamed fit: a quarter of the rows "
              f"{small['peak_rss_mb']:.0f} MB, all {big['peak_rss_mb']:.0f} MB", flush=True)
        for model, target in MODELS:
            exact = measure(source, target, p, "exact-stream", model=model)
            # The GD fit's decode passes: one just before and one just after it, each in a
            # process of its own (in the fit's process they would add to its peak RSS).
            around = [measure(source, "y_log", p, "decode")["seconds"]]
            gd = measure(source, target, p, "gd", model=model, stream=True,
                         training={"max_epochs": epochs})
            around.append(measure(source, "y_log", p, "decode")["seconds"])
            near = rows / float(np.mean(around))
            gd_rate = gd["passes"] * rows / gd["train_seconds"]
            epoch_rate = gd["epochs"] * rows / gd["train_seconds"]
            print(f"-- {model} ({target})")
            own = float(np.mean(exact["decode_seconds"]))
            print(f"  exact streamed: {exact['seconds']:.1f} s, {exact['passes']:g} passes "
                  f"= {exact['seconds'] / (exact['passes'] * own):.2f} x (passes x decode "
                  f"pass of its {LAYOUTS[exact['layout']]} blocks: "
                  f"{_both(exact['decode_seconds'])} s before and after, same process); "
                  f"{exact['seconds'] / (exact['passes'] * one_core):.2f} x passes "
                  f"x a one-core decode pass (row-major); peak RSS "
                  f"{exact['peak_rss_mb']:.0f} MB")
            print(f"  GD streamed: {gd['epochs']} epochs + {gd['passes'] - gd['epochs']} "
                  f"validation pass in {gd['train_seconds']:.1f} s, {gd_rate / 1e6:.2f} M rows "
                  f"read/s = {gd_rate / near:.0%} of decode (passes of "
                  f"{_both(around)} s just before and after; "
                  f"{epoch_rate / near:.0%} counting epochs only; "
                  f"{gd_rate / rate:.0%} of the first decode above); "
                  f"gap to the optimum {gd['loss_gap_relative']:.2e} of the "
                  f"loss; peak RSS {gd['peak_rss_mb']:.0f} MB", flush=True)
            if not memory:
                continue
            whole = measure(source, target, p, "exact", model=model, stream=False)
            a = np.r_[exact["beta"], exact["alpha"]]
            b = np.r_[whole["beta"], whole["alpha"]]
            gd_whole = measure(source, target, p, "gd", model=model, stream=False,
                               training={"max_epochs": epochs})
            print(f"  in memory: exact {whole['exact_seconds']:.1f} s solving, "
                  f"{whole['seconds']:.1f} s in all (peak RSS "
                  f"{whole['peak_rss_mb']:.0f} MB), coefficients max rel diff "
                  f"{np.max(np.abs(a - b) / np.abs(b)):.2e}; GD {gd_whole['epochs']} epochs, "
                  f"gap {gd_whole['loss_gap_relative']:.2e} of the loss (streamed - in memory "
                  f"{gd['loss_gap_relative'] - gd_whole['loss_gap_relative']:+.2e})",
                  flush=True)
    print(f"\nuptime: {os.popen('uptime').read().strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["make", "run", "child"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--data", default=os.path.join(HERE, "data", "stream"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the in-memory fits (they read the table whole)")
    args = parser.parse_args()
    if args.command == "make":
        for name, spec in SETS.items():
            folder = folder_for(args.data, args.scale, name)
            if not glob.glob(os.path.join(folder, "*.parquet")):
                make_dataset(folder, n_rows=int(spec["rows"] * args.scale),
                             n_features=spec["features"],
                             row_group_rows=max(1024, int(spec["row_group_rows"] * args.scale)))
    elif args.command == "child":
        source, target, features, task, extra = args.args
        print(json.dumps(child(source, target, int(features), task, json.loads(extra))))
    else:
        run(args.data, args.scale, args.epochs, not args.no_memory)


if __name__ == "__main__":
    main()
