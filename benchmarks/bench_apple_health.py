"""Apple Health exports are read streaming: peak memory does not grow with the export's size.

Writes two synthetic ``export.xml`` files (a generator here, independent of kneedata:
heart-rate, step and sleep records of many days, with the iOS 16-style internal DTD,
a few ``\\x0b`` and one running workout a day with its running metrics), one
``--scale`` times the other, and reads each with
:func:`kneedata.io.apple_health.read_apple_health` while tracemalloc records the peak
of Python allocations. Streaming keeps the peak near constant (it grows only with the
few records kept: workouts, running metrics, wellness items), so the ratio of peaks
stays far below the ratio of sizes (target: peak ratio < 2 for 8x the bytes; a
whole-file read would be ~8x). The time ratio is printed too (linear: ~ the scale).

Run: ``.venv/bin/python benchmarks/bench_apple_health.py [--days 60 --scale 8]``;
exits 1 when the target is missed. Results: docs/recovery.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kneedata.io.apple_health import read_apple_health

DTD = ("<!DOCTYPE HealthData [\n<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>\n"
       "<!ATTLIST Workout workoutActivityType CDATA #REQUIRED CDATA #IMPLIED>\n]>\n")
TZ = timezone(timedelta(hours=1))


def _t(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S +0100")


def write_export(path: Path, days: int) -> int:
    """A synthetic export of ``days`` days (HR every 5 min, steps hourly, a night, a run); its size [bytes]."""
    start = datetime(2023, 1, 1, tzinfo=TZ)
    hk = "HKQuantityTypeIdentifier"
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + DTD + '<HealthData locale="en_GB">\n'
                  ' <ExportDate value="2024-01-01 00:00:00 +0100"/>\n <Me/>\n')
        for day in range(days):
            d0 = start + timedelta(days=day)
            for k in range(288):
                t = _t(d0 + timedelta(minutes=5 * k))
                out.write(f' <Record type="{hk}HeartRate" sourceName="Watch\x0b" unit="count/min" '
                          f'startDate="{t}" endDate="{t}" value="{60 + k % 40}"><MetadataEntry '
                          'key="HKMetadataKeyHeartRateMotionContext" value="0"/></Record>\n')
            for h in range(24):
                t0, t1 = _t(d0 + timedelta(hours=h)), _t(d0 + timedelta(hours=h, minutes=59))
                out.write(f' <Record type="{hk}StepCount" sourceName="iPhone" unit="count" startDate="{t0}" '
                          f'endDate="{t1}" value="{300 + h}"/>\n')
            night = d0 - timedelta(hours=1)
            out.write(f' <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
                      f'startDate="{_t(night)}" endDate="{_t(night + timedelta(hours=7))}" '
                      'value="HKCategoryValueSleepAnalysisAsleepCore"/>\n')
            out.write(f' <Record type="{hk}RestingHeartRate" sourceName="Watch" unit="count/min" '
                      f'startDate="{_t(d0 + timedelta(hours=7))}" endDate="{_t(d0 + timedelta(hours=7))}" '
                      'value="50"/>\n')
            run = d0 + timedelta(hours=18)
            for k in range(6):
                t = _t(run + timedelta(minutes=5 * k))
                out.write(f' <Record type="{hk}RunningPower" sourceName="Watch" unit="W" startDate="{t}" '
                          f'endDate="{t}" value="250"/>\n')
        for day in range(days):
            run = start + timedelta(days=day, hours=18)
            out.write(f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" '
                      f'durationUnit="min" sourceName="Watch" startDate="{_t(run)}" '
                      f'endDate="{_t(run + timedelta(minutes=30))}"><WorkoutStatistics '
                      f'type="{hk}DistanceWalkingRunning" sum="5" unit="km"/></Workout>\n')
        out.write("</HealthData>\n")
    return path.stat().st_size


def measure(path: Path) -> tuple[float, float, int]:
    """Peak traced memory [MB], seconds and activities of one read."""
    tracemalloc.start()
    t0 = time.perf_counter()
    got = read_apple_health(path)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak, seconds, len(got.activities)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--scale", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for days in (args.days, args.days * args.scale):
            path = Path(tmp) / f"export_{days}.xml"
            size = write_export(path, days)
            peak, seconds, n = measure(path)
            rows.append((days, size / 1e6, peak, seconds, n))
            print(f"{days:5d} days  {size / 1e6:7.1f} MB  peak {peak:6.1f} MB  {seconds:6.1f} s  {n} runs")
    (_, small_mb, small_peak, small_s, _), (_, big_mb, big_peak, big_s, _) = rows
    ratio = big_peak / small_peak
    print(f"size x{big_mb / small_mb:.1f}: peak memory x{ratio:.2f}, time x{big_s / small_s:.1f} (target: peak < x2)")
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
