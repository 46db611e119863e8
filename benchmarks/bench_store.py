"""Store benchmark: import, bytes on disk, ``derive`` and the report on 1, 3 and 10 years.

Usage::

    .venv/bin/python benchmarks/bench_store.py                      # 1, 3 and 10 years
    .venv/bin/python benchmarks/bench_store.py --years 1 3 --import-years 1
    .venv/bin/python benchmarks/bench_store.py --skip-import --skip-report

**History**: ``--runs-per-year`` runs a year (300: 3,000 runs in ten years), 15-180 min
each (57 min on average), one record every ``--record-s`` seconds (5: ~2 M samples in
ten years), with speed, cadence, heart rate, altitude and position, written as FIT files
by the repository's FIT writer into ``--cache`` (generated once, then reused), and a pain
diary with an entry every day and about two pain episodes a year.

For each history, in this one process:

1. **import** (the ``--import-years`` histories only): a fresh store with 1 and with 2
   workers; files/s and samples/s;
2. **bytes on disk** per FIT byte of the store (every file below the store folder);
   also for a separate ``--bytes-runs``-run history at one record per second;
3. **derive** (:func:`kneedata.derive` with the diary) and **report**
   (:func:`kneedata.report.write_report`), best of ``--repeat``, two ways:

   - *per-file*: the layout before the records became a dataset (one Parquet file of
     records and one of laps per activity, :func:`kneedata.testing.store_layout.
     write_per_activity_layout`), read as before: one pandas frame per run
     (``Store.records_map()``) handed to ``gait_metrics``, and the detectable odds
     ratios with every simulated history refitted (``method="refit"``);
   - *dataset*: the store as imported, read by one scan, the simulated histories
     fitted by their sufficient statistics (the default ``method="sufficient"``).

**Import against the layout before datasets** (``--baseline-tree``: a checkout of the
commit before it, e.g. ``git worktree add --detach /tmp/before bc20d98``): each import
runs in a child process (``PYTHONPATH`` set to the tree), the two trees alternately
(this tree, the baseline, the baseline, this tree) into fresh stores, with 1 and 2 workers;
files/s and samples/s of each, and their ratio.

``--keep-stores`` keeps each imported store in ``--cache`` and reuses it (the import is
then timed only for ``--import-years``).

The machine may be shared: the ratios, measured back to back in one process, are the
numbers to compare. The rows go to ``--csv`` (default
``benchmarks/results/bench_store.csv``); the numbers into ``docs/performance.md`` by hand.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_import import run_plan, write_run  # noqa: E402  (the same runs as the import benchmark)
from bench_metrics import best_time  # noqa: E402


def write_diary(path: Path, years: int, seed: int = 27) -> None:
    """One entry a day; about two pain episodes (pain 3-6 for 3-7 days) a year."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2015-01-01", periods=int(round(365.25 * years)), freq="D")
    pain = np.zeros(len(days))
    for start in np.sort(rng.choice(len(days) - 8, size=max(2, 2 * years), replace=False)):
        pain[start:start + int(rng.integers(3, 8))] = rng.integers(3, 7)
    lines = ["date,side,site,pain_0_10,timing"]
    lines += [f"{d:%Y-%m-%d},right,around_kneecap,{p:g},after" for d, p in zip(days, pain, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def make_history(folder: Path, years: int, runs_per_year: int, record_s: int, workers: int) -> Path:
    """FIT files and a diary in ``folder`` (written once); returns the folder."""
    n_runs = runs_per_year * years
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "watch").mkdir(parents=True)
    plan = run_plan(n_runs, seed=27, years=years)
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(write_run, str(folder / "watch" / f"run{i:05d}.fit"), plan["start"][i],
                               int(plan["seconds"][i]), float(plan["speed"][i]), i, record_s)
                   for i in range(n_runs)]
        for fut in futures:
            fut.result()
    write_diary(folder / "pain_diary.csv", years)
    done.write_text("")
    print(f"  wrote {n_runs} FIT files into {folder} in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed_import(store: Path, watch: Path, workers: int) -> Any:
    from kneedata.store import Store

    shutil.rmtree(store, ignore_errors=True)
    return Store(store).import_paths([watch], workers=workers, progress=False)


_CHILD_IMPORT = """
import json, sys, time
from kneedata.store import Store
t = time.perf_counter()
rep = Store(sys.argv[1]).import_paths([sys.argv[2]], workers=int(sys.argv[3]), progress=False)
print(json.dumps({"s": time.perf_counter() - t, "files": len(rep.rows), "samples": rep.n_records}))
"""


def child_import(tree: Path, store: Path, watch: Path, workers: int) -> dict[str, float]:
    """One import by the kneedata of ``tree`` in a child process: seconds, files, samples."""
    import json
    import subprocess

    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", _CHILD_IMPORT, str(store), str(watch), str(workers)],
                         env=env, check=True, capture_output=True, text=True).stdout
    shutil.rmtree(store, ignore_errors=True)
    return json.loads(out.strip().splitlines()[-1])


