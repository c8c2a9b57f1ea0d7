"""What the explanation costs: the demo's comparisons with and without it.

Usage::

    python bench/explain_cost.py             # 100,000 people, as `degenet demo`
    python bench/explain_cost.py --n 20000   # a short check

The peer is the same comparison without the explanation (``compare(explain=False)``): the
post's two targets, each the regression and ``mlp`` on one split. The explanation is the
average effects of every model, the H-statistic ranking of each network and the proposed
regression, fitted and scored on the same rows.

Two measurements, each in a fresh process (so neither run inherits the other's compiled
programs; imports, JAX's start and the data's generation are outside the timing):

* **plain** and **explained**: the wall time of both targets' comparisons; the extra time
  of the explanation is their difference, and its ratio to the plain time is the figure
  that the issue bounds by 1;
* inside the explained run, the explanation's own time (``Explanation.seconds``: ranking,
  proposed fits, effects) against the rest of the run, a second view of the same ratio that
  training noise between the two processes does not blur.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")


def child(n: int, seed: int, explain: bool) -> dict:
    import warnings

    import jax  # noqa: F401  (JAX starts before the clock)

    from degenet.demo import run_demo
    from degenet.datasets import balloons

    balloons(1000, seed=seed)  # the generator's first call out of the timing
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    demo = run_demo(n, seed=seed, explain=explain)
    total = time.perf_counter() - start
    parts = {}
    for target, comparison in demo.comparisons.items():
        if comparison.explanation is not None:
            for name, seconds in comparison.explanation.seconds.items():
                parts[f"{target} {name}"] = round(seconds, 3)
    proposals = {target: [p.formula for p in c.explanation.proposals.values()]
                 for target, c in demo.comparisons.items() if c.explanation is not None}
    return {"seconds": total, "parts": parts, "proposals": proposals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["plain", "explained"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.n, args.seed, args.child == "explained")))
        return
    runs = {}
    for mode in ("plain", "explained"):
        done = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--seed",
                               str(args.seed), "--child", mode], capture_output=True,
                              text=True, check=True)
        runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    plain, explained = runs["plain"]["seconds"], runs["explained"]["seconds"]
    inside = sum(runs["explained"]["parts"].values())
    print(f"degenet demo comparisons, n={args.n:,}, seed {args.seed}, load {_load()}")
    print(f"  plain (explain=False)       {plain:7.1f} s")
    print(f"  explained (explain=True)    {explained:7.1f} s")
    print(f"  extra / plain               {(explained - plain) / plain:7.2f}x   (bound: 1x)")
    print(f"  inside the explained run: explanation {inside:.1f} s, the rest "
          f"{explained - inside:.1f} s, ratio {inside / (explained - inside):.2f}x")
    for name, seconds in runs["explained"]["parts"].items():
        print(f"    {name:<28} {seconds:7.2f} s")
    for target, formulas in runs["explained"]["proposals"].items():
        for formula in formulas:
            print(f"  proposed for {target}: {formula}")


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
