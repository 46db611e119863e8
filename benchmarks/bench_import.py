"""Import benchmark: a long synthetic history and the real files, today's path vs the new one.

Usage::

    .venv/bin/python benchmarks/bench_import.py                  # 3,000 runs at 1 s (~10 M samples)
    .venv/bin/python benchmarks/bench_import.py --runs 300       # the same, smaller
    .venv/bin/python benchmarks/bench_import.py --baseline-runs 300  # today's path on 300 runs
    .venv/bin/python benchmarks/bench_import.py --real           # the real files instead

**History** (default): ``--runs`` runs over ten years, one sample per second
(15-180 min each, 57 min on average: 3,000 runs give about 10 M samples), written
as FIT files with the repository's FIT writer (:func:`kneedata.testing.fitwrite.
write_activity_fit`) into ``--cache`` (generated once, in parallel, then reused).
The same folder is imported into fresh stores, in this one process:

1. today's path: ``fit_engine="fitdecode"`` (the default before issue 15); with
   ``--baseline-runs N`` only the first N runs, compared by samples/s (today's path
   takes about ten times longer than the new one);
2. the new path: the default engine (fitfast, falling back to fitdecode);
3. a re-import of the same folder into the new store (all files unchanged).

For each it prints seconds, samples/s, the ratio to today's path, and the peak
resident memory of any single worker process (sampled every 0.1 s with psutil).
Targets (issue 15): the new path >= 5x today's; peak memory per worker < 500 MB;
re-import >= 20x faster than the first import. The machine may be shared: the
ratios, measured back to back in one process, are the comparable numbers.

**Real files** (``--real``): ``$KNEEDATA_REAL_DATA`` or ``../shared/real_data``,
imported ``--copies`` times (through symlinked folders), first import vs re-import,
and records/s with 1 worker vs all workers.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import os
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
#: Mean run length [min] of the synthetic history (gamma(4, 14.3) clipped to 15-180).
MEAN_RUN_MIN = 57.0


def _data_dir(given: str | None) -> Path:
    for cand in (given, os.environ.get("KNEEDATA_REAL_DATA"), str(REPO.parent / "shared" / "real_data")):
        if cand and Path(cand).is_dir():
            return Path(cand)
    sys.exit("real data not found: pass --data DIR or set KNEEDATA_REAL_DATA")


# ----------------------------------------------------------------------------- history


def run_plan(n_runs: int, seed: int = 15, years: int = 10) -> pd.DataFrame:
    """Start time [UTC], duration [s] and mean speed [m/s] of every synthetic run."""
    rng = np.random.default_rng(seed)
    n_days = int(round(365.25 * years))
    day = np.sort(rng.choice(n_days, size=n_runs, replace=n_runs > n_days))
    second = rng.integers(6 * 3600, 20 * 3600, size=n_runs)
    start = pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(day * 86400 + second, unit="s")
    minutes = rng.gamma(4.0, MEAN_RUN_MIN / 4.0, size=n_runs).clip(15, 180)
    speed = rng.normal(3.1, 0.35, size=n_runs).clip(2.2, 4.5)
    return pd.DataFrame({"start": start, "seconds": (minutes * 60).astype(int), "speed": speed})


def write_run(path: str, start: pd.Timestamp, seconds: int, speed_m_s: float, seed: int,
              record_s: int = 1) -> int:
    """Write one run as a FIT file, a record every ``record_s`` s; returns its number of samples."""
    from kneedata.testing.fitwrite import write_activity_fit

    rng = np.random.default_rng(seed)
    t = np.arange(0, int(seconds), int(record_s), dtype=float)
    n = len(t)
    speed = (speed_m_s + 0.15 * np.sin(t / 40) + rng.normal(0, 0.05, n)).clip(0.5)
    step = speed * record_s
    distance = np.cumsum(step)
    cadence = 118 + 15 * speed + rng.normal(0, 2, n)
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.02 * np.sqrt(record_s), n))
    lat0, lon0 = 47.37 + rng.normal(0, 0.05), 8.54 + rng.normal(0, 0.05)
    records = pd.DataFrame(
        {
            "distance_m": distance,
            "speed_m_s": speed,
            "cadence_spm": cadence,
            "heart_rate_bpm": (148 + rng.normal(0, 4, n)).round(),
            "altitude_m": 420 + 20 * np.sin(distance / 800) + rng.normal(0, 0.3, n),
            "latitude_deg": lat0 + np.cumsum(step * np.cos(heading)) / 111_195.0,
            "longitude_deg": lon0 + np.cumsum(step * np.sin(heading)) / 75_000.0,
        },
        index=pd.DatetimeIndex(start + pd.to_timedelta(t, unit="s"), name="timestamp"),
    )
    write_activity_fit(path, records, utc_offset_min=60.0)
    return n


def make_history(folder: Path, n_runs: int, workers: int) -> int:
    """Write the history into ``folder`` unless already there; returns the samples."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = run_plan(n_runs)
    total = int(plan["seconds"].sum())
    todo = [i for i in range(n_runs) if not (folder / f"run{i:05d}.fit").is_file()]
    if not todo:
        return total
    started = time.perf_counter()
    print(f"writing {len(todo)} FIT files into {folder} ({workers} processes) ...", flush=True)
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(write_run, str(folder / f".run{i:05d}.tmp"), plan["start"][i],
                        int(plan["seconds"][i]), float(plan["speed"][i]), i)
            for i in todo
        ]
        for i, fut in zip(todo, futures, strict=True):
            fut.result()
            os.replace(folder / f".run{i:05d}.tmp", folder / f"run{i:05d}.fit")
    print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)
    return total


