"""A one-line GPX of many points is read without an element tree of every point.

Writes a synthetic GPX (a generator here, independent of kneedata: one ``<trkseg>`` of
``--points`` points with elevation, time, heart rate and cadence, all on one line, as
some exporters write them) and measures, in one process with tracemalloc, the peak of
Python allocations of

* the baseline: the whole element tree (``parse_xml`` without a point sink: what the
  reader held before points were read as they were parsed), and
* :func:`kneedata.io.gpx.read_gpx` (the points read as the parser closes them).

Prints both peaks as multiples of the file's size and their ratio; exits 1 when the
reader's peak is over ``--max-ratio`` (default 4) times the file or not below the
baseline's. Results: docs/robustness.md.

Run: ``.venv/bin/python benchmarks/bench_gpx_memory.py [--points 100000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from kneedata.io.gpx import read_gpx
from kneedata.io.xmlsafe import parse_xml


def one_line_gpx(points: int) -> bytes:
    """A running GPX of ``points`` 1-s points on a single line."""
    t0 = datetime(2024, 5, 1, 6, 0, tzinfo=timezone.utc)
    parts = ['<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="bench" '
             'xmlns="http://www.topografix.com/GPX/1/1" '
             'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
             "<trk><name>Run</name><type>running</type><trkseg>"]
    for i in range(points):
        t = (t0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(f'<trkpt lat="{51.5 + i * 1e-5:.7f}" lon="{-0.1 + i * 1e-5:.7f}">'
                     f"<ele>{20 + i % 50 * 0.1:.1f}</ele><time>{t}</time><extensions>"
                     f"<gpxtpx:TrackPointExtension><gpxtpx:hr>{140 + i % 20}</gpxtpx:hr>"
                     f"<gpxtpx:cad>{85 + i % 5}</gpxtpx:cad></gpxtpx:TrackPointExtension>"
                     "</extensions></trkpt>")
    parts.append("</trkseg></trk></gpx>")
    return "".join(parts).encode()


def peak_bytes(work: Callable[[], object]) -> tuple[int, float]:
    """Peak of Python allocations [bytes] while ``work`` runs, and its time [s]."""
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--max-ratio", type=float, default=4.0)
    args = parser.parse_args(argv)
    data = one_line_gpx(args.points)
    read_gpx(one_line_gpx(100), "warm.gpx", "warm")  # lazy imports (time zones) do not count
    tree, tree_s = peak_bytes(lambda: parse_xml(data, "bench.gpx", kind="GPX"))
    reader, reader_s = peak_bytes(lambda: read_gpx(data, "bench.gpx", "bench"))
    size = len(data)
    print(f"file {size / 1e6:.1f} MB, {args.points} points on one line")
    print(f"whole element tree (baseline): peak {tree / size:.1f}x the file, {tree_s:.1f} s")
    print(f"read_gpx (points read as parsed): peak {reader / size:.1f}x the file, {reader_s:.1f} s")
    print(f"ratio reader/baseline: {reader / tree:.2f}")
    return 0 if reader <= args.max_ratio * size and reader < tree else 1


if __name__ == "__main__":
    sys.exit(main())
