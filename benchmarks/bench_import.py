"""Import benchmark: first import vs re-import, and records/s with 1 vs all workers.

Usage::

    .venv/bin/python benchmarks/bench_import.py [--data DIR] [--copies N] [--workers N]

``--data`` defaults to ``$KNEEDATA_REAL_DATA`` or ``../shared/real_data`` next to the
repository. ``--copies N`` imports the folder N times (as N input paths through
symlinked folders) so that the parallel part outweighs the pool start-up; every copy
is read and parsed (identical content is only recognised after reading).

Prints:

1. first import (all workers) vs re-import of the same inputs: seconds and ratio
   (the issue asks for >= 20x);
2. records/s reading everything with 1 worker (in-process) vs all workers (process
   pool, start-up included);
3. the number of files per status.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _data_dir(given: str | None) -> Path:
    for cand in (given, os.environ.get("KNEEDATA_REAL_DATA"), str(REPO.parent / "shared" / "real_data")):
        if cand and Path(cand).is_dir():
            return Path(cand)
    sys.exit("real data not found: pass --data DIR or set KNEEDATA_REAL_DATA")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
