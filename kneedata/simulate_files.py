"""A simulated cohort written as real files: FIT runs, a pain diary per runner, a manifest.

:func:`kneedata.simulate_cohort` draws runner-days with a known hazard; this module
turns them into what a clinic would receive, so the whole chain (manifest -> import
-> derive -> cohort models) runs on real files with a known truth.

How the days become files
-------------------------
- A day with ``n_runs > 0`` becomes one FIT run (kneedata.testing.fitwrite) starting at
  07:00 UTC (UTC offset 0, so the local date is the simulated date), one record every
  10 s at a steady ``3.0 m/s`` and 170 steps/min.
- Its distance reproduces the simulated single-session spike category with the
  rule of Frandsen et al. 2025 (run distance / longest run in the previous 30
  days), computed here independently of :func:`kneedata.session_spikes`: ``none``
  runs draw 4-7 km but at most 0.95 x the longest recent run; ``small``,
  ``moderate`` and ``large`` runs are 1.2, 1.6 and 2.4 x the longest recent run.
  Runs are capped at 42 km; a spike the cap or a missing 30-day history prevents
  is counted in ``n_spike_mismatch`` of the returned table.
- Each day with ``max_pain_0_10 > 0`` becomes a diary entry; the first and last
  days get a pain-0 entry, so a diary read with ``complete=True`` spans the period.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SPIKE_MULTIPLIERS", "write_cohort_files"]

#: Distance of a spike run relative to the longest run in the previous 30 days.
SPIKE_MULTIPLIERS = {"spike_small": 1.2, "spike_moderate": 1.6, "spike_large": 2.4}
_MAX_KM = 42.0
_SPEED_M_S = 3.0
_STEP_S = 10


def _category(row: pd.Series) -> str | None:
    for name in ("spike_large", "spike_moderate", "spike_small"):
        if bool(row.get(name, False)):
            return name
    return None


def run_distances_km(days: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.Series, int]:
    """One runner's run distances [km] by date, and the number of spikes not reproduced."""
    dates = pd.DatetimeIndex(days["date"])
    out: dict[pd.Timestamp, float] = {}
    mismatch = 0
    for date, (_, row) in zip(dates, days.iterrows(), strict=True):
        if not row["n_runs"] > 0:
            continue
        recent = [d for day, d in out.items() if date - pd.Timedelta(days=30) <= day < date]
        longest = max(recent) if recent else None
        base = float(rng.uniform(4.0, 7.0))
        cat = _category(row)
        if longest is None:
            mismatch += cat is not None
            km = base
        elif cat is None:
            km = min(base, 0.95 * longest)
        else:
            km = SPIKE_MULTIPLIERS[cat] * longest
            if km > _MAX_KM:
                mismatch += 1
                km = min(base, 0.95 * longest)
        out[date] = round(km, 3)
    return pd.Series(out, dtype=float), mismatch


def _records(start: pd.Timestamp, km: float, step_s: int = _STEP_S) -> pd.DataFrame:
    n = max(int(km * 1000 / (_SPEED_M_S * step_s)) + 1, 2)
    index = pd.date_range(start, periods=n, freq=f"{step_s}s", name="timestamp")
    dist = np.arange(n) * _SPEED_M_S * step_s
    return pd.DataFrame({"distance_m": dist, "speed_m_s": _SPEED_M_S, "cadence_spm": 170.0,
                         "heart_rate_bpm": 150.0}, index=index)


def _write_diary(days: pd.DataFrame, path: Path) -> None:
    pain = days[days["max_pain_0_10"].fillna(0) > 0]
    dates = pd.DatetimeIndex(days["date"])
    rows = [(dates.min(), 0.0), *zip(pd.DatetimeIndex(pain["date"]), pain["max_pain_0_10"],
                                     strict=True), (dates.max(), 0.0)]
    lines = ["date,side,site,pain_0_10,timing"]
    lines += [f"{d:%Y-%m-%d},right,around_kneecap,{p:g},after" for d, p in rows]
    path.write_text("\n".join(lines) + "\n")


def write_cohort_files(
    frame: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    seed: int = 0,
    height_m: float = 1.75,
    record_s: int = _STEP_S,
) -> pd.DataFrame:
    """Write a simulated cohort (:func:`kneedata.simulate_cohort`) as real files.

    Parameters
    ----------
    frame
        Simulated runner-days (``runner_id``, ``date``, ``n_runs``, spike flags,
        ``max_pain_0_10``).
    folder
        Created if missing: ``<runner_id>/watch/<date>.fit``,
        ``<runner_id>/pain_diary.csv`` and ``runners.csv`` (the manifest).
    seed
        Seed of the run distances.
    height_m
        Height written in the manifest for every runner [m].
    record_s
        Seconds between records (10: "smart" recording; 1: every second, ten
        times the samples).

    Returns
    -------
    pandas.DataFrame
        One row per runner: ``runner_id``, ``n_runs``, ``n_spike_mismatch``
        (simulated spikes the files cannot reproduce, see the module docstring).
        The manifest is ``folder / "runners.csv"``.
    """
    from kneedata.testing.fitwrite import write_activity_fit

    folder = Path(folder)
    rng = np.random.default_rng(seed)
    summary, manifest = [], ["runner_id,path,diary,height_m"]
    for rid, days in frame.groupby("runner_id", sort=True):
        days = days.sort_values("date")
        km, mismatch = run_distances_km(days, rng)
        watch = folder / str(rid) / "watch"
        watch.mkdir(parents=True, exist_ok=True)
        for date, dist in km.items():
            start = pd.Timestamp(str(date)).tz_localize("UTC") + pd.Timedelta(hours=7)
            write_activity_fit(watch / f"{start:%Y-%m-%d}.fit", _records(start, float(dist), record_s))
        _write_diary(days, folder / str(rid) / "pain_diary.csv")
        manifest.append(f"{rid},{rid}/watch,{rid}/pain_diary.csv,{height_m:g}")
        summary.append({"runner_id": str(rid), "n_runs": len(km), "n_spike_mismatch": mismatch})
    (folder / "runners.csv").write_text("\n".join(manifest) + "\n")
    return pd.DataFrame(summary)
