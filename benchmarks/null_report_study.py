"""The whole report's false findings, and the lead's power, before and after the findings rule.

Each re-draw is one runner from an independent generator (``single_runner_sim.py``
for runs, spikes, pain onsets and the diary, plus strength sessions and cadence
drawn here; neither imports kneedata). Under the null (``--odds-ratio 1``) nothing
the report looks at changes the chance of pain: a spike, a strength session and
cadence are all unrelated to onsets. With a planted spike effect (OR 3 or 6 for the
7 days after a spike) only the spike matters.

Each runner is analysed twice, on the same frame:

- **before**: the report as it was (lead: ``primary_analysis``, an interval that
  excludes 1 stated as "the interval does not include 1"; case-crossover: ML, log-F
  when separated; daily model: unpenalised with HAC errors; each section's term
  stated as "more/less common before pain" when its interval excludes 1);
- **after**: :func:`kneedata.report_findings` (a finding only in the lead: estimable,
  BH ``p_adjusted`` < 0.05, interval excluding 1; the other sections are checks).

Measured per scenario over ``--reps`` runners: the share of runners told at least one
association anywhere (``any``) and per section, and the share in which the lead
states the spike term as harmful (power when OR > 1). Binomial standard errors are
printed with each share; before and after are paired (the same runners).

Run from the repository root (about 1-2 s per runner and scenario on one core)::

    .venv/bin/python benchmarks/null_report_study.py --reps 40            # quick look
    .venv/bin/python benchmarks/null_report_study.py --reps 400 --workers 2

Results: ``benchmarks/results/null_report_study.csv`` (one row per runner and
scenario) and the summary printed as Markdown (copied into docs/findings.md).
Seeds: ``scenario_index * 100000 + rep``, so every number is reproducible.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from single_runner_sim import Scenario, simulate

import kneedata as kd

RESULTS = Path(__file__).resolve().parent / "results" / "null_report_study.csv"

#: Planted odds ratios of the spike (1 = the null runner).
ODDS_RATIOS = (1.0, 3.0, 6.0)


# --- the runner: an independent generator ------------------------------------------


def runner(odds_ratio: float, seed: int, effect_days: tuple[int, int] = (1, 7)) -> pd.DataFrame:
    """One runner's days in the analysis-frame layout, with strength and cadence.

    Runs, spikes, onsets and the diary come from ``single_runner_sim`` (2-4 years,
    8-25 planned episodes, daily or patchy diary, spikes in 5-15 % of weeks). Drawn
    here, independent of pain: ``n_strength`` (about 1.5 sessions a week, in spells:
    weeks with a routine and weeks without), logged from a start day in the first
    half of the record only (a routines log begun later: unknown before, as in
    real data); ``cadence_moving_spm`` on run days, a slow drift (AR(1), sd about
    3 spm over months) plus 2 spm per-run noise, 4 spm lower in the generator's
    8-week low-cadence blocks (which under this scenario change nothing).
    """
    rng = np.random.default_rng([seed, 23])
    s = Scenario(odds_ratio=odds_ratio, years=float(rng.uniform(2, 4)),
                 target_episodes=float(rng.uniform(8, 25)),
                 diary="patchy" if rng.random() < 0.5 else "daily",
                 big_run_week_prob=float(rng.uniform(0.05, 0.15)), effect_days=effect_days)
    frame, _ = simulate(s, seed)
    n = len(frame)
    weeks = n // 7 + 1
    active_week = np.repeat(rng.random(weeks) < 0.6, 7)[:n]  # spells of strength work
    sessions = (rng.random(n) < 2.5 / 7) & active_week
    start = int(rng.integers(0, n // 2))
    strength = sessions.astype(float)
    strength[:start] = np.nan
    drift = np.zeros(n)
    phi, sd = 0.995, 3.0
    e = rng.normal(0.0, sd * np.sqrt(1 - phi ** 2), n)
    for t in range(1, n):
        drift[t] = phi * drift[t - 1] + e[t]
    cadence = 168 + drift - 4 * frame["low_cadence_block"].to_numpy(dtype=float) + rng.normal(0, 2, n)
    ran = frame["distance_km"].to_numpy(dtype=float) > 0
    frame["n_strength"] = strength
    frame["cadence_moving_spm"] = np.where(ran, cadence, np.nan)
    return frame.drop(columns=["low_cadence_block"])


# --- the two rules ------------------------------------------------------------------


def _excludes_one(table: pd.DataFrame) -> pd.Series:
    est = table["estimable"].astype(bool)
    return est & ((table["ci_low"] > 1) | (table["ci_high"] < 1))


def before(frame: pd.DataFrame) -> dict[str, Any]:
    """What the report said before: any interval excluding 1, in any section."""
    from kneedata.findings import STRATUM_DAYS, _usable
    from kneedata.notebook import CASE_CROSSOVER_EXPOSURES, DAILY_EXPOSURES

    out: dict[str, Any] = {"lead": False, "case_crossover": False, "daily_model": False,
                           "spike": False}
    failures = (ValueError, RuntimeError, np.linalg.LinAlgError)
    try:
        lead = kd.primary_analysis(frame).table
        told = _excludes_one(lead)
        out["lead"] = bool(told.any())
        out["spike"] = bool((told & lead["exposure"].eq("spike_large")
                             & (lead["ratio"] > 1)).any())
    except failures:
        pass
    try:
        names = _usable(frame, CASE_CROSSOVER_EXPOSURES)
        cc = kd.case_crossover(frame, names, hazard_days=7, stratum_days=STRATUM_DAYS)
        if cc.separated:
            cc = kd.case_crossover(frame, names, hazard_days=7, stratum_days=STRATUM_DAYS,
                                   penalty="logF")
        out["case_crossover"] = bool(_excludes_one(cc.table).any())
    except failures:
        pass
    try:
        dm = kd.daily_model(frame, _usable(frame, DAILY_EXPOSURES), lags=(7,))
        out["daily_model"] = bool(_excludes_one(dm.table).any())
    except failures:
        pass
    out["any"] = out["lead"] or out["case_crossover"] or out["daily_model"]
    return out


def after(frame: pd.DataFrame) -> dict[str, Any]:
    """What the report says now: the ``finding`` rows of :func:`kneedata.report_findings`."""
    rows = kd.report_findings(frame)
    found = rows["finding"].astype(bool)
    by = {m: bool(found[rows["model"].eq(m)].any())
          for m in ("primary_analysis", "case_crossover", "daily_model")}
    spike = rows.loc[rows["model"].eq("primary_analysis") & rows["exposure"].eq("spike_large")]
    checks = rows.loc[~rows["model"].eq("primary_analysis")]
    disagree = checks["agrees_with_lead"].astype("boolean").eq(False).fillna(False)
    return {"lead": by["primary_analysis"], "case_crossover": by["case_crossover"],
            "daily_model": by["daily_model"], "any": bool(found.any()),
            "spike": bool((spike["finding"] & spike["direction"].eq("harmful")).any()),
            "spike_episodes": int(spike["n_episodes"].iloc[0]) if len(spike) else 0,
            "checks_disagree": bool(disagree.any())}


def one(args: tuple[int, float, int]) -> dict[str, Any]:
    index, odds_ratio, rep = args
    seed = index * 100000 + rep
    frame = runner(odds_ratio, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b, a = before(frame), after(frame)
    row: dict[str, Any] = {"odds_ratio": odds_ratio, "seed": seed,
                           "n_episodes": int(frame["onset"].sum())}
    row.update({f"before_{k}": v for k, v in b.items()})
    row.update({f"after_{k}": v for k, v in a.items()})
    return row


def mistimed(args: tuple[int, int, int]) -> dict[str, Any]:
    """The lead's spike row when the true effect is on days ``first..last`` after a spike."""
    first, last, rep = args
    seed = 900000 + rep  # the same runners for every window
    frame = runner(6.0, seed, effect_days=(first, last))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = kd.report_findings(frame)
    spike = rows.loc[rows["model"].eq("primary_analysis") & rows["exposure"].eq("spike_large")]
    est = float(spike["estimate"].iloc[0]) if len(spike) else np.nan
    return {"true_days": f"{first}-{last}", "seed": seed, "estimate": est,
            "finding": bool(len(spike) and spike["finding"].iloc[0])}


