"""Seeded mutation fuzzing of the readers over the real files (issue 14).

Each case runs ``tests/io/fuzz_harness.py`` in a child process that limits its own
memory (address space: what reading the originals mapped + 2 GiB) and the time of
each read (60 s), so a mutant that hangs or balloons fails the test instead of the machine.
Every mutant must read (no impossible value), read with ``complete=False`` and a
note, or raise FileFormatError. The normal run reads 100 mutants per format (GPX
and TCX cropped to their first ~30 kB so that a mutant reads in a fraction of a
second); ``pytest -m fuzz`` reads 2,000 per format from the whole files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).with_name("fuzz_harness.py")
sys.path.insert(0, str(HARNESS.parent))
import fuzz_harness  # noqa: E402  (a plain script next to this file)

#: Real files per format; the smallest ones for the normal run.
_SMALL = {"fit": 10_000, "gpx": 250_000, "tcx": 450_000}


def _files(real_data: Path, kind: str, *, small: bool) -> list[Path]:
    files = sorted((real_data / kind).glob(f"*.{kind}"))
    files = [f for f in files if f.stat().st_size > 0]
    if small:
        files = [f for f in files if f.stat().st_size <= _SMALL[kind]]
    return files


def run_fuzz(files: list[Path], *, mutants: int, seed: int, crop: int) -> list[dict]:
    """One JSON row per mutant from the harness (see fuzz_harness.py)."""
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--mutants", str(mutants), "--seed", str(seed),
         "--crop", str(crop), *map(str, files)],
        capture_output=True, text=True, timeout=60 * 60, check=False,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(rows) == mutants, done.stderr[-2000:]
    return rows


def _assert_clean(rows: list[dict], kind: str) -> None:
    bad = [r for r in rows if r["outcome"] == "bad"]
    replay = "; ".join(f"{r['file']} {r['op']} seed {r['seed']}: {r['detail']}" for r in bad[:10])
    assert not bad, f"{len(bad)} {kind} mutants neither read cleanly nor were refused: {replay}"


@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["fit", "gpx", "tcx"])
def test_mutants_read_or_are_refused(real_data, kind):
    files = _files(real_data, kind, small=True)
    rows = run_fuzz(files, mutants=100, seed=14, crop=30_000)
    _assert_clean(rows, kind)
    outcomes = {r["outcome"] for r in rows}
    # the mutations reach both sides: files that still read and files refused
    assert "refused" in outcomes and outcomes & {"read", "incomplete"}, outcomes


@pytest.mark.fuzz
@pytest.mark.real_data
@pytest.mark.parametrize("kind", ["fit", "gpx", "tcx"])
def test_thousands_of_mutants(real_data, kind, request):
    if "fuzz" not in (request.config.option.markexpr or ""):
        pytest.skip("thousands of mutants: run with `pytest -m fuzz tests/io/test_fuzz.py`")
    _assert_clean(run_fuzz(_files(real_data, kind, small=False), mutants=2_000, seed=1_414, crop=0), kind)


#: Mutants the 2,000-per-format run found (2026-12-02): a crash anchoring a damaged
#: relative session start, and session totals of 9-20 days taken as the watch's.
FOUND = [("triathlon_summary_last.fit", 1_414_004_500), ("triathlon_summary_last.fit", 1_414_004_574),
         ("activity-filecrc.fit", 1_414_005_110), ("triathlon_summary_last.fit", 1_414_005_943),
         ("antfs-dump.63.fit", 1_414_004_523), ("antfs-dump.63.fit", 1_414_005_670),
         ("antfs-dump.63.fit", 1_414_005_707), ("antfs-dump.63.fit", 1_414_006_077),
         ("antfs-dump.63.fit", 1_414_006_114), ("antfs-dump.63.fit", 1_414_006_225)]


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "seed"), FOUND)
def test_mutants_found_by_the_long_run_stay_fixed(real_data, name, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    op = fuzz_harness.OPS[int(rng.integers(0, len(fuzz_harness.OPS)))]
    mutant = fuzz_harness.mutate((real_data / "fit" / name).read_bytes(), op, rng)
    outcome, detail = fuzz_harness.read_one(mutant, f"{name}~{op}~{seed}", 60.0)
    assert outcome in {"read", "incomplete", "refused"}, detail


def test_the_harness_sees_an_impossible_value():
    import math

    import pandas as pd

    from kneedata.io.activity import Activity

    summary = pd.Series({"start_time_utc": pd.Timestamp("2024-06-01", tz="UTC"), "distance_m": math.inf,
                         "elapsed_time_s": 10.0, "complete": True}, dtype=object)
    records = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC"))
    act = Activity(summary=summary, records=records, laps=pd.DataFrame())
    assert fuzz_harness.check_activity(act) == "distance_m is inf"
    summary["distance_m"], summary["elapsed_time_s"] = 3.0, 1.7e9  # a 54-year "run"
    assert "elapsed_time_s" in fuzz_harness.check_activity(act)


def test_mutations_are_seeded():
    import numpy as np

    data = bytes(range(256)) * 8
    for op in fuzz_harness.OPS:
        a = fuzz_harness.mutate(data, op, np.random.default_rng(7))
        b = fuzz_harness.mutate(data, op, np.random.default_rng(7))
        assert a == b
    assert fuzz_harness.crop_xml(b"<gpx><trkpt>1</trkpt><trkpt>2</trkpt></gpx>", 25) == (
        b"<gpx><trkpt>1</trkpt></trkseg></trk></gpx>")
