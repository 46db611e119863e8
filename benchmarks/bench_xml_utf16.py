"""UTF-16 GPX/TCX read in linear time: parse_xml on UTF-16 vs UTF-8, and 72 KB vs 720 KB.

Two ratios, each timed in this process (best of ``--repeat``):

- a real GPX (``../shared/real_data/gpx`` or ``$KNEEDATA_REAL_DATA``) cut to 360,000
  characters, read as UTF-16 (720 KB) and as UTF-8: the UTF-16 read re-encodes the
  text once, so it costs a small constant factor more (target: < 5x);
- a hostile UTF-16 file of many ``<?xml `` with no ``>`` (the fault: a search through
  the whole file took quadratic time, 72 KB 26 s, 720 KB > 120 s), at 72 KB and
  720 KB: linear time gives a time ratio near 10 for 10x the bytes, quadratic ~100
  (target: < 30).

Run: ``.venv/bin/python benchmarks/bench_xml_utf16.py [--repeat 3]``; exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from kneedata.errors import FileFormatError
from kneedata.io.xmlsafe import parse_xml

REPO = Path(__file__).resolve().parents[1]


def locate_real_data() -> Path:
    """``$KNEEDATA_REAL_DATA`` or ``../shared/real_data`` next to the repository."""
    env = os.environ.get("KNEEDATA_REAL_DATA")
    for path in ([Path(env)] if env else []) + [REPO.parent / "shared" / "real_data"]:
        if (path / "fit_session_summaries.csv").is_file():
            return path
    raise SystemExit("real watch files not found: set KNEEDATA_REAL_DATA or place them in "
                     "../shared/real_data next to the repository")


def best_time(data: bytes, repeat: int) -> float:
    """Best wall time of ``parse_xml(data)`` over ``repeat`` runs [s] (a refusal counts as done)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            parse_xml(data, "bench.gpx")
        except FileFormatError:
            pass
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    text = (locate_real_data() / "gpx" / "6782987395.gpx").read_text(encoding="utf-8")[:360_000]
    cut = text.rfind("</trkpt>") + len("</trkpt>")
    text = text[:cut] + "</trkseg></trk></gpx>"
    utf8, utf16 = text.encode("utf-8"), text.encode("utf-16")
    t8, t16 = best_time(utf8, args.repeat), best_time(utf16, args.repeat)
    small, large = ("<?xml " * 6_000).encode("utf-16"), ("<?xml " * 60_000).encode("utf-16")
    ts, tl = best_time(small, args.repeat), best_time(large, args.repeat)
    ok = True
    print(f"real GPX: UTF-8 {len(utf8) / 1e3:.0f} KB {t8 * 1e3:.1f} ms, UTF-16 {len(utf16) / 1e3:.0f} KB "
          f"{t16 * 1e3:.1f} ms: ratio {t16 / t8:.2f} (target < 5)")
    ok &= t16 / t8 < 5
    print(f"hostile UTF-16: {len(small) / 1e3:.0f} KB {ts * 1e3:.2f} ms, {len(large) / 1e3:.0f} KB "
          f"{tl * 1e3:.2f} ms: ratio {tl / ts:.1f} for 10x the bytes (linear ~10, quadratic ~100; target < 30)")
    ok &= tl / ts < 30
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
