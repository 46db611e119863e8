"""Coverage of the cohort designs under runner-trait confounding (simulation study).

Each replicate draws a cohort with :func:`kneedata.simulate_cohort` (default 40
runners x 365 days, a large single-session spike in the previous week with true
odds ratio 2, and a runner trait carried by 30 % of runners that multiplies the
onset odds by 4 and large spikes by 3) and fits every design. Reported per design:
the median odds ratio, the share of 95 % intervals covering the truth (nominal
0.95) and the share excluding 1 (power).

Usage::

    .venv/bin/python benchmarks/validate_cohort_models.py --reps 100
    .venv/bin/python benchmarks/validate_cohort_models.py --reps 10 --runners 20  # quick
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from kneedata import case_crossover, case_series, daily_model, simulate_cohort
from kneedata.cohort_models import runner_fixed_effects
from kneedata.simulate import TraitConfounding

TRUE_OR = 2.0
DESIGNS = {
    "case-crossover (runner x episode)": lambda f: case_crossover(f, ["spike_large"]),
    "conditional Poisson (runner x 91 d)": lambda f: case_series(f, ["spike_large"]),
    "runner fixed effects": lambda f: runner_fixed_effects(f, ["spike_large"]),
    "pooled GEE": lambda f: daily_model(f, ["spike_large"], lags=(7,), groups="runner_id"),
}


def replicate(seed: int, n_runners: int, n_days: int) -> list[dict]:
    frame = simulate_cohort(n_runners, n_days, seed=seed, effects={"spike_large": TRUE_OR},
                            trait_confounding=TraitConfounding(0.3, 4.0, 3.0))
    out = []
    for name, fit in DESIGNS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = fit(frame).table.iloc[0]
        out.append({"design": name, "seed": seed, "ratio": row["ratio"],
                    "covers": row["ci_low"] <= TRUE_OR <= row["ci_high"],
                    "excludes_1": row["ci_low"] > 1})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--runners", type=int, default=40)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [r for seed in range(args.reps) for r in replicate(seed, args.runners, args.days)]
    table = pd.DataFrame(rows).groupby("design", sort=False).agg(
        median_or=("ratio", "median"), coverage=("covers", "mean"),
        power=("excludes_1", "mean"), reps=("seed", "size"))
    print(f"{args.reps} replicates of {args.runners} runners x {args.days} days, true OR "
          f"{TRUE_OR}, trait: 30 % of runners, onset OR 4, large spikes x3 "
          f"({time.perf_counter() - started:.0f} s)")
    print(table.round(2).to_string())
    se = np.sqrt(0.95 * 0.05 / args.reps)
    print(f"Monte Carlo SE of a coverage near 0.95: {se:.3f}")


if __name__ == "__main__":
    main()