def import_against_baseline(baseline: Path, watch: Path, tmp: Path, row: dict[str, Any]) -> None:
    """Imports by this tree and the baseline tree, alternately, with 1 and 2 workers."""
    for workers in (1, 2):
        runs: dict[str, list[dict[str, float]]] = {"new": [], "old": []}
        for which in ("new", "old", "old", "new"):
            tree = REPO if which == "new" else baseline
            runs[which].append(child_import(tree, tmp / f"child-{which}", watch, workers))
        for which, got in runs.items():
            best = min(got, key=lambda r: r["s"])
            row[f"import_{which}_w{workers}_files_s"] = best["files"] / best["s"]
            row[f"import_{which}_w{workers}_samples_s"] = best["samples"] / best["s"]
        ratio = row[f"import_new_w{workers}_files_s"] / row[f"import_old_w{workers}_files_s"]
        row[f"import_w{workers}_ratio"] = ratio
        print(f"   import, {workers} worker(s): {row[f'import_new_w{workers}_files_s']:.2f} files/s "
              f"({row[f'import_new_w{workers}_samples_s']:,.0f} samples/s) vs the baseline tree "
              f"{row[f'import_old_w{workers}_files_s']:.2f} files/s: {ratio:.2f}x", flush=True)


# --------------------------------------------------------------------- the two layouts


def per_file_copy(store: Path, dest: Path) -> Path:
    """The store in the layout before the records became a dataset (one file per run)."""
    shutil.rmtree(dest, ignore_errors=True)
    try:
        from kneedata.testing.store_layout import write_per_activity_layout
    except ImportError:  # the per-file layout is today's layout
        shutil.copytree(store, dest)
        return dest
    write_per_activity_layout(store, dest)
    return dest


def derive_per_file(store_path: Path, diary: Path) -> Any:
    """``derive`` as before: one pandas frame per run from ``records_map()``."""
    import kneedata as kd

    store = kd.Store(store_path)
    return kd.derive({"activities": store.activities(), "records": _FrameMap(store.records_map())},
                     diary)


def derive_dataset(store_path: Path, diary: Path) -> Any:
    import kneedata as kd

    return kd.derive(kd.Store(store_path), diary)


def report(store_path: Path, diary: Path, out: Path, *, per_file: bool) -> None:
    import kneedata.models as models
    from kneedata import report as report_module

    patched: list[tuple[Any, str, Any]] = []
    if per_file:
        # today's path: records frame by frame, detectable odds ratios refitted by simulation
        import kneedata.pipeline as pipeline

        real_source = pipeline._source_tables

        def source_frames(source: Any) -> Any:
            acts, records, gait = real_source(source)
            if hasattr(source, "records_map"):
                return acts, _FrameMap(source.records_map()), gait
            return acts, records, gait

        patched.append((pipeline, "_source_tables", source_frames))
        real_dor = models.detectable_odds_ratio
        if "method" in real_dor.__code__.co_varnames:
            def refit(*args: Any, **kwargs: Any) -> Any:
                return real_dor(*args, method="refit", **kwargs)
            patched.append((models, "detectable_odds_ratio", refit))
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patched]
    try:
        for mod, name, value in patched:
            setattr(mod, name, value)
        shutil.rmtree(out, ignore_errors=True)
        report_module.write_report(store_path, diary=diary, out=out, progress=False)
    finally:
        for mod, name, value in saved:
            setattr(mod, name, value)


