"""Validate the experiment analysis by simulation: coverage, false positives, power.

Run from the repository root::

    .venv/bin/python benchmarks/bench_experiment.py              # about 10 minutes
    .venv/bin/python benchmarks/bench_experiment.py --reps 100   # a quick look

Pain series are drawn here, independently of kneedata: a stationary AR(1) around
3 points (marginal SD 1.2, phi 0.3 / 0.6 / 0.8), the effect added on B days,
rounded to whole points, clipped to 0-10, and 10 % of days left out at random.
Each simulated experiment goes through the public :func:`kneedata.analyse_experiment`
(3 carry-over days left out). Reported:

* coverage of the 95 % interval of ``B - A`` (target 92-98 %) and the model's
  false-positive rate (p < 0.05 with no effect);
* the randomisation test's false-positive rate (p <= 0.05 with no effect): exact by
  construction, but with 4 pairs (16 orders) p cannot go below 0.125, so the rate
  is 0; with 6 pairs (64 orders) it should be close to, and not above, 5 %;
* power to see a 1-point drop (interval excluding 0, estimate below 0) by block
  length and number of pairs (phi 0.6).

Timing is reported as a ratio to a same-process baseline (an ordinary least-squares
fit of the same data with numpy), so the numbers compare across machines.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from experiment_sim import simulated_experiment

import kneedata as kd


def run(rng: np.random.Generator, reps: int, **design) -> pd.DataFrame:
    rows = []
    for _ in range(reps):
        schedule, diary = simulated_experiment(rng, **design)
        rows.append(kd.analyse_experiment(schedule, diary).table.iloc[0])
    return pd.DataFrame(rows)


def baseline_seconds(rng: np.random.Generator, reps: int) -> float:
    start = time.perf_counter()
    for _ in range(reps):
        y = rng.normal(size=100)
        X = np.column_stack([np.ones(100), rng.random(100) < 0.5])
        np.linalg.lstsq(X, y, rcond=None)
    return time.perf_counter() - start


def validation(rng: np.random.Generator, reps: int) -> pd.DataFrame:
    rows = []
    for n_pairs in (4, 6):
        for phi in (0.3, 0.6, 0.8):
            t0 = time.perf_counter()
            table = run(rng, reps, effect=0.0, phi=phi, block_days=14, n_pairs=n_pairs)
            seconds = (time.perf_counter() - t0) / reps
            rows.append({
                "n_pairs": n_pairs, "phi": phi,
                "coverage_pct": 100 * float(((table["ci_low"] <= 0)
                                             & (table["ci_high"] >= 0)).mean()),
                "model_false_positive_pct": 100 * float((table["p_value"] < 0.05).mean()),
                "randomisation_false_positive_pct":
                    100 * float((table["p_randomization"] <= 0.05).mean()),
                "mean_estimate": float(table["estimate"].mean()),
                "ms_per_experiment": 1000 * seconds})
    return pd.DataFrame(rows)


def power(rng: np.random.Generator, reps: int) -> pd.DataFrame:
    rows = []
    for block_days in (7, 14, 21, 28):
        for n_pairs in (2, 4, 6):
            table = run(rng, reps, effect=-1.0, phi=0.6, block_days=block_days,
                        n_pairs=n_pairs)
            rows.append({"block_days": block_days, "n_pairs": n_pairs,
                         "weeks": 2 * n_pairs * block_days // 7,
                         "power_1_point_pct": 100 * float((table["ci_high"] < 0).mean()),
                         "coverage_pct": 100 * float(((table["ci_low"] <= -1)
                                                      & (table["ci_high"] >= -1)).mean())})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400,
                        help="experiments per validation cell (power: half)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    base = baseline_seconds(rng, 200) / 200
    valid = validation(rng, args.reps)
    valid["ratio_to_ols"] = valid.pop("ms_per_experiment") / 1000 / base
    print(f"No effect, 14-day blocks, {args.reps} experiments per row "
          "(whole points, 10 % days missing):")
    print(valid.round(2).to_string(index=False))
    print(f"\nPower for a 1-point drop (phi 0.6, SD 1.2), {args.reps // 2} per row:")
    print(power(rng, args.reps // 2).round(1).to_string(index=False))


if __name__ == "__main__":
    main()
