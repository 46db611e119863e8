"""Benchmark the metrics: ten years of daily data and 3,000 runs through every function.

Run from the repository root::

    .venv/bin/python benchmarks/bench_metrics.py            # 10 years, 3,000 runs
    .venv/bin/python benchmarks/bench_metrics.py --years 2 --runs 600

For each function it reports wall-clock seconds (best of ``--repeat``), peak memory
traced by :mod:`tracemalloc` (a separate, untimed pass: tracing slows Python code),
and the ratio to a same-process baseline: a naive pandas version of a similar job
on the same data (groupby, rolling, a loop of per-run means). The ratio makes the
numbers comparable across machines. Synthetic records have one sample every 5 s
(about 1.8 million samples for 3,000 runs). Reading records from a Parquet store is
not included: ``gait_metrics`` gets them from memory here.

Target (issue 5): the whole set well under one second per year of data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kneedata import DataQualityWarning
from kneedata.metrics.gait import gait_metrics
from kneedata.metrics.load import daily_load, load_metrics, session_spikes
from kneedata.metrics.shoes import shoe_summary, shoe_usage


class MemoryStore:
    """Duck-typed store: ``activities()`` and ``records(activity_id)`` from memory."""

    def __init__(self, activities: pd.DataFrame, records: dict[str, pd.DataFrame]):
        self._activities = activities
        self._records = records

    def activities(self) -> pd.DataFrame:
        return self._activities

    def records(self, activity_id: str) -> pd.DataFrame:
        return self._records[activity_id]


def synthetic(years: int, n_runs: int, sample_s: float, seed: int = 7):
    """Activities, records, shoes and episodes of one synthetic runner."""
    rng = np.random.default_rng(seed)
    n_days = int(round(365.25 * years))
    first = dt.date(2015, 1, 1)
    day = np.sort(rng.integers(0, n_days, size=n_runs))
    start = (pd.Timestamp(first, tz="UTC") + pd.to_timedelta(day, unit="D")
             + pd.to_timedelta(rng.integers(6 * 3600, 20 * 3600, size=n_runs), unit="s"))
    minutes = rng.gamma(4.0, 12.0, size=n_runs).clip(15, 180)
    pace_speed = rng.normal(3.1, 0.35, size=n_runs).clip(2.2, 4.5)
    n_shoes = 12
    shoe_of = (day // (n_days / n_shoes)).astype(int).clip(0, n_shoes - 1)
    rotate = rng.random(n_runs) < 0.25
    shoe_of[rotate] = (shoe_of[rotate] + 1) % n_shoes
    ids = [f"{i:016x}-0" for i in range(n_runs)]
    activities = pd.DataFrame({
        "activity_id": ids,
        "sport": "running",
        "sub_sport": np.where(rng.random(n_runs) < 0.1, "trail", "generic"),
        "start_time_utc": start,
        "local_date": [first + dt.timedelta(days=int(d)) for d in day],
        "distance_m": minutes * 60 * pace_speed,
        "timer_time_s": minutes * 60,
        "avg_heart_rate_bpm": rng.normal(148, 8, size=n_runs),
        "max_heart_rate_bpm": rng.normal(172, 6, size=n_runs),
        "ascent_m": rng.gamma(2.0, 40.0, size=n_runs),
        "descent_m": rng.gamma(2.0, 40.0, size=n_runs),
        "rpe": np.where(rng.random(n_runs) < 0.7, rng.integers(2, 9, size=n_runs), np.nan),
        "shoe_id": [f"shoe{s:02d}" for s in shoe_of],
    })
    shoes = pd.DataFrame({
        "shoe_id": [f"shoe{s:02d}" for s in range(n_shoes)],
        "name": [f"Shoe {s}" for s in range(n_shoes)],
        "brand": "Acme",
        "model": [f"Model {s % 4}" for s in range(n_shoes)],
        "drop_mm": rng.choice([4.0, 8.0, 10.0], size=n_shoes),
        "stack_mm": 30.0,
        "first_used": pd.NaT,
        "retired": pd.NaT,
        "initial_km": 0.0,
        "default_for": None,
    })
    onsets = pd.to_datetime(first) + pd.to_timedelta(np.sort(rng.integers(0, n_days, size=3 * years)), unit="D")
    episodes = pd.DataFrame({"episode_id": np.arange(1, len(onsets) + 1), "onset_date": onsets})

    records: dict[str, pd.DataFrame] = {}
    for i, aid in enumerate(ids):
        n = max(int(minutes[i] * 60 / sample_s), 10)
        t = start[i] + pd.to_timedelta(np.arange(n) * sample_s, unit="s")
        speed = (pace_speed[i] + 0.15 * np.sin(np.arange(n) / 40) + rng.normal(0, 0.05, n)).clip(0.5)
        cadence = 118 + 15 * speed + rng.normal(0, 2, n)
        distance = np.cumsum(speed * sample_s)
        altitude = 100 + 20 * np.sin(distance / 800) + rng.normal(0, 0.3, n)
        step = speed * 60 / cadence
        records[aid] = pd.DataFrame(
            {"distance_m": distance, "speed_m_s": speed, "cadence_spm": cadence,
             "altitude_m": altitude, "heart_rate_bpm": rng.normal(148, 8, n),
             "step_length_m": step.round(3), "stance_time_ms": rng.normal(250, 8, n),
             "stance_time_balance_pct": rng.normal(49.5, 0.8, n),
             "vertical_oscillation_mm": rng.normal(90, 4, n),
             "vertical_ratio_pct": np.nan, "moving": speed > 0.5},
            index=pd.DatetimeIndex(t, name="timestamp"),
        )
    return activities, records, shoes, episodes


# ----------------------------------------------------------------------- baselines
def naive_daily(acts: pd.DataFrame) -> pd.DataFrame:
    g = acts.groupby(pd.to_datetime(acts["local_date"])).agg(
        distance_km=("distance_m", "sum"), duration_min=("timer_time_s", "sum"),
        n_runs=("activity_id", "size"), longest_run_km=("distance_m", "max"))
    return g.reindex(pd.date_range(g.index.min(), g.index.max(), freq="D"), fill_value=0)


def naive_load(daily: pd.DataFrame) -> pd.DataFrame:
    x = daily["distance_km"]
    out = pd.DataFrame({"a": x.rolling(7).sum(), "c": x.rolling(28).mean() * 7})
    out["r"] = out["a"] / out["c"]
    out["e7"] = x.ewm(alpha=0.25, adjust=False).mean()
    out["e28"] = x.ewm(alpha=2 / 29, adjust=False).mean()
    out["m"] = x.rolling(7).mean() / x.rolling(7).std(ddof=0)
    return out


def naive_spikes(acts: pd.DataFrame) -> pd.Series:
    s = pd.Series(acts["distance_m"].to_numpy(), index=pd.to_datetime(acts["local_date"]))
    return s / s.rolling("30D", closed="left").max()


def naive_gait(store: MemoryStore) -> pd.DataFrame:
    rows = {}
    for aid in store.activities()["activity_id"]:
        rec = store.records(aid)
        rows[aid] = rec.loc[rec["moving"], ["cadence_spm", "speed_m_s"]].mean()
    return pd.DataFrame(rows).T


def naive_shoes(acts: pd.DataFrame) -> pd.DataFrame:
    out = acts[["shoe_id", "distance_m"]].copy()
    out["km_before"] = out.groupby("shoe_id")["distance_m"].cumsum() - out["distance_m"]
    return out


# ----------------------------------------------------------------------- harness
def best_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", DataQualityWarning)

    t0 = time.perf_counter()
    acts, records, shoes, episodes = synthetic(args.years, args.runs, args.sample_s)
    n_samples = sum(len(r) for r in records.values())
    store = MemoryStore(acts, records)
    print(f"synthetic data: {args.years} years, {len(acts)} runs, {n_samples:,} samples "
          f"(1 per {args.sample_s:g} s), built in {time.perf_counter() - t0:.1f} s")
    daily = daily_load(acts)
    naive_d = naive_daily(acts)

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("daily_load", lambda: daily_load(acts), lambda: naive_daily(acts)),
        ("load_metrics", lambda: load_metrics(daily, known_missing=daily.index[::97],
                                              infer_missing_gap_days=21),
         lambda: naive_load(naive_d)),
        ("session_spikes", lambda: session_spikes(acts), lambda: naive_spikes(acts)),
        ("gait_metrics", lambda: gait_metrics(records, acts, height_m=1.78),
         lambda: naive_gait(store)),
        ("shoe_usage", lambda: shoe_usage(acts, shoes), lambda: naive_shoes(acts)),
        ("shoe_summary", lambda: shoe_summary(acts, shoes, episodes=episodes),
         lambda: naive_shoes(acts).groupby("shoe_id")["distance_m"].agg(["sum", "size"])),
    ]
    header = f"{'function':<16}{'seconds':>10}{'peak MB':>10}{'baseline s':>12}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    total = 0.0
    total_base = 0.0
    for name, fn, base in cases:
        seconds = best_time(fn, args.repeat)
        base_s = best_time(base, args.repeat)
        mb = peak_mb(fn)
        total += seconds
        total_base += base_s
        print(f"{name:<16}{seconds:>10.3f}{mb:>10.1f}{base_s:>12.3f}{seconds / base_s:>8.2f}")
    print("-" * len(header))
    print(f"{'all':<16}{total:>10.3f}{'':>10}{total_base:>12.3f}{total / total_base:>8.2f}")
    per_year = total / args.years
    print(f"\n{per_year:.3f} s per year of data (target: well under 1 s per year)")
    return 0 if per_year < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
