"""Simulation study of the single-runner use case: which design should be the default?

One runner, 2-4 years, 8-25 pain episodes, a transient exposure (a run more than
twice the longest of the previous 30 days) in about 5-15 % of weeks with true odds
ratio 1, 2, 3 or 6 for the following 7 days, an episode-plus-washout refractory
period of 2.5-4 weeks, a daily or patchy diary. Data come from the independent
generator in ``benchmarks/single_runner_sim.py`` (it never imports kneedata); each
design is then fitted with kneedata's own models on the spike flag.

For each scenario and design it reports, over ``--reps`` seeded re-draws:

- ``median_ratio`` and ``bias`` (median log ratio minus the true log OR, over fits
  with a finite estimate);
- ``coverage``: share of re-draws whose 95 % interval covers the true OR (a fit
  that gives no interval counts as not covering);
- ``power``: share whose interval is estimable and lies above 1 (for OR 1: the
  share excluding 1 on either side, the false-positive rate);
- ``separated``: share of fits flagged separated;
- ``estimable``: share of fits with status ``ok``.

Run from the repository root::

    .venv/bin/python benchmarks/single_runner_study.py                 # full study
    .venv/bin/python benchmarks/single_runner_study.py --reps 20 --quick

The table is written to ``benchmarks/results/single_runner_study.csv`` and printed
as Markdown (copied into the README). Seeds are ``scenario_index * 100000 + rep``,
so every number is reproducible.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from single_runner_sim import Scenario, simulate

import kneedata as kd

EXPOSURE = "spike_large"

#: The designs compared: name -> fit on a frame for one exposure.
DESIGNS: dict[str, Callable[..., Any]] = {
    "case-crossover 28 d (old default)": lambda f, e: kd.case_crossover(f, e),
    "case-crossover 84 d": lambda f, e: kd.case_crossover(f, e, stratum_days=84),
    "case-crossover 84 d, all days, log-F": lambda f, e: kd.case_crossover(
        f, e, stratum_days=84, referents="all", penalty="logF"),
    "hazard logit, HAC (old daily model)": lambda f, e: kd.daily_model(f, e, lags=(7,)),
    "hazard logit, log-F": lambda f, e: kd.daily_model(
        f, e, lags=(7,), penalty="logF", cov_type="nonrobust"),
    "hazard logit + calendar spline, log-F": lambda f, e: kd.daily_model(
        f, e, lags=(7,), calendar_df=4, penalty="logF", cov_type="nonrobust"),
    "hazard cloglog": lambda f, e: kd.daily_model(
        f, e, lags=(7,), link="cloglog", cov_type="nonrobust"),
    "SCCS 182 d, log-F": lambda f, e: kd.case_series(f, e, period_days=182, penalty="logF"),
    "recurrent Cox": lambda f, e: kd.recurrent_cox(f, e, lags=(7,)),
}

#: Designs of the short run (``--quick``).
QUICK = ("case-crossover 28 d (old default)", "hazard logit, log-F",
         "SCCS 182 d, log-F", "recurrent Cox")


def scenarios() -> list[Scenario]:
    """The grid: OR x episodes on 3 years with a daily diary, then diary and length."""
    grid = [Scenario(odds_ratio=o) for o in (1, 2, 3, 6)]
    grid += [Scenario(odds_ratio=o, target_episodes=n) for n in (8, 25) for o in (1, 3)]
    grid += [Scenario(odds_ratio=o, diary="patchy") for o in (1, 3)]
    grid += [Scenario(odds_ratio=3, years=2, target_episodes=10),
             Scenario(odds_ratio=3, years=4, target_episodes=20)]
    return grid


def one_draw(args: tuple[int, Scenario, int, tuple[str, ...], str]) -> list[dict[str, Any]]:
    """Simulate one runner and fit every design; one record per design."""
    index, scenario, rep, designs, exposure = args
    seed = index * 100_000 + rep
    frame, facts = simulate(scenario, seed)
    out = []
    for name in designs:
        record: dict[str, Any] = {"scenario": index, "rep": rep, "design": name, **facts}
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = DESIGNS[name](frame, [exposure])
            row = result.table.iloc[0]
            record.update(log_ratio=float(row["log_ratio"]), ci_low=float(row["ci_low"]),
                          ci_high=float(row["ci_high"]), status=str(row["status"]),
                          estimable=bool(row["estimable"]), n_episodes=int(row["n_episodes"]),
                          separated=bool(result.separated))
        except (ValueError, RuntimeError) as err:
            record.update(log_ratio=np.nan, ci_low=np.nan, ci_high=np.nan,
                          status=f"error: {type(err).__name__}", estimable=False,
                          n_episodes=0, separated=False)
        record["seconds"] = time.perf_counter() - t0
        out.append(record)
    return out


def summarise(raw: pd.DataFrame, grid: list[Scenario], truth: str = "odds_ratio") -> pd.DataFrame:
    """Bias, coverage, power, separated and estimable shares per scenario x design."""
    rows = []
    for (index, design), g in raw.groupby(["scenario", "design"], sort=False):
        s = grid[int(index)]
        true = float(getattr(s, truth))
        finite = np.isfinite(g["log_ratio"])
        covers = (g["ci_low"] <= true) & (true <= g["ci_high"])
        if true == 1:
            power = g["estimable"] & ((g["ci_low"] > 1) | (g["ci_high"] < 1))
        else:
            power = g["estimable"] & (g["ci_low"] > 1)
        rows.append({
            "scenario": int(index), **asdict(s), "design": design, "reps": len(g),
            "episodes_seen": g["n_onsets_seen"].mean(),
            "episodes_used": g["n_episodes"].mean(),
            "spike_weeks": g["spike_week_share"].mean(),
            "median_ratio": float(np.exp(np.median(g.loc[finite, "log_ratio"])))
            if finite.any() else np.nan,
            "bias": float(np.median(g.loc[finite, "log_ratio"]) - np.log(true))
            if finite.any() else np.nan,
            "coverage": covers.mean(), "power": power.mean(),
            "separated": g["separated"].mean(), "estimable": g["estimable"].mean(),
            "ms_per_fit": 1000 * g["seconds"].mean(),
        })
    return pd.DataFrame(rows)


def _is_main(s: Scenario) -> bool:
    return s == Scenario(odds_ratio=s.odds_ratio)


def markdown(summary: pd.DataFrame) -> str:
    """The README table: one row per design, columns per main scenario."""
    main = summary[[_is_main(Scenario(**{k: r[k] for k in asdict(Scenario())}))
                    for _, r in summary.iterrows()]]
    lines = ["| design | OR 1: coverage / false pos. | OR 2: coverage / power | "
             "OR 3: coverage / power | OR 6: coverage / power | median OR at 6 | separated at 6 |",
             "|---|---|---|---|---|---|---|"]
    for design, g in main.groupby("design", sort=False):
        by = g.set_index("odds_ratio")
        cells = [f"{by.loc[o, 'coverage']:.0%} / {by.loc[o, 'power']:.0%}" for o in (1, 2, 3, 6)]
        lines.append(f"| {design} | " + " | ".join(cells)
                     + f" | {by.loc[6, 'median_ratio']:.1f} | {by.loc[6, 'separated']:.0%} |")
    return "\n".join(lines)


def slow_exposure(reps: int, workers: int) -> pd.DataFrame:
    """Power for a slow exposure: 8-week low-cadence blocks with true OR 2.5 (spikes OR 1).

    Fitted on the block flag itself (the true exposure, measured without error):
    the main analysis (7-day window: in a block during the previous week), the
    same with a calendar spline, and the recurrent Cox model.
    """
    grid = [Scenario(odds_ratio=1.0, slow_or=2.5)]
    designs = ("hazard logit, log-F", "hazard logit + calendar spline, log-F", "recurrent Cox",
               "case-crossover 84 d")
    tasks = [(0, grid[0], 50_000 + rep, designs, "low_cadence_block") for rep in range(reps)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        records = [r for chunk in pool.map(one_draw, tasks, chunksize=4) for r in chunk]
    return summarise(pd.DataFrame(records), grid, truth="slow_or")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100,
                        help="re-draws of the main scenarios (3 years, 15 episodes, daily diary)")
    parser.add_argument("--reps-other", type=int, default=40,
                        help="re-draws of every other scenario")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="four designs, main scenarios")
    parser.add_argument("--slow-only", action="store_true",
                        help="only the slow-exposure (8-week block) power check")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    slow = slow_exposure(args.reps, args.workers)
    slow.to_csv(args.out / "single_runner_slow_exposure.csv", index=False)
    print(slow[["design", "reps", "episodes_seen", "median_ratio", "coverage", "power"]]
          .round(2).to_string(index=False))
    if args.slow_only:
        return 0
    grid = scenarios()
    designs = QUICK if args.quick else tuple(DESIGNS)
    index_set = range(4) if args.quick else range(len(grid))
    tasks = [(i, grid[i], rep, designs, EXPOSURE) for i in index_set
             for rep in range(args.reps if _is_main(grid[i]) else args.reps_other)]
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for done, chunk in enumerate(pool.map(one_draw, tasks, chunksize=4), 1):
            records.extend(chunk)
            if done % 200 == 0:
                print(f"{done}/{len(tasks)} draws, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr)
    raw = pd.DataFrame(records)
    summary = summarise(raw, grid)
    raw.to_csv(args.out / "single_runner_study_raw.csv.gz", index=False)
    summary.to_csv(args.out / "single_runner_study.csv", index=False)
    print(markdown(summary))
    print(f"\n{len(tasks)} draws x {len(designs)} designs in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
