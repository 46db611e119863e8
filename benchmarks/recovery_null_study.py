"""The whole report's false findings with the recovery family in the lead's correction.

Each re-draw is one null runner of ``null_report_study.runner`` (runs, spikes, onsets
and diary from the independent ``single_runner_sim``; strength and cadence drawn
there) given wellness data and diary ratings drawn here, without kneedata and
independent of pain: sleep (AR(1) around a runner's own 6.6-7.8 h, SD 0.8 h, 60-95 %
of nights recorded, from a start day in the first third of the record), resting HR
(AR(1), SD 2.5 bpm) and overnight HRV (log-normal AR(1), SD 0.2 on ln ms) as an
RMSSD (a Garmin runner) or an SDNN (an Apple runner), and for half the runners
fatigue and soreness ratings 0-10 on 70 % of the days. Nothing here changes the
chance of pain, so every finding is false.

The recovery exposures are computed by kneedata (:func:`kneedata.metrics.recovery.recovery_daily`,
what is under test) and fitted as the report does (:func:`kneedata.recovery.fit_recovery_onsets`).
Measured per runner, under three rules:

- ``lead``: the lead's findings only, the recovery rows checks beside it (never findings);
- ``joint``: the recovery rows counted into the lead's Benjamini-Hochberg correction
  (:func:`kneedata.recovery.adjust_with_lead`; the report's rule);
- ``separate``: the recovery family with a correction of its own (for comparison).

Run from the repository root (about 3-6 s per runner on one core)::

    .venv/bin/python benchmarks/recovery_null_study.py --reps 100
    .venv/bin/python benchmarks/recovery_null_study.py --reps 100 --shift-h 1   # power

Seeds ``rep``; results in ``benchmarks/results/recovery_null_study.csv``. Measured
(docs/recovery.md): null, 120 runners: lead 4.2 %, joint 5.0 % (SE 2.0), separate 7.5 %;
``--shift-h 1``: a sleep term found the planted way in 97 %, ``--shift-h 0.4``: 42 %.
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
from null_report_study import runner

RESULTS = Path(__file__).resolve().parent / "results" / "recovery_null_study.csv"


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - phi ** 2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def wellness_of(dates: pd.DatetimeIndex, seed: int, *, before_onset: np.ndarray | None = None,
                shift_h: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(wellness by wake date, diary ratings by date, 'rmssd' or 'sdnn'), independent of pain.

    With ``shift_h`` the nights flagged in ``before_onset`` (the 7 days before each
    onset) are that many hours shorter: a planted association of sleep with onsets.
    """
    rng = np.random.default_rng([seed, 26])
    n = len(dates)
    start = int(rng.integers(0, n // 3))
    worn = (rng.random(n) < rng.uniform(0.6, 0.95)) & (np.arange(n) >= start)
    sleep = np.clip(rng.uniform(6.6, 7.8) + _ar1(rng, n, 0.3, 0.8), 2.0, 12.0)
    if shift_h and before_onset is not None:
        sleep = np.clip(sleep - shift_h * before_onset, 2.0, 12.0)
    rhr = 50 + _ar1(rng, n, 0.8, 2.5)
    hrv = np.exp(np.log(rng.uniform(35, 80)) + _ar1(rng, n, 0.6, 0.2))
    kind = "rmssd" if rng.random() < 0.5 else "sdnn"
    wellness = pd.DataFrame({
        "date": dates, "sleep_duration_h": np.where(worn, sleep, np.nan),
        "resting_hr_bpm": np.where(worn, np.round(rhr), np.nan),
        "hrv_rmssd_ms": np.where(worn & (kind == "rmssd"), hrv, np.nan),
        "hrv_sdnn_ms": np.where(worn & (kind == "sdnn"), hrv, np.nan)})
    ratings = pd.DataFrame({"date": dates})
    if rng.random() < 0.5:
        rated = rng.random(n) < 0.7
        for name in ("fatigue_0_10", "soreness_0_10"):
            score = np.clip(np.round(rng.uniform(2, 5) + _ar1(rng, n, 0.5, 1.5)), 0, 10)
            ratings[name] = np.where(rated, score, np.nan)
    return wellness, ratings, kind


def _before_onsets(onset: np.ndarray, days: int = 7) -> np.ndarray:
    """True on the ``days`` days before each onset (the onset day itself excluded)."""
    out = np.zeros(len(onset), dtype=bool)
    for i in np.flatnonzero(onset):
        out[max(0, i - days):i] = True
    return out


def one(rep: int, shift_h: float = 0.0) -> dict[str, Any]:
    from kneedata.findings import fit_lead, is_finding
    from kneedata.metrics.recovery import recovery_daily
    from kneedata.recovery import adjust_with_lead, fit_recovery_onsets

    frame = runner(1.0, rep)
    dates = pd.DatetimeIndex(frame["date"])
    before = _before_onsets(frame["onset"].to_numpy(dtype=bool))
    wellness, ratings, kind = wellness_of(dates, rep, before_onset=before, shift_h=shift_h)
    recovery = recovery_daily(wellness, ratings, days=dates)
    for c in recovery.columns:
        frame[c] = recovery[c].array
    out: dict[str, Any] = {"rep": rep, "hrv": kind, "n_onsets": int(frame["onset"].sum())}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        primary, _, _ = fit_lead(frame)
        if primary is None:
            return {**out, "lead": False, "joint": False, "separate": False, "n_recovery": 0}
        lead = primary.table
        rec = fit_recovery_onsets(frame, list(lead["exposure"]))
    found_lead = bool(lead.apply(is_finding, axis=1).any())
    out.update(lead=found_lead, separate=found_lead, joint=found_lead, n_recovery=0)
    if rec is not None:
        rtab = rec.table
        out["n_recovery"] = int(rtab["estimable"].astype(bool).sum())
        out["separate"] = found_lead or bool(rtab.apply(is_finding, axis=1).any())
        jl, jr = adjust_with_lead(lead, rtab)
        out["joint"] = bool(jl.apply(is_finding, axis=1).any()
                            or jr.apply(is_finding, axis=1).any())
        out["joint_recovery"] = bool(jr.apply(is_finding, axis=1).any())
        found = jr.loc[jr.apply(is_finding, axis=1)]
        right = ((found["exposure"].eq("short_sleep") & (found["ratio"] > 1))
                 | (found["exposure"].eq("sleep_vs_usual_h") & (found["ratio"] < 1)))
        out["sleep_found"] = bool(right.any())
    return out


def _share(x: pd.Series) -> str:
    p, n = float(x.mean()), len(x)
    return f"{100 * p:.1f} % (SE {100 * np.sqrt(p * (1 - p) / n):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--shift-h", type=float, default=0.0,
                        help="plant: nights this many hours shorter in the 7 days before "
                             "each onset (power instead of the null)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        shifts = [args.shift_h] * args.reps
        for k, row in enumerate(pool.map(one, range(args.reps), shifts, chunksize=2)):
            rows.append(row)
            if (k + 1) % 10 == 0:
                print(f"{k + 1} runners, {time.perf_counter() - t0:.0f} s", flush=True)
    results = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out, index=False)
    who = f"runners with {args.shift_h:g} h less sleep before onsets" if args.shift_h else "null runners"
    print(f"\n{len(results)} {who} with wellness (median {results['n_recovery'].median():.0f} "
          "estimable recovery terms); share told at least one association "
          "(false ones only when nothing is planted):")
    print("| rule | any false finding |\n|---|---|")
    for rule in ("lead", "joint", "separate"):
        print(f"| {rule} | {_share(results[rule].astype(bool))} |")
    if args.shift_h:
        print(f"| sleep term a finding the planted way (joint) | "
              f"{_share(results['sleep_found'].fillna(False).astype(bool))} |")
    print(f"\n{time.perf_counter() - t0:.0f} s; rows in {args.out}")


if __name__ == "__main__":
    main()
