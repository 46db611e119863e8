"""Cohort benchmark: import and derive a simulated cohort on a Dask LocalCluster.

Usage::

    .venv/bin/python benchmarks/bench_cohort.py                       # 50 runners x 365 days
    .venv/bin/python benchmarks/bench_cohort.py --runners 6 --days 90  # a quick run
    .venv/bin/python benchmarks/bench_cohort.py --runners 8 --record-s 1 --repeats 1  # 1-s recording

A cohort from :func:`kneedata.simulate_cohort` is written as real FIT files and
diaries (:mod:`kneedata.simulate_files`), then imported (:func:`kneedata.cohort.
import_cohort`) and derived (:func:`kneedata.cohort.derive_cohort`) on a
``distributed.LocalCluster`` of worker *processes* on the loopback interface, once
with 1 worker and once with 2 (one thread each), each into a fresh store; with
``--repeats 2`` (the default) the order is 1, 2, 2, 1 so that a drift of the machine
(a virtual machine's CPU is shared) falls on both sides, and the median of each is
compared. Printed: every run, then the median seconds per stage and worker count,
the 2-worker/1-worker speed ratio, the peak
resident memory of each worker process (``ru_maxrss`` reported by the tasks), files
per second per worker, bytes on disk per runner-year, and the extrapolation to
5,000 runners.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(files: Path, work: Path, n_workers: int) -> dict:
    import distributed

    from kneedata.cohort import derive_cohort, import_cohort

    tag = f"{n_workers}-{time.monotonic_ns()}"
    store, out = work / f"store-{tag}", work / f"frame-{tag}"
    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(lambda: __import__("kneedata.cohort"))  # warm the workers' imports
        t0 = time.perf_counter()
        imported = import_cohort(store, files / "runners.csv", executor=client.get_executor(),
                                 progress=False)
        t1 = time.perf_counter()
        derived = derive_cohort(store, files / "runners.csv", out=out,
                                executor=client.get_executor(), progress=False, complete=True)
        t2 = time.perf_counter()
    peak = pd.concat([imported.runners[["pid", "peak_rss_mb"]], derived.runners[["pid", "peak_rss_mb"]]])
    return {"workers": n_workers, "import_s": t1 - t0, "derive_s": t2 - t1,
            "n_files": int(imported.runners["imported"].sum()),
            "failed_runners": int((derived.runners["status"] != "ok").sum()),
            "peak_rss_mb_per_worker": peak.groupby("pid")["peak_rss_mb"].max().round(0).tolist(),
            "store_bytes": _du(store), "frame_bytes": _du(out)}


def _print_run(r: dict) -> None:
    print(f"  run: {r['workers']} worker(s), import {r['import_s']:.1f} s, derive {r['derive_s']:.1f} s, "
          f"peak memory per worker {r['peak_rss_mb_per_worker']} MB", flush=True)


def _median_run(runs: list[dict]) -> dict:
    """One result whose times are the medians of ``runs`` (sizes from the first run,
    peak memory per worker the largest seen in any run)."""
    out = dict(runs[0])
    for key in ("import_s", "derive_s"):
        out[key] = float(pd.Series([r[key] for r in runs]).median())
    slots = [sorted(r["peak_rss_mb_per_worker"]) for r in runs]
    out["peak_rss_mb_per_worker"] = [max(s[i] for s in slots) for i in range(min(map(len, slots)))]
    return out


def main() -> None:
    import kneedata as kd
    from kneedata.simulate_files import write_cohort_files

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runners", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--record-s", type=int, default=10,
                        help="seconds between records in the FIT files (default 10; 1 = every second)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per worker count, in the order 1, 2, 2, 1, ... (default 2)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kneedata-bench-cohort-"))
    try:
        t = time.perf_counter()
        sim = kd.simulate_cohort(args.runners, args.days, seed=2024)
        written = write_cohort_files(sim, work / "files", record_s=args.record_s)
        print(f"{args.runners} runners x {args.days} days, a record every {args.record_s} s: "
              f"{written['n_runs'].sum()} FIT files, "
              f"{_du(work / 'files') / 1e6:.1f} MB, written in {time.perf_counter() - t:.0f} s")
        order = [n for i in range(args.repeats) for n in ((1, 2) if i % 2 == 0 else (2, 1))]
        runs = []
        for n in order:
            runs.append(run(work / "files", work, n))
            _print_run(runs[-1])
        results = [_median_run([r for r in runs if r["workers"] == n]) for n in (1, 2)]
        print(f"median of {args.repeats} run(s) per worker count:")
        for r in results:
            total = r["import_s"] + r["derive_s"]
            print(f"{r['workers']} worker(s): import {r['import_s']:.1f} s "
                  f"({r['n_files'] / r['import_s'] / r['workers']:.1f} files/s per worker), "
                  f"derive {r['derive_s']:.1f} s ({args.runners / r['derive_s'] / r['workers']:.2f} "
                  f"runners/s per worker), total {total:.1f} s, peak memory per worker "
                  f"{r['peak_rss_mb_per_worker']} MB, failed runners {r['failed_runners']}")
        one, two = results
        ratio = (one["import_s"] + one["derive_s"]) / (two["import_s"] + two["derive_s"])
        years = args.runners * args.days / 365.25
        per_year = (two["store_bytes"] + two["frame_bytes"]) / years
        print(f"speed-up 2 workers / 1 worker: {ratio:.2f}x (import "
              f"{one['import_s'] / two['import_s']:.2f}x, derive {one['derive_s'] / two['derive_s']:.2f}x)")
        print(f"store + frame: {per_year / 1e6:.2f} MB per runner-year")
        core_s = (one["import_s"] + one["derive_s"]) / years
        print(f"5,000 runners x 1 year: {core_s * 5000 / 3600:.1f} core-hours at one worker's "
              f"rate ({core_s:.1f} s per runner-year), {per_year * 5000 / 1e9:.1f} GB on disk; "
              f"on 64 cores ~{core_s * 5000 / 64 / 60:.0f} min if the store's file system keeps up")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
