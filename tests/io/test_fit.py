"""FIT reader rules, each on a small hand-built FIT file (kneedata.testing.fitwrite).

Expected values come from the fields written into each file, so they can be
checked by hand.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
import warnings

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.fit import _RI, FIT_DATETIME_MIN, _records_frame, read_fit
from kneedata.io.read import read_activities_bytes
from kneedata.testing.fitwrite import FitWriter, deg_to_semicircles, fit_crc, fit_time

T0 = dt.datetime(2024, 6, 1, 21, 40, tzinfo=dt.timezone.utc)


def _t(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _header(w: FitWriter, start: dt.datetime | int = T0) -> None:
    w.file_id(type="activity", manufacturer="garmin", product=2691,
              serial_number=1234, time_created=start)


def _records(w: FitWriter, n: int, *, t0: float = 0.0, d0: float = 0.0, speed: float = 3.0,
             cadence: int | None = 85, fractional: float | None = 0.5, **fields: object) -> None:
    for i in range(n):
        w.record(timestamp=_t(t0 + i), distance=d0 + speed * i, enhanced_speed=speed,
                 cadence=cadence, fractional_cadence=fractional, **fields)


def _run_file(*, n: int = 11, sport: str = "running", session: bool = True,
              offset_min: float | None = 120.0, pauses: tuple = (), **session_fields: object) -> bytes:
    w = FitWriter()
    _header(w)
    w.event(timestamp=_t(0), event="timer", event_type="start")
    _records(w, n)
    for stop, start in pauses:
        w.event(timestamp=_t(stop), event="timer", event_type="stop_all")
        w.event(timestamp=_t(start), event="timer", event_type="start")
    w.event(timestamp=_t(n - 1), event="timer", event_type="stop_all")
    if session:
        fields = dict(timestamp=_t(n - 1), start_time=_t(0), sport=sport, sub_sport="generic",
                      total_elapsed_time=n - 1.0, total_timer_time=n - 1.0,
                      total_distance=3.0 * (n - 1))
        fields.update(session_fields)
        w.session(**fields)
    act_fields: dict[str, object] = dict(timestamp=_t(n - 1), num_sessions=1, type="manual",
                                         event="activity", event_type="stop")
    if offset_min is not None:
        act_fields["local_timestamp"] = fit_time(_t(n - 1)) + int(offset_min * 60)
    w.activity(**act_fields)
    return w.to_bytes()


def _read(data: bytes, name: str = "hand.fit", **kwargs: object):
    return read_activities_bytes(data, name, **kwargs)  # type: ignore[arg-type]


# --- units -----------------------------------------------------------------------


def test_running_cadence_doubled_with_fraction():
    (act,) = _read(_run_file(avg_running_cadence=85, avg_fractional_cadence=0.5))
    # record: cadence 85 + fractional 0.5 strides/min -> 171 steps/min
    assert (act.records["cadence_spm"] == 171.0).all()
    assert act.records["cadence_rpm"].isna().all()
    # session: avg_running_cadence 85 + avg_fractional_cadence 0.5 -> 171
    assert act.summary["avg_cadence_spm"] == 171.0
    assert act.summary["cadence_unit_source"] == "fit_strides_doubled"


def test_cycling_cadence_not_doubled():
    (act,) = _read(_run_file(sport="cycling", avg_cadence=85, avg_fractional_cadence=0.5))
    assert (act.records["cadence_rpm"] == 85.5).all()
    assert act.records["cadence_spm"].isna().all()
    assert math.isnan(act.summary["avg_cadence_spm"])
    assert act.summary["avg_cadence_rpm"] == 85.5
    assert act.summary["cadence_unit_source"] == "cycling_rpm"


def test_generic_treadmill_session_is_a_foot_sport():
    # older Garmin indoor files: sport 'generic' with sub_sport 'treadmill'
    (act,) = _read(_run_file(sport="generic", sub_sport="treadmill", avg_cadence=85))
    assert act.summary["sport"] == "generic"
    assert (act.records["cadence_spm"] == 171.0).all()
    assert act.summary["avg_cadence_spm"] == 170.0


def test_walking_cadence_doubled_from_avg_cadence():
    # walking sessions carry avg_cadence (not the running sub-field): still strides
    (act,) = _read(_run_file(sport="walking", avg_cadence=61, avg_fractional_cadence=0.25))
    assert act.summary["avg_cadence_spm"] == 122.5


def test_positions_speed_altitude_and_dynamics_converted():
    w = FitWriter()
    _header(w)
    lat, lon = 47.3769, 8.5417
    for i in range(3):
        w.record(timestamp=_t(i), position_lat=deg_to_semicircles(lat),
                 position_long=deg_to_semicircles(lon), distance=3.0 * i,
                 speed=9.9, enhanced_speed=3.25, altitude=999.0, enhanced_altitude=410.2,
                 step_length=1083.0, stance_time=251.5, vertical_oscillation=88.4,
                 stance_time_balance=49.5, vertical_ratio=8.1, heart_rate=150, cadence=90)
    w.session(timestamp=_t(2), start_time=_t(0), sport="running", total_timer_time=2.0)
    data = w.to_bytes()
    # fitdecode keeps a natively written enhanced_speed/enhanced_altitude; fitfast
    # (like the FIT SDK) lets the component expanded from speed/altitude overwrite
    # it. Real devices write equal values, so only this hand-made conflict differs.
    (act,) = _read(data, engine="fitdecode")
    r = act.records.iloc[0]
    assert r["latitude_deg"] == pytest.approx(lat, abs=1e-7)  # 1 semicircle = 8.4e-8 deg
    assert r["longitude_deg"] == pytest.approx(lon, abs=1e-7)
    assert r["speed_m_s"] == pytest.approx(3.25)  # enhanced_speed wins over speed
    assert r["altitude_m"] == pytest.approx(410.2)  # enhanced_altitude wins (scale 5: 0.2 m)
    assert r["step_length_m"] == pytest.approx(1.083)  # 1083 mm
    assert r["stance_time_ms"] == pytest.approx(251.5)
    assert r["vertical_oscillation_mm"] == pytest.approx(88.4)
    assert r["stance_time_balance_pct"] == pytest.approx(49.5)
    assert r["vertical_ratio_pct"] == pytest.approx(8.1)
    assert r["cadence_spm"] == 180.0
    # Zurich: Europe/Zurich zone from the first fix (no activity message)
    assert act.summary["timezone"] == "Europe/Zurich"
    assert act.summary["utc_offset_min"] == 120.0


def test_stryd_developer_cadence_used_when_native_missing():
    # The FIT writer has no developer fields; check the mapping on decoded rows.
    row = [None] * len(_RI)
    row[_RI["timestamp"]] = 1_000_000_000
    row[_RI["Cadence"]] = 88
    arr = np.array([row], dtype=float)
    frame = _records_frame(arr[:, _RI["timestamp"]], arr, "running")
    assert frame["cadence_spm"].iloc[0] == 176.0  # Stryd 'Cadence' is strides/min


def test_session_totals_reported():
    (act,) = _read(_run_file(total_distance=31.0, total_timer_time=10.5, total_elapsed_time=12.0,
                             avg_heart_rate=151, total_ascent=12, total_descent=11,
                             avg_step_length=1100.0, avg_stance_time=250.0))
    s = act.summary
    assert s["distance_m"] == 31.0
    assert s["timer_time_s"] == 10.5
    assert s["elapsed_time_s"] == 12.0
    assert s["avg_heart_rate_bpm"] == 151.0
    assert s["ascent_m"] == 12.0 and s["descent_m"] == 11.0
    assert s["avg_step_length_m"] == pytest.approx(1.1)  # 1100 mm
    assert s["avg_stance_time_ms"] == 250.0
    assert s["avg_speed_m_s"] == pytest.approx(31.0 / 10.5)
    assert "distance_m=watch" in s["totals_detail"]


# --- time --------------------------------------------------------------------------


def test_local_date_from_local_timestamp_late_evening():
    # starts 21:40 UTC, local_timestamp says UTC+2: 23:40 local on 1 June
    (act,) = _read(_run_file(offset_min=120.0))
    assert act.summary["utc_offset_min"] == 120.0
    assert act.summary["local_date"] == dt.date(2024, 6, 1)
    assert act.summary["start_time_utc"] == pd.Timestamp(T0)
    (east,) = _read(_run_file(offset_min=180.0))
    # UTC+3: 00:40 on 2 June
    assert east.summary["local_date"] == dt.date(2024, 6, 2)


def test_timer_pauses_respected():
    # 61 samples over 60 s, timer stopped from 20 s to 35 s
    w = FitWriter()
    _header(w)
    w.event(timestamp=_t(0), event="timer", event_type="start")
    _records(w, 21)
    w.event(timestamp=_t(20), event="timer", event_type="stop_all")
    w.event(timestamp=_t(35), event="timer", event_type="start")
    _records(w, 26, t0=35.0, d0=60.0)
    w.event(timestamp=_t(60), event="timer", event_type="stop_all")
    w.session(timestamp=_t(60), start_time=_t(0), sport="running")
    w.activity(timestamp=_t(60), local_timestamp=fit_time(_t(60)), num_sessions=1)
    (act,) = _read(w.to_bytes())
    s = act.summary
    assert s["n_pauses"] == 1
    assert s["elapsed_time_s"] == 60.0
    assert s["timer_time_s"] == 45.0  # 60 s - 15 s pause
    assert s["avg_cadence_spm"] == pytest.approx(171.0)


def test_device_relative_times_anchored_to_local_timestamp():
    # FR70 style: times are seconds since power-on (< 0x10000000); the activity
    # message pairs its relative timestamp with an absolute local_timestamp.
    rel0 = 17_217_864
    end_local = fit_time(dt.datetime(2012, 2, 13, 12, 0, tzinfo=dt.timezone.utc))
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=1436, serial_number=1,
              time_created=rel0)
    for i in range(11):
        w.record(timestamp=rel0 + i, distance=3.0 * i, speed=3.0, heart_rate=150)
    w.session(timestamp=rel0 + 10, start_time=rel0, sport="running",
              total_elapsed_time=10.0, total_timer_time=10.0, total_distance=30.0)
    w.activity(timestamp=rel0 + 10, local_timestamp=end_local, num_sessions=1)
    with pytest.warns(DataQualityWarning, match="device-relative"):
        (act,) = _read(w.to_bytes())
    assert rel0 < FIT_DATETIME_MIN
    assert act.summary["start_time_utc"] == pd.Timestamp("2012-02-13 11:59:50", tz="UTC")
    assert act.records.index[-1] == pd.Timestamp("2012-02-13 12:00:00", tz="UTC")
    assert act.summary["local_date"] == dt.date(2012, 2, 13)
    assert any("device-relative" in m for m in act.warnings)


def test_device_relative_times_anchored_to_time_created():
    rel0 = 5_000
    created = dt.datetime(2013, 5, 1, 7, 0, tzinfo=dt.timezone.utc)
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=1436, serial_number=1,
              time_created=created)
    for i in range(5):
        w.record(timestamp=rel0 + i, distance=3.0 * i, heart_rate=150)
    with pytest.warns(DataQualityWarning, match="time_created"):
        (act,) = _read(w.to_bytes())
    assert act.records.index[0] == pd.Timestamp(created)


def test_absolute_records_with_a_relative_session_start_need_no_anchor():
    # a damaged session message whose start_time is device-relative (< 0x10000000)
    # while every record is dated: the records are kept as they are and the session,
    # dated decades from them, is dropped (a 2,000-mutant fuzz run crashed here)
    created = dt.datetime(2013, 5, 1, 7, 0, tzinfo=dt.timezone.utc)
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=1436, serial_number=1,
              time_created=created)
    for i in range(5):
        w.record(timestamp=fit_time(created) + i, distance=3.0 * i, heart_rate=150)
    w.session(timestamp=5_004, start_time=5_000, sport="running", total_elapsed_time=4.0,
              total_timer_time=4.0, total_distance=12.0)
    with pytest.warns(DataQualityWarning, match="session message"):
        (act,) = _read(w.to_bytes())
    assert act.records.index[0] == pd.Timestamp(created)
    assert act.summary["start_time_utc"] == pd.Timestamp(created)


# --- sessions ------------------------------------------------------------------------


def _multisport(summary_first: bool) -> bytes:
    # run 0-9 s, cycle 10-19 s; cumulative distance continues across legs
    w = FitWriter()
    _header(w)
    sessions = [
        dict(timestamp=_t(9), start_time=_t(0), sport="running", sub_sport="generic",
             total_elapsed_time=10.0, total_timer_time=10.0, total_distance=30.0,
             avg_running_cadence=85, avg_fractional_cadence=0.5),
        dict(timestamp=_t(19), start_time=_t(10), sport="cycling", sub_sport="road",
             total_elapsed_time=10.0, total_timer_time=10.0, total_distance=80.0,
             avg_cadence=90),
    ]
    if summary_first:
        for s in sessions:
            w.session(**s)
    _records(w, 10)
    _records(w, 10, t0=10.0, d0=30.0, speed=8.0, cadence=90, fractional=0.0)
    if not summary_first:
        for s in sessions:
            w.session(**s)
    w.activity(timestamp=_t(19), local_timestamp=fit_time(_t(19)) + 3600, num_sessions=2)
    return w.to_bytes()


@pytest.mark.parametrize("summary_first", [True, False])
def test_multisport_gives_one_activity_per_leg(summary_first):
    run, ride = _read(_multisport(summary_first))
    assert (run.summary["sport"], ride.summary["sport"]) == ("running", "cycling")
    assert ride.summary["sub_sport"] == "road"
    assert len(run.records) == 10 and len(ride.records) == 10
    assert run.records.index[-1] < ride.records.index[0]
    assert (run.records["cadence_spm"] == 171.0).all()
    assert (ride.records["cadence_rpm"] == 90.0).all()
    assert ride.records["cadence_spm"].isna().all()
    assert run.summary["avg_cadence_spm"] == 171.0
    assert ride.summary["avg_cadence_rpm"] == 90.0
    assert run.summary["activity_id"].endswith("-0")
    assert ride.summary["activity_id"].endswith("-1")
    assert run.summary["activity_id"][:16] == ride.summary["activity_id"][:16]


def test_chained_fit_files_read_across_headers():
    first = _run_file(n=6)
    w = FitWriter()
    _header(w, _t(100))
    _records(w, 6, t0=100.0)
    second = w.to_bytes()
    acts = _read(first + second)
    # one session in the first file; the second file's records fall after its start
    assert len(acts) == 1
    assert len(acts[0].records) == 12
    assert acts[0].summary["complete"] is True


def test_chained_file_after_a_bad_crc_still_read():
    first = bytearray(_run_file(n=6))
    first[-1] ^= 0xFF
    w = FitWriter()
    _header(w, _t(100))
    _records(w, 6, t0=100.0)
    with pytest.warns(DataQualityWarning, match="CRC"):
        (act,) = _read(bytes(first) + w.to_bytes())
    assert len(act.records) == 12
    assert act.summary["complete"] is False


def test_no_session_builds_from_records():
    with pytest.warns(DataQualityWarning, match="no session"):
        (act,) = _read(_run_file(session=False))
    assert act.summary["sport"] == "generic"
    assert act.summary["distance_m"] == pytest.approx(30.0)
    assert act.summary["timer_time_s"] == pytest.approx(10.0)
    assert act.summary["totals_source"] == "samples"


# --- damaged and empty files -------------------------------------------------------


def test_truncated_file_keeps_what_was_decoded():
    data = _run_file(n=30)
    cut = data[: len(data) // 2]
    with pytest.warns(DataQualityWarning, match="decoding stopped"):
        (act,) = _read(cut)
    assert act.summary["complete"] is False
    assert 5 < len(act.records) < 30
    assert act.summary["totals_source"] == "samples"  # session message was cut off
    assert any("decoding stopped" in m for m in act.warnings)


def test_bad_crc_marks_incomplete():
    data = bytearray(_run_file())
    data[-1] ^= 0xFF
    with pytest.warns(DataQualityWarning, match="CRC"):
        (act,) = _read(bytes(data))
    assert act.summary["complete"] is False
    assert len(act.records) == 11
    assert act.summary["distance_m"] == 30.0


def test_bad_header_crc_still_read_and_flagged():
    data = bytearray(_run_file())
    data[12] ^= 0xFF  # header CRC (bytes 12-13 of a 14-byte header)
    with pytest.warns(DataQualityWarning, match="header CRC"):
        (act,) = _read(bytes(data))
    assert act.summary["complete"] is False
    assert len(act.records) == 11


def test_undefined_local_message_mid_file():
    w = FitWriter()
    _header(w)
    _records(w, 5)
    w.raw(bytes([0x0B]) + b"\x00" * 8)  # data message of local type 11, never defined
    _records(w, 5, t0=5.0)
    with pytest.warns(DataQualityWarning, match="not defined"):
        (act,) = _read(w.to_bytes())
    assert act.summary["complete"] is False
    assert len(act.records) == 5


def test_corrupt_chained_header():
    first = _run_file(n=6)
    bad = b"\x0e\x20\x00\x00\x10\x00\x00\x00.FOO" + b"\x00" * 20
    with pytest.warns(DataQualityWarning, match="not a FIT file"):
        (act,) = _read(first + bad)
    assert act.summary["complete"] is False
    assert len(act.records) == 6


def test_corrupt_record_timestamp_dropped():
    w = FitWriter()
    _header(w)
    _records(w, 10)
    w.record(timestamp=dt.datetime(2085, 1, 1, tzinfo=dt.timezone.utc), distance=1.0)
    with pytest.warns(DataQualityWarning, match="outside the activity"):
        (act,) = _read(w.to_bytes())
    assert len(act.records) == 10


def test_header_with_zero_data_size_is_an_error():
    data = _run_file()
    header = bytearray(data[:14])
    header[4:8] = struct.pack("<I", 0)
    header[12:14] = struct.pack("<H", fit_crc(bytes(header[:12])))
    with pytest.raises(FileFormatError, match=r"hand\.fit.*0 bytes of data"):
        _read(bytes(header) + data[14:])


def test_header_only_is_an_error():
    data = _run_file()
    with pytest.raises(FileFormatError, match="ends after its 14-byte header"):
        _read(data[:14])


def test_nothing_decodable_is_an_error():
    data = _run_file()
    garbage = data[:14] + b"\x0b" * 40
    with pytest.raises(FileFormatError, match="no activity data"):
        _read(garbage)


# --- engines --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["fitparse", "fitfast"])
def test_engines_agree_with_fitdecode(engine):
    if engine == "fitfast":
        pytest.importorskip("fitfast")
    data = _multisport(summary_first=False)
    a = _read(data, engine="fitdecode")
    b = _read(data, engine=engine)
    assert len(a) == len(b) == 2
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.records, y.records)
        pd.testing.assert_frame_equal(x.laps, y.laps)
        pd.testing.assert_series_equal(x.summary.drop("decoder"), y.summary.drop("decoder"))
        assert (x.summary["decoder"], y.summary["decoder"]) == ("fitdecode", engine)


def test_garmin_sdk_engine_optional():
    pytest.importorskip("garmin_fit_sdk")
    data = _run_file()
    (a,) = _read(data)
    (b,) = _read(data, engine="garmin_fit_sdk")
    pd.testing.assert_frame_equal(a.records, b.records)


def test_unknown_engine_rejected():
    with pytest.raises(ValueError, match="unknown FIT engine"):
        read_fit(_run_file(), "hand.fit", "0" * 16, engine="nope")


def test_no_warning_on_a_clean_file():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        (act,) = _read(_run_file())
    assert act.warnings == []
    assert act.summary["complete"] is True


@pytest.mark.parametrize(("message", "start", "want"), [
    ("unexpected EOF @ 768", 0, "at byte 768 of 9000 (FitEOFError: unexpected EOF)"),
    ("FIT parsing error @ 262: local message 1 not defined", 100,
     "at byte 362 of 9000 (FitEOFError: FIT parsing error: local message 1 not defined)"),
    ("no offset given", 14, "in the FIT file starting at byte 14 (FitEOFError: no offset given)"),
])
def test_decoding_note_gives_the_absolute_byte_wherever_fitdecode_puts_the_offset(message, start, want):
    from kneedata.io.fit import _decoding_stopped

    class FitEOFError(Exception):
        pass

    assert want in _decoding_stopped(FitEOFError(message), start, 9000)


def test_truncated_file_says_where_the_damage_is():
    # issue 13: "decoding stopped ... at byte 0 (... @ 768)" read as if byte 0 were damaged;
    # the file is cut after len(cut) bytes, so decoding stops at most there
    cut = _run_file(n=30)[:400]
    with pytest.warns(DataQualityWarning):
        (act,) = _read(cut)
    (note,) = [m for m in act.warnings if "decoding stopped" in m]
    found = re.search(r"decoding stopped at byte (\d+) of 400 \(", note)
    assert found is not None, note
    assert 300 < int(found.group(1)) <= 400
    assert "@" not in note and "byte 0" not in note
