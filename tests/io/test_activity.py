"""build_activity and the read_activities dispatcher, on hand-built samples.

Every expected value is worked out by hand from the tiny frames built here.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.activity import (
    ASCENT_HYSTERESIS_M,
    MOVING_SPEED_M_S,
    Activity,
    build_activity,
    sample_totals,
)
from kneedata.io.read import (
    file_hash,
    read_activities,
    read_activities_bytes,
    sniff_format,
)
from kneedata.schema import ACTIVITIES, LAPS, RECORDS

T0 = pd.Timestamp("2024-06-01 08:00:00", tz="UTC")


def _frame(n: int = 11, *, step_s: float = 1.0, speed: float = 3.0, cadence: float = 180.0,
           **extra: object) -> pd.DataFrame:
    """n samples every step_s seconds at constant speed [m/s] and cadence [steps/min]."""
    t = T0 + pd.to_timedelta(np.arange(n) * step_s, unit="s")
    data: dict[str, object] = {
        "distance_m": np.arange(n) * step_s * speed,
        "speed_m_s": np.full(n, speed),
        "cadence_spm": np.full(n, cadence),
    }
    data.update(extra)
    return pd.DataFrame(data, index=pd.DatetimeIndex(t, name="timestamp"))


def _build(records: pd.DataFrame, **kwargs: object) -> Activity:
    options: dict[str, object] = dict(
        source_file="hand.fit", source_format="fit", sport="running",
        sub_sport="generic", activity_id="0123456789abcdef-0",
        cadence_unit_source="fit_strides_doubled", utc_offset_min=0.0,
    )
    options.update(kwargs)
    return build_activity(records, **options)  # type: ignore[arg-type]


def test_summary_has_every_schema_field_and_records_every_column():
    act = _build(_frame())
    assert set(ACTIVITIES) <= set(act.summary.index)
    assert list(act.records.columns) == list(RECORDS)
    assert isinstance(act.records.index, pd.DatetimeIndex)
    assert str(act.records.index.tz) == "UTC"
    assert act.records.index.name == "timestamp"
    assert act.records["moving"].dtype == bool
    assert list(act.laps.columns) == list(LAPS)
    # 10 intervals of 1 s at 3 m/s: 30 m, 10 s, 180 steps/min
    assert act.summary["distance_m"] == pytest.approx(30.0)
    assert act.summary["timer_time_s"] == pytest.approx(10.0)
    assert act.summary["elapsed_time_s"] == pytest.approx(10.0)
    assert act.summary["avg_cadence_spm"] == pytest.approx(180.0)
    assert act.summary["avg_speed_m_s"] == pytest.approx(3.0)
    assert act.summary["totals_source"] == "samples"
    assert act.summary["complete"] is True


def test_input_frame_not_modified():
    records = _frame()
    before = records.copy()
    _build(records)
    pd.testing.assert_frame_equal(records, before)


def test_cadence_is_time_weighted_over_timer_time_with_zeros():
    # samples at 0, 1, 2 s (180 spm) then a 7 s gap to 9 s (0 spm, standing),
    # then 10 s (180). Weights = interval to the next sample: 1, 1, 7, 1, 0
    # -> (180*1 + 180*1 + 0*7 + 180*1) / 10 = 54 -- a plain sample mean would say 144.
    t = T0 + pd.to_timedelta([0, 1, 2, 9, 10], unit="s")
    cad = [180.0, 180.0, 0.0, 180.0, 180.0]
    records = pd.DataFrame({"cadence_spm": cad, "speed_m_s": 3.0},
                           index=pd.DatetimeIndex(t, name="timestamp"))
    act = _build(records)
    assert act.summary["avg_cadence_spm"] == pytest.approx(54.0)


def test_pause_cut_out_of_timer_time_and_cadence():
    # 21 samples, 1 s apart; timer paused from 5 s to 15 s (no samples inside
    # would be typical, but here the watch kept logging 0-cadence samples).
    records = _frame(21)
    records.loc[records.index[6:15], "cadence_spm"] = 0.0
    records.loc[records.index[6:15], "speed_m_s"] = 0.0
    act = _build(records, pauses=[(T0 + pd.Timedelta(seconds=5), T0 + pd.Timedelta(seconds=15))])
    s = act.summary
    assert s["elapsed_time_s"] == pytest.approx(20.0)
    assert s["timer_time_s"] == pytest.approx(10.0)  # 20 s - 10 s pause
    # only the running intervals count, all at 180 spm
    assert s["avg_cadence_spm"] == pytest.approx(180.0)
    assert s["n_pauses"] == 1
    running = act.records["timer_running"].to_numpy()
    assert not running[5:15].any() and running[:5].all() and running[15:].all()
    assert not act.records["moving"].to_numpy()[6:15].any()
    # sample_totals on the stored records alone reproduces the timer time
    assert sample_totals(act.records)["timer_time_s"] == pytest.approx(10.0)


def test_open_pause_at_the_end():
    records = _frame(11)
    act = _build(records, pauses=[(T0 + pd.Timedelta(seconds=8), None)])
    assert act.summary["timer_time_s"] == pytest.approx(8.0)


def test_moving_time_uses_the_speed_threshold():
    # 0.4 m/s is below MOVING_SPEED_M_S (0.5): 5 of 10 intervals are moving
    assert MOVING_SPEED_M_S == 0.5
    speed = np.array([3.0] * 5 + [0.4] * 6)
    records = _frame(11)
    records["speed_m_s"] = speed
    records["distance_m"] = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    act = _build(records)
    assert act.summary["moving_time_s"] == pytest.approx(5.0)
    assert act.records["moving"].sum() == 5


def test_moving_time_ignores_a_recording_gap_without_distance():
    # a 600 s gap with no distance gained (auto-pause without events) is not moving
    t = T0 + pd.to_timedelta([0, 1, 2, 602, 603], unit="s")
    records = pd.DataFrame({"distance_m": [0.0, 3.0, 6.0, 6.0, 9.0], "speed_m_s": 3.0},
                           index=pd.DatetimeIndex(t, name="timestamp"))
    act = _build(records)
    assert act.summary["moving_time_s"] == pytest.approx(3.0)
    assert act.summary["timer_time_s"] == pytest.approx(603.0)


def test_heart_rate_skips_zeros_and_running_dynamics_average():
    records = _frame(5, heart_rate_bpm=[150.0, 0.0, 150.0, 150.0, 150.0],
                     step_length_m=[1.0, 1.0, 1.2, 1.2, np.nan])
    act = _build(records)
    assert act.summary["avg_heart_rate_bpm"] == pytest.approx(150.0)
    assert act.summary["avg_step_length_m"] == pytest.approx(1.1)


def test_watch_totals_win_and_are_labelled():
    act = _build(_frame(), watch_totals={"distance_m": 31.5, "timer_time_s": 10.2,
                                         "avg_cadence_spm": 181.0, "avg_heart_rate_bpm": None})
    s = act.summary
    assert s["distance_m"] == 31.5
    assert s["timer_time_s"] == 10.2
    assert s["avg_cadence_spm"] == 181.0
    assert s["avg_speed_m_s"] == pytest.approx(31.5 / 10.2)
    assert s["totals_source"] == "mixed"  # elapsed time still from the samples
    assert "distance_m=watch" in s["totals_detail"]
    assert "elapsed_time_s=samples" in s["totals_detail"]


def test_cycling_keeps_rpm_and_drops_steps():
    records = _frame(cadence=np.nan, cadence_rpm=np.full(11, 85.0))
    act = _build(records, sport="cycling", cadence_unit_source="cycling_rpm",
                 watch_totals={"avg_cadence_spm": 170.0})
    assert act.records["cadence_spm"].isna().all()
    assert (act.records["cadence_rpm"] == 85.0).all()
    assert math.isnan(act.summary["avg_cadence_spm"])
    assert act.summary["avg_cadence_rpm"] == pytest.approx(85.0)


def test_running_drops_rpm_column():
    records = _frame(cadence_rpm=np.full(11, 85.0))
    act = _build(records)
    assert act.records["cadence_rpm"].isna().all()
    assert math.isnan(act.summary["avg_cadence_rpm"])


@pytest.mark.parametrize("sport", ["running", "walking", "hiking", "Trail Running"])
def test_foot_sports_keep_steps(sport):
    act = _build(_frame(), sport=sport)
    assert act.summary["avg_cadence_spm"] == pytest.approx(180.0)


def test_ascent_hysteresis_ignores_noise_and_counts_climbs():
    # +-1 m noise (below the 3 m hysteresis) on a flat run, then a 10 m climb
    # and a 6 m descent: ascent 10 m, descent 6 m.
    assert ASCENT_HYSTERESIS_M == 3.0
    noise = [100.0, 101.0, 100.0, 101.0, 99.5, 100.0]
    climb = [102.0, 105.0, 108.0, 110.0, 109.0, 106.0, 104.0]
    alt = np.array(noise + climb)
    act = _build(_frame(len(alt), altitude_m=alt))
    assert act.summary["ascent_m"] == pytest.approx(110.0 - 99.5)
    assert act.summary["descent_m"] == pytest.approx(6.0)


def test_local_date_from_offset_late_evening():
    # 21:40 UTC + 120 min = 23:40 local: still 1 June, not 2 June
    records = _frame()
    records.index = records.index + pd.Timedelta(hours=13, minutes=40)
    act = _build(records, utc_offset_min=120.0)
    assert act.summary["local_date"] == dt.date(2024, 6, 1)
    assert act.summary["local_time_source"] == "file"


def test_local_date_from_first_gps_fix():
    # New York in June is UTC-4: 02:30 UTC on 2 June is 22:30 on 1 June
    records = _frame(latitude_deg=np.full(11, 40.7128), longitude_deg=np.full(11, -74.0060))
    records.index = pd.DatetimeIndex(
        pd.Timestamp("2024-06-02 02:30", tz="UTC") + pd.to_timedelta(np.arange(11), unit="s"),
        name="timestamp",
    )
    act = _build(records, utc_offset_min=None)
    assert act.summary["timezone"] == "America/New_York"
    assert act.summary["utc_offset_min"] == -240.0
    assert act.summary["local_date"] == dt.date(2024, 6, 1)
    assert act.summary["local_time_source"] == "gps_timezone"


def test_local_date_falls_back_to_utc_with_warning():
    with pytest.warns(DataQualityWarning, match="UTC"):
        act = _build(_frame(), utc_offset_min=None)
    assert act.summary["local_time_source"] == "assumed_utc"
    assert act.summary["local_date"] == dt.date(2024, 6, 1)
    assert any("UTC" in w for w in act.warnings)


def test_distance_from_gps_when_the_file_has_none():
    # 0.001 deg of latitude = 111.2 m on a sphere of radius 6371.0088 km
    lat = 52.0 + np.arange(11) * 0.0001
    records = _frame(latitude_deg=lat, longitude_deg=np.full(11, 13.0))
    records = records.drop(columns=["distance_m"])
    act = _build(records)
    expected = 6371008.8 * math.radians(0.001)
    assert act.summary["distance_m"] == pytest.approx(expected, rel=1e-6)
    assert "distance_m=gps" in act.summary["totals_detail"]


def test_naive_index_taken_as_utc_and_duplicates_merged():
    t = pd.DatetimeIndex(["2024-06-01 08:00:00", "2024-06-01 08:00:01",
                          "2024-06-01 08:00:01", "2024-06-01 08:00:02"])
    records = pd.DataFrame({"distance_m": [0.0, np.nan, 3.0, 6.0],
                            "heart_rate_bpm": [140.0, 141.0, np.nan, 142.0]}, index=t)
    act = _build(records)
    assert len(act.records) == 3
    assert act.records["distance_m"].iloc[1] == 3.0
    assert act.records["heart_rate_bpm"].iloc[1] == 141.0
    assert str(act.records.index.tz) == "UTC"


def test_no_samples_but_stated_start_gives_a_summary():
    empty = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    act = _build(empty, watch_totals={"start_time_utc": T0, "distance_m": 5000.0,
                                      "timer_time_s": 1500.0})
    assert act.summary["distance_m"] == 5000.0
    assert act.summary["start_time_utc"] == T0
    assert act.records.empty


def test_no_samples_and_no_start_is_an_error():
    empty = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    with pytest.raises(FileFormatError, match="hand.fit"):
        _build(empty)


def test_reader_warnings_are_emitted_once_with_the_file_name():
    with pytest.warns(DataQualityWarning, match=r"hand\.fit.*truncated"):
        act = _build(_frame(), warnings=["truncated at byte 100"], complete=False)
    assert act.summary["complete"] is False
    assert act.warnings == ["truncated at byte 100"]


def test_laps_normalised_to_the_laps_table():
    laps = pd.DataFrame({"distance_m": [1000.0, 500.0], "timer_time_s": [300.0, 160.0],
                         "trigger": ["distance", "session_end"]})
    act = _build(_frame(), laps=laps)
    assert list(act.laps.columns) == list(LAPS)
    assert act.laps["lap_index"].tolist() == [0, 1]
    assert act.laps["distance_m"].tolist() == [1000.0, 500.0]
    assert act.laps["avg_heart_rate_bpm"].isna().all()


# --- sniffing and dispatch --------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x0e\x20\x00\x00\x10\x00\x00\x00.FIT\x00\x00", "fit"),
        (b'<?xml version="1.0"?>\n<gpx version="1.1">', "gpx"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><gpx>", "gpx"),
        (b"\n\n   <?xml version='1.0'?>\n<!-- c --><TrainingCenterDatabase xmlns='x'>", "tcx"),
        (b"<ns0:TrainingCenterDatabase xmlns:ns0='x'>", "tcx"),
        (b"<html><body>", None),
        (b"PK\x03\x04 zip", None),
        (b"date,distance\n", None),
    ],
)
def test_sniff_format(head, expected):
    assert sniff_format(head) == expected


def test_empty_bytes_are_an_error_naming_the_file():
    with pytest.raises(FileFormatError, match=r"run\.fit.*0 bytes"):
        read_activities_bytes(b"", "run.fit")


def test_empty_gzip_is_an_error():
    with pytest.raises(FileFormatError, match=r"run\.fit\.gz.*empty"):
        read_activities_bytes(gzip.compress(b""), "run.fit.gz")


def test_unknown_content_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "notes.fit"
    path.write_bytes(b"this is not a watch file")
    with pytest.raises(FileFormatError, match=r"notes\.fit.*not a FIT, GPX or TCX"):
        read_activities(path)


def test_zero_byte_file_on_disk(tmp_path):
    path = tmp_path / "empty.fit"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="0 bytes"):
        read_activities(path)


def test_gzip_fit_read_by_content_not_name(tmp_path):
    from kneedata.testing.fitwrite import write_activity_fit

    data = write_activity_fit(None, _frame(61), utc_offset_min=60.0, laps=None)
    path = tmp_path / "activity.bin"  # misleading name: content decides
    path.write_bytes(gzip.compress(data))
    (act,) = read_activities(path)
    assert act.summary["source_format"] == "fit"
    assert act.summary["activity_id"] == f"{file_hash(data)}-0"
    assert len(act.records) == 61


def test_a_given_sha256_is_the_id_of_plain_bytes_only():
    # the store passes the hash it has (files index): plain bytes are not hashed again
    import hashlib

    from kneedata.testing.fitwrite import write_activity_fit

    data = write_activity_fit(None, _frame(61), utc_offset_min=60.0, laps=None)
    sha = hashlib.sha256(data).hexdigest()
    (plain,) = read_activities_bytes(data, "run.fit", sha256=sha)
    assert plain.summary["activity_id"] == f"{file_hash(data)}-0" == f"{sha[:16]}-0"
    (given,) = read_activities_bytes(data, "run.fit", sha256="f" * 64)
    assert given.summary["activity_id"] == "ffffffffffffffff-0"  # trusted, not re-hashed
    # gzip: the id hashes the decompressed bytes, whatever hash of the raw bytes is given
    packed = gzip.compress(data)
    (unzipped,) = read_activities_bytes(packed, "run.fit.gz", sha256=hashlib.sha256(packed).hexdigest())
    assert unzipped.summary["activity_id"] == f"{file_hash(data)}-0"


def test_gpx_dispatched_to_the_gpx_reader():
    gpx = pytest.importorskip("kneedata.io.gpx")
    assert hasattr(gpx, "read_gpx")
    text = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="hand" xmlns="http://www.topografix.com/GPX/1/1">
<trk><type>running</type><trkseg>
<trkpt lat="52.0000" lon="13.0"><time>2024-06-01T08:00:00Z</time></trkpt>
<trkpt lat="52.0001" lon="13.0"><time>2024-06-01T08:00:05Z</time></trkpt>
<trkpt lat="52.0002" lon="13.0"><time>2024-06-01T08:00:10Z</time></trkpt>
</trkseg></trk></gpx>"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        acts = read_activities_bytes(text, "hand.gpx")
    assert len(acts) == 1
    assert acts[0].summary["source_format"] == "gpx"
    assert acts[0].summary["sport"] == "running"


@pytest.mark.parametrize("stated", [16 * 86400.0, -60.0])
def test_a_stated_duration_beyond_a_week_is_not_taken(stated):
    """A session stating 16 days (or a negative time) is a damaged summary: the samples'
    figure is used, with a note (found by the 2,000-mutant fuzz run on antfs-dump.63.fit)."""
    index = pd.date_range("2024-06-01 08:00", periods=61, freq="1s", tz="UTC")
    records = pd.DataFrame({"distance_m": np.arange(61) * 3.0}, index=index)
    act = build_activity(records, source_file="x.fit", source_format="fit", sport="running",
                         sub_sport="generic", activity_id="x-0", cadence_unit_source="none",
                         watch_totals={"elapsed_time_s": stated, "timer_time_s": 60.0})
    assert act.summary["elapsed_time_s"] == 60.0
    assert act.summary["timer_time_s"] == 60.0
    assert any("damaged summary" in note for note in act.warnings)