# ------------------------------------------------------------------------------ memory


class WorkerMemory:
    """Peak resident memory [MB] of any one child process, sampled every ``interval_s``."""

    def __init__(self, interval_s: float = 0.1) -> None:
        import psutil

        self._me = psutil.Process()
        self._psutil = psutil
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval_s,), daemon=True)

    def _sample(self, interval_s: float) -> None:
        while not self._stop.is_set():
            for child in self._me.children(recursive=True):
                try:
                    rss = child.memory_info().rss / 1e6
                except self._psutil.Error:
                    continue
                self.peak_mb = max(self.peak_mb, rss)
            self._stop.wait(interval_s)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def timed_import(store_path: Path, folder: Path, workers: int, **kwargs: Any) -> tuple[Any, float]:
    from kneedata.store import Store

    with WorkerMemory() as memory:
        report = Store(store_path).import_paths([folder], workers=workers, progress=False, **kwargs)
    return report, memory.peak_mb


def history_benchmark(args: argparse.Namespace) -> int:
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "kneedata-bench-history") / f"runs{args.runs}"
    n_samples = make_history(cache, args.runs, args.workers)
    print(f"history: {args.runs} runs, {n_samples:,} samples at 1 s, {cache}")
    with tempfile.TemporaryDirectory(prefix="kneedata-bench-") as tmp:
        baseline = cache
        if args.baseline_runs and args.baseline_runs < args.runs:
            # today's path on the first runs only; compared by samples/s
            baseline = Path(tmp) / "baseline"
            baseline.mkdir()
            for path in sorted(cache.glob("run*.fit"))[: args.baseline_runs]:
                (baseline / path.name).symlink_to(path)
        results = {}
        for label, folder, kwargs in (("today (fitdecode)", baseline, {"fit_engine": "fitdecode"}),
                                      ("new (default)", cache, {})):
            store = Path(tmp) / label.split()[0]
            report, peak = timed_import(store, folder, args.workers, **kwargs)
            engines = _engines(store)
            results[label] = (report, peak)
            print(f"{label:<20} {report.elapsed_s:8.1f} s  {len(report.rows):5d} files "
                  f"{report.n_records / report.elapsed_s:10,.0f} samples/s  peak worker RSS "
                  f"{peak:6.0f} MB  decoders {engines}", flush=True)
        (today, _), (new, new_peak) = results.values()
        again, again_peak = timed_import(Path(tmp) / "new", cache, args.workers)
        assert again.counts()["unchanged"] == len(again.rows)
        speedup = (new.n_records / new.elapsed_s) / (today.n_records / today.elapsed_s)
        if baseline is cache:
            speedup = today.elapsed_s / new.elapsed_s
        else:
            print(f"(today's path timed on the first {args.baseline_runs} runs: ratio of samples/s)")
        reimport = new.elapsed_s / again.elapsed_s
        ok = {True: "ok", False: "BELOW target"}
        print(f"{'re-import':<20} {again.elapsed_s:8.2f} s  (all {len(again.rows)} files unchanged)")
        print(f"new vs today: {speedup:.1f}x faster ({ok[speedup >= 5]}: >= 5x)")
        print(f"re-import vs first import: {reimport:,.0f}x faster ({ok[reimport >= 20]}: >= 20x)")
        print(f"peak memory per worker (new path): {new_peak:.0f} MB ({ok[new_peak < 500]}: < 500 MB)")
        return 0 if speedup >= 5 and reimport >= 20 and new_peak < 500 else 1


