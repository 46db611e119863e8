"""Records per second: kneedata.read_activities vs a plain fitparse loop.

Reads every real running FIT file that fitparse can read (from
``../shared/real_data`` next to the repository, or ``$KNEEDATA_REAL_DATA``) in the
same process, both ways, and prints records/s and the ratio. The fitparse loop only
decodes and materialises the record messages (``get_values()`` of every
``record``); ``read_activities`` does all the work of the reader (decode, unit
conversion, pauses, session split, summary, local date) and returns the canonical
tables. Each side is timed ``--repeat`` times (alternating) and the best time is kept.

Run: ``.venv/bin/python benchmarks/bench_read.py [--repeat 3] [--min-ratio 10]``
(exits 1 when the default reader's ratio is below ``--min-ratio``, 10 by default:
the target of issue 15). ``read_activities(engine='fitdecode')``, the default before
issue 15, is timed in the same process for comparison.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def locate_real_data() -> Path:
    """``$KNEEDATA_REAL_DATA`` or ``../shared/real_data`` next to the repository."""
    env = os.environ.get("KNEEDATA_REAL_DATA")
    for path in ([Path(env)] if env else []) + [REPO.parent / "shared" / "real_data"]:
        if (path / "fit_session_summaries.csv").is_file():
            return path
    raise SystemExit(
        "real watch files not found: set KNEEDATA_REAL_DATA or place them in "
        "../shared/real_data next to the repository"
    )


def running_files(real_data: Path) -> list[Path]:
    """FIT files whose every session is a run and that fitparse reads (csv 'reader')."""
    sports: dict[str, set[str]] = {}
    readers: dict[str, str] = {}
    with open(real_data / "fit_session_summaries.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            sports.setdefault(row["file"], set()).add(row["sport"])
            readers[row["file"]] = row["reader"]
    names = [
        name for name, s in sports.items()
        if s == {"running"} and readers[name].startswith("fitparse")
        and not name.endswith(".gz")
    ]
    return [real_data / "fit" / name for name in sorted(names)]


def fitparse_loop(paths: list[Path]) -> int:
    import fitparse

    n = 0
    for path in paths:
        fit = fitparse.FitFile(str(path))
        n += len([m.get_values() for m in fit.get_messages("record")])
    return n


def kneedata_read(paths: list[Path], engine: str | None = None) -> int:
    from kneedata.io.read import read_activities

    n = 0
    for path in paths:
        for act in read_activities(path, engine=engine):
            n += len(act.records)
    return n


def kneedata_fitdecode(paths: list[Path]) -> int:
    """Today's engine before issue 15, for the same-process comparison."""
    return kneedata_read(paths, "fitdecode")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--min-ratio", type=float, default=10.0)
    args = parser.parse_args(argv)

    paths = running_files(locate_real_data())
    warnings.simplefilter("ignore")
    # warm up imports and the timezone finder once, outside the timings
    kneedata_read(paths[:1])
    fitparse_loop(paths[:1])

    from kneedata.io.fit import fitfast_module

    fast = fitfast_module() is not None
    kneedata_fitdecode(paths[:1])
    best = {"fitparse": float("inf"), "fitdecode": float("inf"), "kneedata": float("inf")}
    counts = {}
    for _ in range(args.repeat):
        for name, fn in (("fitparse", fitparse_loop), ("fitdecode", kneedata_fitdecode),
                         ("kneedata", kneedata_read)):
            start = time.perf_counter()
            counts[name] = fn(paths)
            best[name] = min(best[name], time.perf_counter() - start)

    # one count for both rates: the record messages fitparse decodes
    n = counts["fitparse"]
    rate_fp = n / best["fitparse"]
    rate_fd = n / best["fitdecode"]
    rate_kd = n / best["kneedata"]
    ratio = rate_kd / rate_fp
    engine = "fitfast, fallback fitdecode" if fast else "fitdecode: fitfast not installed"
    print(f"files: {len(paths)} running FIT files, {n} record messages "
          f"({counts['kneedata']} rows after merging same-second samples)")
    print(f"fitparse loop (records materialised):   {rate_fp:10.0f} records/s  ({best['fitparse']:.2f} s)")
    print(f"read_activities(engine='fitdecode'):    {rate_fd:10.0f} records/s  ({best['fitdecode']:.2f} s)"
          f"  {rate_fd / rate_fp:5.1f}x fitparse")
    print(f"read_activities default ({engine}): {rate_kd:10.0f} records/s  "
          f"({best['kneedata']:.2f} s)  {ratio:5.1f}x fitparse, {rate_kd / rate_fd:.1f}x fitdecode")
    print(f"ratio: {ratio:.2f}x (required >= {args.min_ratio}x)")
    return 0 if ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
