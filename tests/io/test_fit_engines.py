"""The fast FIT engine (fitfast) against fitdecode, and the fallback between them.

Reference: fitdecode, the engine every reading rule was written and checked
against (tests/io/test_real_files.py checks it against the watch's own totals).
On every real FIT file that fitfast reads, the default reader must give the same
tables as ``engine="fitdecode"``; on every file it refuses, the default reader must
*be* fitdecode (same salvage, ``complete=False``, same notes). Without fitfast
installed, everything reads on fitdecode.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import FileFormatError
from kneedata.io.activity import Activity
from kneedata.io.fit import fitfast_module
from kneedata.io.read import read_activities, read_activities_bytes
from kneedata.testing.fitwrite import FitWriter

#: Files fitfast refuses (checked with fitfast 0.1.0): bad file CRC, truncation,
#: a corrupt chained header, an undefined local message, and the FR70 file whose
#: records hold compressed_speed_distance (a component fitfast does not expand).
REFUSED = {
    "2013-02-06-12-11-14.fit", "activity-filecrc.fit", "activity-settings-corruptheader.fit",
    "activity-unexpected-eof.fit", "nick.fit", "strava-android-app-201.10-b1218918.fit",
    "compressed-speed-distance.fit",
}


def _read(path: Path, engine: str | None = None) -> list[Activity] | FileFormatError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read_activities(path, engine=engine)
        except FileFormatError as err:
            return err


def _assert_same(fast: list[Activity], ref: list[Activity], name: str) -> None:
    assert len(fast) == len(ref), name
    for x, y in zip(fast, ref, strict=True):
        # rtol 1e-12: both apply the same FIT scale/offset in float64; exact in
        # practice, the tolerance only allows for a different order of operations
        pd.testing.assert_frame_equal(x.records, y.records, check_exact=False, rtol=1e-12, obj=name)
        pd.testing.assert_frame_equal(x.laps, y.laps, check_exact=False, rtol=1e-12, obj=name)
        pd.testing.assert_series_equal(x.summary.drop("decoder"), y.summary.drop("decoder"),
                                       check_exact=False, rtol=1e-12, obj=name)
        assert x.warnings == y.warnings, name


@pytest.mark.real_data
@pytest.mark.parametrize("part", range(4))  # 4 parts so pytest -n spreads them
def test_default_engine_reads_every_real_file_as_fitdecode(real_data, part):
    pytest.importorskip("fitfast")
    paths = sorted(p for p in (real_data / "fit").iterdir() if p.is_file())
    for path in paths[part::4]:
        name = path.name
        default, ref = _read(path), _read(path, "fitdecode")
        if isinstance(ref, FileFormatError):  # 0-byte and header-only files: same error
            assert isinstance(default, FileFormatError), name
            assert str(default) == str(ref)
            continue
        assert not isinstance(default, FileFormatError), default
        _assert_same(default, ref, name)
        decoders = {a.summary["decoder"] for a in default}
        assert decoders == ({"fitdecode"} if name in REFUSED else {"fitfast"}), name


@pytest.mark.parametrize("name", sorted(REFUSED - {"compressed-speed-distance.fit",
                                                   "2013-02-06-12-11-14.fit"}))
@pytest.mark.real_data
def test_damaged_file_salvaged_through_the_fallback(real_data, name):
    pytest.importorskip("fitfast")
    path = real_data / "fit" / name
    (act,) = _read(path)
    assert act.summary["decoder"] == "fitdecode"
    assert act.summary["complete"] is False
    with pytest.raises(FileFormatError, match="fitfast cannot read this file"):
        read_activities(path, engine="fitfast")


@pytest.mark.real_data
def test_without_fitfast_everything_reads_on_fitdecode(real_data, monkeypatch):
    monkeypatch.setitem(sys.modules, "fitfast", None)  # import fitfast -> ImportError
    assert fitfast_module() is None
    path = real_data / "fit" / "Fr955v19.28andStryd.fit"
    (act,) = _read(path)
    assert act.summary["decoder"] == "fitdecode"
    assert len(act.records) > 3000  # csv: 3118 records
    with pytest.raises(FileFormatError, match="'fitfast' is not installed"):
        read_activities(path, engine="fitfast")


@pytest.mark.real_data
def test_fitdecode_keeps_native_lap_speed_over_an_invalid_component(real_data):
    # 4077461142.fit writes enhanced_avg_speed per lap and an invalid avg_speed;
    # fitdecode expands the invalid one into a second, empty enhanced_avg_speed.
    # Lap 0: enhanced_avg_speed 2.505 m/s (fitdump of the file).
    for engine in ("fitdecode", "fitparse"):
        (act,) = _read(real_data / "fit" / "4077461142.fit", engine)
        assert act.laps["avg_speed_m_s"].iloc[0] == pytest.approx(2.505), engine
        assert act.summary["avg_speed_m_s"] == pytest.approx(2.46), engine  # session value


def test_record_columns_exact_on_a_written_file(rng):
    # A hand-built run (not real data): 600 s at 1 Hz, speeds to the mm/s, whose
    # enhanced_speed fitfast expands from speed; both engines must agree exactly.
    pytest.importorskip("fitfast")
    import datetime as dt

    t0 = dt.datetime(2024, 3, 1, 6, 0, tzinfo=dt.timezone.utc)
    speed = np.round(rng.uniform(2.0, 4.0, 600), 3)
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=2691, serial_number=1,
              time_created=t0)
    for i in range(600):
        w.record(timestamp=t0 + dt.timedelta(seconds=i), speed=float(speed[i]),
                 distance=float(speed[:i].sum()), altitude=100.0 + 0.2 * (i % 50),
                 cadence=85, fractional_cadence=0.5, heart_rate=150)
    w.session(timestamp=t0 + dt.timedelta(seconds=599), start_time=t0, sport="running",
              total_timer_time=599.0, total_elapsed_time=599.0)
    data = w.to_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (fast,) = read_activities_bytes(data, "written.fit")
        (ref,) = read_activities_bytes(data, "written.fit", engine="fitdecode")
    assert fast.summary["decoder"] == "fitfast"
    np.testing.assert_array_equal(fast.records["speed_m_s"], speed)
    pd.testing.assert_frame_equal(fast.records, ref.records)


def test_without_fitfast_a_written_file_reads_on_fitdecode(monkeypatch):
    # No real data needed: a short written run, read with fitfast hidden.
    import datetime as dt

    t0 = dt.datetime(2024, 3, 1, 6, 0, tzinfo=dt.timezone.utc)
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=2691, serial_number=1,
              time_created=t0)
    for i in range(30):
        w.record(timestamp=t0 + dt.timedelta(seconds=i), speed=3.0, distance=3.0 * i)
    w.session(timestamp=t0 + dt.timedelta(seconds=29), start_time=t0, sport="running",
              total_timer_time=29.0, total_elapsed_time=29.0, total_distance=87.0)
    data = w.to_bytes()
    monkeypatch.setitem(sys.modules, "fitfast", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (act,) = read_activities_bytes(data, "written.fit")
    assert act.summary["decoder"] == "fitdecode"
    assert len(act.records) == 30
    assert act.summary["distance_m"] == 87.0  # the session's total_distance