def _engines(store_path: Path) -> str:
    from kneedata.store import Store

    counts = Store(store_path).activities()["decoder"].value_counts()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


# -------------------------------------------------------------------------- real files


def real_benchmark(args: argparse.Namespace) -> int:
    from kneedata.store import STATUSES, Store

    data = _data_dir(args.data)
    with tempfile.TemporaryDirectory(prefix="kneedata-bench-") as tmp:
        inputs: list[Path] = [data]
        for i in range(1, args.copies):
            link = Path(tmp) / f"copy{i}"
            link.symlink_to(data, target_is_directory=True)
            inputs.append(link)

        store = Store(Path(tmp) / "store")
        first = store.import_paths(inputs, workers=args.workers, progress=False)
        again = store.import_paths(inputs, workers=args.workers, progress=False)
        ratio = first.elapsed_s / again.elapsed_s
        print(f"data: {data} x {args.copies}  ({len(first.rows)} files and zip members)")
        print(f"first import ({args.workers} workers): {first.elapsed_s:8.2f} s")
        print(f"re-import (all unchanged):     {again.elapsed_s:8.3f} s   ratio {ratio:,.0f}x "
              f"({'ok' if ratio >= 20 else 'BELOW'} the 20x target)")
        assert set(again.counts()) == set(STATUSES)
        assert again.counts()["unchanged"] == len(again.rows)

        rates = {}
        for workers in sorted({1, args.workers}):
            run = Store(Path(tmp) / f"store_w{workers}").import_paths(inputs, workers=workers, progress=False)
            rates[workers] = run.records_per_s
            print(f"{workers} worker(s): {run.n_records:8d} records in {run.elapsed_s:6.2f} s = "
                  f"{run.records_per_s:9,.0f} records/s")
        if len(rates) == 2:
            print(f"speed-up {args.workers} vs 1 worker: {rates[args.workers] / rates[1]:.2f}x")
        counts = first.counts()
        print("files per status (first import): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000, help="runs in the synthetic history")
    parser.add_argument("--cache", default=None, help="folder for the generated FIT files")
    parser.add_argument("--baseline-runs", type=int, default=0,
                        help="time today's path on the first N runs only (0: all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--real", action="store_true", help="import the real files instead")
    parser.add_argument("--data", default=None, help="real files (with --real)")
    parser.add_argument("--copies", type=int, default=1, help="real folder imported N times")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    started = dt.datetime.now(dt.timezone.utc)
    print(f"started {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.workers} workers")
    return real_benchmark(args) if args.real else history_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