class _FrameMap(dict):  # type: ignore[type-arg]
    """A plain mapping of frames: ``gait_metrics`` reads it one run at a time, as before."""

    def __init__(self, mapping: Any) -> None:
        super().__init__()
        self._mapping = mapping

    def __getitem__(self, key: str) -> Any:
        return self._mapping[key]

    def __iter__(self) -> Any:
        return iter(self._mapping)

    def __len__(self) -> int:
        return len(self._mapping)

    def __contains__(self, key: object) -> bool:
        return key in self._mapping


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--runs-per-year", type=int, default=300)
    parser.add_argument("--record-s", type=int, default=5)
    parser.add_argument("--import-years", type=int, nargs="*", default=None,
                        help="histories imported with 1 and 2 workers (default: the largest)")
    parser.add_argument("--bytes-runs", type=int, default=150,
                        help="runs of the 1-s history for bytes per FIT byte (0: skip)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "kneedata-bench-store"))
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--baseline-tree", default=None,
                        help="checkout of the layout before datasets: import compared against it")
    parser.add_argument("--keep-stores", action="store_true",
                        help="keep the imported stores in --cache and reuse them")
    parser.add_argument("--csv", default=str(REPO / "benchmarks" / "results" / "bench_store.csv"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import_years = args.import_years if args.import_years is not None else [max(args.years)]
    cache = Path(args.cache)
    print(f"started {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"{args.runs_per_year} runs a year, a record every {args.record_s} s", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kneedata-bench-store-") as tmp_name:
        tmp = Path(tmp_name)
        if args.bytes_runs:
            hist = make_history(cache / f"bytes-{args.bytes_runs}-1s", 1, args.bytes_runs, 1, 2)
            fit_bytes = folder_bytes(hist / "watch")
            rep = timed_import(tmp / "bytes", hist / "watch", 2)
            on_disk = folder_bytes(tmp / "bytes")
            old = folder_bytes(per_file_copy(tmp / "bytes", tmp / "bytes-per-file"))
            print(f"1-s recording, {args.bytes_runs} runs, {rep.n_records:,} samples: FIT {fit_bytes / 1e6:.1f} MB; "
                  f"store {on_disk / fit_bytes:.2f}x the FIT bytes (per-file layout {old / fit_bytes:.2f}x)",
                  flush=True)
            shutil.rmtree(tmp / "bytes-per-file", ignore_errors=True)
        for years in args.years:
            hist = make_history(cache / f"y{years}-r{args.runs_per_year}-s{args.record_s}", years,
                                args.runs_per_year, args.record_s, 2)
            watch, diary = hist / "watch", hist / "pain_diary.csv"
            fit_bytes = folder_bytes(watch)
            store = (cache / f"store-{hist.name}") if args.keep_stores else tmp / f"store{years}"
            row: dict[str, Any] = {"years": years, "runs": years * args.runs_per_year,
                                   "record_s": args.record_s}
            if years in import_years and not args.skip_import:
                if args.baseline_tree:
                    import_against_baseline(Path(args.baseline_tree), watch, tmp, row)
                else:
                    for workers in (1, 2):
                        rep = timed_import(tmp / "timed", watch, workers)
                        row[f"import_new_w{workers}_files_s"] = len(rep.rows) / rep.elapsed_s
                        row[f"import_new_w{workers}_samples_s"] = rep.n_records / rep.elapsed_s
                        print(f"{years:>2} y import, {workers} worker(s): {rep.elapsed_s:7.1f} s  "
                              f"{len(rep.rows) / rep.elapsed_s:6.1f} files/s  "
                              f"{rep.n_records / rep.elapsed_s:9,.0f} samples/s", flush=True)
                    shutil.rmtree(tmp / "timed", ignore_errors=True)
            if not (store / ".bench-complete").exists():
                timed_import(store, watch, 2)
                (store / ".bench-complete").write_text("")
            from kneedata.store import Store

            row["samples"] = int(Store(store).activities()["n_records"].sum())
            row["store_per_fit_byte"] = folder_bytes(store) / fit_bytes
            old = per_file_copy(store, tmp / f"per-file{years}")
            row["per_file_per_fit_byte"] = folder_bytes(old) / fit_bytes
            print(f"{years:>2} y: {row['samples']:,} samples; store {row['store_per_fit_byte']:.2f}x the FIT "
                  f"bytes (per-file layout {row['per_file_per_fit_byte']:.2f}x)", flush=True)
            row["derive_per_file_s"] = best_time(partial(derive_per_file, old, diary), args.repeat)
            row["derive_dataset_s"] = best_time(partial(derive_dataset, store, diary), args.repeat)
            print(f"{years:>2} y derive: per-file {row['derive_per_file_s']:6.2f} s, dataset "
                  f"{row['derive_dataset_s']:6.2f} s: {row['derive_per_file_s'] / row['derive_dataset_s']:.1f}x",
                  flush=True)
            if not args.skip_report:
                row["report_per_file_s"] = best_time(
                    partial(report, old, diary, tmp / "report", per_file=True), 1)
                row["report_dataset_s"] = best_time(
                    partial(report, store, diary, tmp / "report", per_file=False), 1)
                print(f"{years:>2} y report: per-file {row['report_per_file_s']:6.2f} s, dataset "
                      f"{row['report_dataset_s']:6.2f} s: "
                      f"{row['report_per_file_s'] / row['report_dataset_s']:.1f}x", flush=True)
            rows.append(row)
            shutil.rmtree(old, ignore_errors=True)
            if not args.keep_stores:
                shutil.rmtree(store, ignore_errors=True)
            pd.DataFrame(rows).to_csv(args.csv, index=False)  # after each history: partial results kept
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