def mistimed_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Median estimate and share found, per true window (planted OR 6)."""
    return pd.DataFrame([{
        "true effect on days": days, "runners": len(part),
        "median estimate (planted 6)": f"{part['estimate'].median():.2g}",
        "lead finds it": _share(part["finding"].astype(bool))}
        for days, part in rows.groupby("true_days", sort=False)])


def _share(x: pd.Series) -> str:
    p, n = float(x.mean()), len(x)
    return f"{100 * p:.1f} ± {100 * np.sqrt(p * (1 - p) / n):.1f}"


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """One line per scenario: shares (%, ± binomial SE) before and after."""
    lines = []
    for odds, part in results.groupby("odds_ratio"):
        line: dict[str, Any] = {"spike OR": f"{odds:g}", "runners": len(part),
                                "median episodes": int(part["n_episodes"].median())}
        for when in ("before", "after"):
            for what in ("any", "lead", "case_crossover", "daily_model", "spike"):
                line[f"{when} {what}"] = _share(part[f"{when}_{what}"].astype(bool))
        diff = part["after_spike"].astype(float) - part["before_spike"].astype(float)
        line["spike power change (points)"] = (
            f"{100 * diff.mean():+.1f} ± {100 * diff.std(ddof=1) / np.sqrt(len(diff)):.1f}")
        lines.append(line)
    return pd.DataFrame(lines)


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (no extra dependency)."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--odds-ratios", type=float, nargs="+", default=list(ODDS_RATIOS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--mistimed", type=int, default=0, metavar="REPS",
                        help="instead: the lead's spike estimate for a planted OR 6 on days "
                             "1-7 vs 2-4 after a spike (the analysis window stays 7 days)")
    args = parser.parse_args()
    if args.mistimed:
        jobs3 = [(a, b, rep) for a, b in ((1, 7), (2, 4), (4, 7)) for rep in range(args.mistimed)]
        with ProcessPoolExecutor(max(1, args.workers)) as pool:
            found = pd.DataFrame(list(pool.map(mistimed, jobs3, chunksize=4)))
        found.to_csv(args.out.with_name("null_report_mistimed.csv"), index=False)
        print(markdown(mistimed_summary(found)))
        return
    jobs = [(i, odds, rep) for i, odds in enumerate(args.odds_ratios) for rep in range(args.reps)]
    t0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            rows = list(pool.map(one, jobs, chunksize=4))
    else:
        rows = [one(job) for job in jobs]
    results = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False)
    print(markdown(summary(results)))
    print(f"\n{len(rows)} runner analyses in {time.perf_counter() - t0:.0f} s "
          f"({args.workers} worker(s)); rows in {args.out}")


if __name__ == "__main__":
    main()
