"""Benchmark diary reading against the number of unknown columns (issue 14, fault 7).

Run from the repository root::

    .venv/bin/python benchmarks/bench_diary.py                 # 1,000 and 8,000 columns
    .venv/bin/python benchmarks/bench_diary.py --columns 1000 8000 64000

A pain diary with many columns the format does not know (an export from another
app) once took time quadratic in their number (one ``frame[key] = ...`` each:
1,000 columns 1.3 s, 8,000 55 s). For each size it reports the best of
``--repeat`` wall-clock times and the ratio to the smallest size, next to the
ratio of the sizes: linear reading keeps the two ratios close (a quadratic one
would square the size ratio). The baseline is ``csv.reader`` over the same text in
the same process.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
import warnings
from pathlib import Path

from kneedata.io.diary import read_pain_diary


def _diary(n_columns: int, n_rows: int) -> str:
    head = "date,side,pain_0_10," + ",".join(f"app_field_{i}" for i in range(n_columns))
    rows = [f"2024-03-{d + 1:02d},left,{d % 10}," + ",".join(str(i % 7) for i in range(n_columns))
            for d in range(n_rows)]
    return "\n".join([head, *rows]) + "\n"


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, nargs="+", default=[1000, 8000])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    first: tuple[int, float] | None = None
    print(f"{'columns':>8} {'read s':>8} {'csv.reader s':>13} {'time ratio':>11} {'size ratio':>11}")
    for n in args.columns:
        text = _diary(n, args.rows)
        path = folder / f"diary_{n}.csv"
        path.write_text(text)

        def read(path: Path = path) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_pain_diary(path)

        seconds = _best(read, args.repeat)
        baseline = _best(lambda text=text: list(csv.reader(io.StringIO(text))), args.repeat)
        first = first or (n, seconds)
        print(f"{n:>8} {seconds:>8.3f} {baseline:>13.4f} {seconds / first[1]:>11.1f} {n / first[0]:>11.1f}")


if __name__ == "__main__":
    main()
