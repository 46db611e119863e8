"""kneedata.testing.fitwrite: the FIT encoder, checked by reading back with two decoders.

Every file written here must be read by fitdecode with CRC checking set to raise and
by fitparse (which checks CRCs by default) and give back the values written, to the
resolution of each field's scale (e.g. distance scale 100 -> 0.005 m).
"""

from __future__ import annotations

import io
import struct

import fitdecode
import fitparse
import numpy as np
import pandas as pd
import pytest

from kneedata.errors import SchemaError
from kneedata.testing.fitwrite import (
    FIT_EPOCH,
    FitWriter,
    deg_to_semicircles,
    fit_crc,
    fit_time,
    write_activity_fit,
)


def read_fitdecode(data: bytes) -> list[tuple[str, dict]]:
    """All data messages as (name, {field: value}), CRC errors and bad data raising."""
    out = []
    with fitdecode.FitReader(
        io.BytesIO(data),
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                out.append((frame.name, {f.name: f.value for f in frame.fields}))
    return out


def read_fitparse(data: bytes) -> list[tuple[str, dict]]:
    fit = fitparse.FitFile(io.BytesIO(data), check_crc=True)
    return [(m.name, m.get_values()) for m in fit.get_messages()]


def only(messages: list[tuple[str, dict]], name: str) -> list[dict]:
    return [values for kind, values in messages if kind == name]


@pytest.fixture
def run_frame() -> pd.DataFrame:
    """A hand-built 10-minute run: 121 samples every 5 s at 3 m/s, 171.3 steps/min.

    Values are chosen so each field's resolution matters: 171.3 steps/min is
    85.65 strides/min = 85 + 83/128 (fractional resolution 1/128).
    """
    n = 121
    idx = pd.date_range("2024-03-30 21:30", periods=n, freq="5s", tz="UTC",
                        name="timestamp")
    t = np.arange(n)
    return pd.DataFrame(
        {
            "distance_m": t * 15.0,
            "speed_m_s": np.full(n, 3.0),
            "cadence_spm": np.full(n, 171.3),
            "heart_rate_bpm": np.round(np.linspace(120, 160, n)),
            "altitude_m": 100 + 10 * np.sin(t / 20),
            "latitude_deg": 52.52 + t * 1.3e-4,
            "longitude_deg": 13.405 - t * 0.7e-4,
            "step_length_m": np.full(n, 1.051),
            "stance_time_ms": np.full(n, 245.3),
            "vertical_oscillation_mm": np.full(n, 88.2),
            "stance_time_balance_pct": np.full(n, 49.62),
            "vertical_ratio_pct": np.full(n, 8.39),
        },
        index=idx,
    )


# --- CRC and header --------------------------------------------------------------


def test_crc_check_value():
    # CRC-16/ARC check value for b"123456789" is 0xBB3D (Greg Cook's CRC catalogue);
    # the FIT CRC is that algorithm (FIT SDK fit_crc.c, polynomial 0xA001).
    assert fit_crc(b"123456789") == 0xBB3D


def test_crc_matches_fit_sdk_nibble_algorithm(rng):
    # Reference: the FIT SDK's nibble-table loop, transcribed from the protocol doc.
    table = [0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400]

    def sdk_crc(data: bytes) -> int:
        crc = 0
        for byte in data:
            tmp = table[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ table[byte & 0xF]
            tmp = table[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ table[(byte >> 4) & 0xF]
        return crc

    data = rng.integers(0, 256, size=500, dtype=np.uint8).tobytes()
    assert fit_crc(data) == sdk_crc(data)


def test_header_layout_and_crcs():
    data = FitWriter().file_id(type="activity", manufacturer="garmin").to_bytes()
    size, protocol, profile, data_size, magic, header_crc = struct.unpack(
        "<BBHI4sH", data[:14]
    )
    assert (size, protocol, profile, magic) == (14, 0x20, 2132, b".FIT")
    assert data_size == len(data) - 14 - 2
    assert header_crc == fit_crc(data[:12])
    assert struct.unpack("<H", data[-2:])[0] == fit_crc(data[:-2])


def test_twelve_byte_header_is_read():
    data = FitWriter().file_id(type="activity", manufacturer="garmin").to_bytes(
        header_size=12
    )
    assert data[0] == 12
    assert only(read_fitdecode(data), "file_id")[0]["type"] == "activity"
    assert only(read_fitparse(data), "file_id")[0]["type"] == "activity"


def test_flipped_byte_is_a_crc_error():
    data = bytearray(write_activity_fit(None, _tiny_run()))
    data[40] ^= 0xFF
    with pytest.raises(fitdecode.FitCRCError):
        read_fitdecode(bytes(data))


def _tiny_run() -> pd.DataFrame:
    idx = pd.date_range("2024-01-01 08:00", periods=5, freq="1s", tz="UTC",
                        name="timestamp")
    return pd.DataFrame({"distance_m": [0.0, 3, 6, 9, 12], "speed_m_s": 3.0,
                         "cadence_spm": 180.0}, index=idx)


# --- activity round trip -----------------------------------------------------------


@pytest.mark.parametrize("reader", [read_fitdecode, read_fitparse])
def test_activity_round_trip_records(run_frame, reader):
    data = write_activity_fit(None, run_frame, utc_offset_min=60, running_dynamics=True)
    records = only(reader(data), "record")
    assert len(records) == len(run_frame)
    got = pd.DataFrame(records)
    # timestamps: whole seconds, as written
    times = pd.to_datetime(got["timestamp"], utc=True)
    assert (times.to_numpy() == run_frame.index.to_numpy()).all()
    # distance scale 100 -> +-0.005 m; speed scale 1000 -> +-0.0005 m/s
    np.testing.assert_allclose(got["distance"], run_frame["distance_m"], atol=0.005)
    np.testing.assert_allclose(got["enhanced_speed"], 3.0, atol=0.0005)
    # running cadence: strides/min + fraction, 1/128 resolution -> steps within 1/128
    steps = 2 * (got["cadence"] + got["fractional_cadence"])
    np.testing.assert_allclose(steps, 171.3, atol=1 / 128)
    assert (got["cadence"] == 85).all()  # 171.3 / 2 = 85.65 strides/min
    np.testing.assert_array_equal(got["heart_rate"], run_frame["heart_rate_bpm"])
    # enhanced_altitude scale 5 -> +-0.1 m
    np.testing.assert_allclose(got["enhanced_altitude"], run_frame["altitude_m"],
                               atol=0.1 + 1e-9)
    # positions: one semicircle is 180/2**31 deg ~ 8.4e-8 deg
    lat = got["position_lat"] * 180 / 2**31
    np.testing.assert_allclose(lat, run_frame["latitude_deg"], atol=1e-7)
    lon = got["position_long"] * 180 / 2**31
    np.testing.assert_allclose(lon, run_frame["longitude_deg"], atol=1e-7)
    # running dynamics: step_length mm scale 10, stance time ms scale 10, % scale 100
    np.testing.assert_allclose(got["step_length"], 1051.0, atol=0.05)
    np.testing.assert_allclose(got["stance_time"], 245.3, atol=0.05)
    np.testing.assert_allclose(got["vertical_oscillation"], 88.2, atol=0.05)
    np.testing.assert_allclose(got["stance_time_balance"], 49.62, atol=0.005)
    np.testing.assert_allclose(got["vertical_ratio"], 8.39, atol=0.005)


@pytest.mark.parametrize("reader", [read_fitdecode, read_fitparse])
def test_activity_round_trip_session_and_local_time(run_frame, reader):
    data = write_activity_fit(None, run_frame, sport="running", sub_sport="trail",
                              utc_offset_min=60, running_dynamics=True)
    messages = reader(data)
    (session,) = only(messages, "session")
    assert session["sport"] == "running"
    assert session["sub_sport"] == "trail"
    # 120 intervals of 5 s: 600 s elapsed = timer (no pauses)
    assert session["total_elapsed_time"] == 600.0
    assert session["total_timer_time"] == 600.0
    assert session["total_distance"] == pytest.approx(1800.0, abs=0.005)
    assert session["enhanced_avg_speed"] == pytest.approx(3.0, abs=0.0005)
    # avg cadence: 171.3 steps/min -> 85 strides + 83/128 (0.6484375)
    assert session["avg_running_cadence"] == 85
    assert 2 * (85 + session["avg_fractional_cadence"]) == pytest.approx(171.3, abs=1 / 128)
    assert session["avg_step_length"] == pytest.approx(1051.0, abs=0.05)
    assert session["avg_stance_time"] == pytest.approx(245.3, abs=0.05)
    # 1800 m with 1000 m auto laps -> 2 laps
    laps = only(messages, "lap")
    assert len(laps) == session["num_laps"] == 2
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(1800.0, abs=0.01)
    assert sum(lap["total_timer_time"] for lap in laps) == pytest.approx(600.0)
    (activity,) = only(messages, "activity")
    assert activity["num_sessions"] == 1
    local = pd.Timestamp(activity["local_timestamp"]).tz_localize(None)
    utc = pd.Timestamp(activity["timestamp"]).tz_localize(None)
    assert (local - utc) == pd.Timedelta(minutes=60)
    (file_id,) = only(messages, "file_id")
    assert file_id["type"] == "activity"
    assert file_id["manufacturer"] == "garmin"


def test_session_ascent_descent_from_altitude():
    # up 20 m then down 30 m in 1 m steps (hand-built): ascent 20, descent 30
    alt = np.concatenate([np.arange(100, 121), np.arange(119, 89, -1)]).astype(float)
    idx = pd.date_range("2024-01-01 08:00", periods=alt.size, freq="5s", tz="UTC",
                        name="timestamp")
    frame = pd.DataFrame({"distance_m": np.arange(alt.size) * 15.0,
                          "speed_m_s": 3.0, "altitude_m": alt}, index=idx)
    (session,) = only(read_fitdecode(write_activity_fit(None, frame)), "session")
    assert session["total_ascent"] == 20
    assert session["total_descent"] == 30


@pytest.mark.parametrize("reader", [read_fitdecode, read_fitparse])
def test_pause_events_and_timer_time(run_frame, reader):
    # drop samples inside a 3-minute pause: the watch records nothing while stopped
    stop = run_frame.index[40] + pd.Timedelta(seconds=2)
    start = stop + pd.Timedelta(minutes=3)
    frame = run_frame[(run_frame.index <= stop) | (run_frame.index >= start)]
    data = write_activity_fit(None, frame, pauses=[(stop, start)], laps=None)
    messages = reader(data)
    events = [(e["event_type"], pd.Timestamp(e["timestamp"]).tz_localize(None))
              for e in only(messages, "event")]
    naive = lambda t: t.tz_localize(None)  # noqa: E731 - fitparse gives naive UTC
    assert events == [
        ("start", naive(frame.index[0])),
        ("stop_all", naive(stop)),
        ("start", naive(start)),
        ("stop_all", naive(frame.index[-1])),
    ]
    (session,) = only(messages, "session")
    assert session["total_elapsed_time"] == 600.0
    assert session["total_timer_time"] == 600.0 - 180.0
    # the records between the events are exactly those before/after the pause
    kinds = [kind for kind, _ in messages if kind in ("record", "event")]
    stop_at = kinds.index("event", 1)
    assert kinds[1:stop_at].count("record") == int((frame.index <= stop).sum())


def test_legacy_speed_and_altitude_fields(run_frame):
    data = write_activity_fit(None, run_frame, enhanced=False)
    record = only(read_fitparse(data), "record")[0]
    assert record["speed"] == pytest.approx(3.0, abs=0.0005)
    assert record["altitude"] == pytest.approx(run_frame["altitude_m"].iloc[0], abs=0.1)
    # the file defines fields 6 (speed) and 2 (altitude), not 73/78 (enhanced_*);
    # decoders may still expand components into enhanced_* values when reading
    with fitdecode.FitReader(io.BytesIO(data)) as reader:
        defined = [
            {f.def_num for f in frame.field_defs}
            for frame in reader
            if isinstance(frame, fitdecode.FitDefinitionMessage) and frame.name == "record"
        ]
    assert defined and all({2, 6} <= nums and not {73, 78} & nums for nums in defined)


def test_cycling_cadence_is_not_halved():
    idx = pd.date_range("2024-01-01 08:00", periods=4, freq="1s", tz="UTC",
                        name="timestamp")
    frame = pd.DataFrame({"distance_m": [0.0, 8, 16, 24], "cadence_rpm": 88.0},
                         index=idx)
    messages = read_fitdecode(write_activity_fit(None, frame, sport="cycling",
                                                 sub_sport="road"))
    assert [r["cadence"] for r in only(messages, "record")] == [88, 88, 88, 88]
    assert "fractional_cadence" not in only(messages, "record")[0]
    assert only(messages, "session")[0]["avg_cadence"] == 88


def test_nan_writes_invalid_value_and_reads_as_none(run_frame):
    frame = run_frame.copy()
    frame.iloc[3, frame.columns.get_loc("heart_rate_bpm")] = np.nan
    records = only(read_fitdecode(write_activity_fit(None, frame)), "record")
    assert records[3]["heart_rate"] is None
    assert records[4]["heart_rate"] == frame["heart_rate_bpm"].iloc[4]


def test_input_frame_not_modified(run_frame):
    before = run_frame.copy()
    write_activity_fit(None, run_frame, running_dynamics=True,
                       session_totals={"total_distance": 1799.5})
    pd.testing.assert_frame_equal(run_frame, before)


def test_session_totals_override(run_frame):
    data = write_activity_fit(None, run_frame, session_totals={"total_distance": 1812.34})
    (session,) = only(read_fitdecode(data), "session")
    assert session["total_distance"] == pytest.approx(1812.34, abs=0.005)


def test_write_to_path(tmp_path, run_frame):
    path = tmp_path / "run.fit"
    data = write_activity_fit(path, run_frame)
    assert path.read_bytes() == data


# --- low-level writer ------------------------------------------------------------


def test_local_message_types_are_reused_past_sixteen():
    w = FitWriter()
    t0 = pd.Timestamp("2024-01-01 08:00", tz="UTC")
    w.file_id(type="activity", manufacturer="garmin")
    # 20 different record layouts: one field each, alternating field names
    names = ["heart_rate", "cadence", "distance", "power", "temperature"]
    for i in range(20):
        fields = {"timestamp": t0 + pd.Timedelta(seconds=i)}
        for name in names[: 1 + i % 5]:
            fields[name] = 10 + i
        if i >= 5:
            fields["grade"] = float(i)  # new layouts beyond the first five
            fields["speed"] = i / 10 if i >= 10 else None
            if i >= 15:
                fields["enhanced_speed"] = i / 10
        w.record(**fields)
    for reader in (read_fitdecode, read_fitparse):
        records = only(reader(w.to_bytes()), "record")
        assert [r["heart_rate"] for r in records] == [10 + i for i in range(20)]


def test_raw_int_times_pass_through():
    # old devices (FR70) write device-relative times below 0x10000000
    w = FitWriter().event(timestamp=1000, event="timer", event_type="start")
    (event,) = only(read_fitdecode(w.to_bytes()), "event")
    assert event["timestamp"] == 1000  # decoders leave relative times as ints


def test_fit_time_epoch():
    assert fit_time(FIT_EPOCH) == 0
    # 2024-01-01T00:00Z is 1704067200 unix seconds; FIT epoch is 631065600 unix
    assert fit_time(pd.Timestamp("2024-01-01", tz="UTC")) == 1704067200 - 631065600


def test_deg_to_semicircles():
    assert deg_to_semicircles(180.0) == 2**31
    np.testing.assert_allclose(deg_to_semicircles([90.0, -45.0]), [2**30, -(2**29)])


def test_string_field_round_trip():
    w = FitWriter().file_id(type="activity", manufacturer="development",
                            product_name="kneedata sample watch")
    (file_id,) = only(read_fitdecode(w.to_bytes()), "file_id")
    assert file_id["product_name"] == "kneedata sample watch"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda w: w.record(heart_rate=300), "heart_rate.*outside uint8"),
        (lambda w: w.record(speed_kmh=3.0), "no field 'speed_kmh'"),
        (lambda w: w.session(sport="parkour"), "not a known sport"),
        (lambda w: w.record(timestamp=pd.Timestamp("2024-01-01")), "no timezone"),
        (lambda w: w.message("hrv", time=1), "not supported"),
        (lambda w: w.to_bytes(header_size=13), "12 or 14"),
    ],
)
def test_bad_values_raise_schema_error(call, match):
    with pytest.raises(SchemaError, match=match):
        call(FitWriter())


def test_write_activity_fit_rejects_naive_index_and_empty():
    idx = pd.date_range("2024-01-01", periods=3, freq="1s", name="timestamp")
    with pytest.raises(SchemaError, match="tz-aware"):
        write_activity_fit(None, pd.DataFrame({"distance_m": [0.0, 1, 2]}, index=idx))
    with pytest.raises(SchemaError, match="empty"):
        write_activity_fit(None, _tiny_run().iloc[:0])


def test_records_out_of_range_names_column_and_row(run_frame):
    frame = run_frame.copy()
    frame.iloc[7, frame.columns.get_loc("heart_rate_bpm")] = 400
    with pytest.raises(SchemaError, match="'heart_rate' row 7 value 400"):
        write_activity_fit(None, frame)


# --- developer fields (e.g. Stryd's "Cadence", strides/min) ---------------------------


def _stryd_like() -> bytes:
    t0 = pd.Timestamp("2024-05-01 06:00", tz="UTC")
    w = FitWriter()
    w.file_id(type="activity", manufacturer="garmin", product=2691, time_created=t0)
    w.developer_data_id(developer_data_index=0, application_id=bytes(range(16)),
                        application_version=20)
    w.field_description(developer_data_index=0, field_definition_number=0,
                        fit_base_type_id=0x02, field_name="Cadence", units="RPM",
                        native_mesg_num=20, native_field_num=4)
    w.field_description(developer_data_index=0, field_definition_number=1,
                        fit_base_type_id=0x88, field_name="Leg Spring Stiffness",
                        units="KN/m")
    for i in range(3):
        w.record(timestamp=t0 + pd.Timedelta(seconds=i), heart_rate=140 + i,
                 developer={"Cadence": 84 + i, "Leg Spring Stiffness": 9.5 + i / 4})
    w.record(timestamp=t0 + pd.Timedelta(seconds=3), heart_rate=150)  # no dev fields
    return w.to_bytes()


@pytest.mark.parametrize("reader", [read_fitdecode, read_fitparse])
def test_developer_fields_round_trip(reader):
    records = only(reader(_stryd_like()), "record")
    assert [r["Cadence"] for r in records[:3]] == [84, 85, 86]
    # float32: 9.5, 9.75, 10.0 are exact in binary
    assert [r["Leg Spring Stiffness"] for r in records[:3]] == [9.5, 9.75, 10.0]
    assert [r["heart_rate"] for r in records] == [140, 141, 142, 150]
    assert "Cadence" not in records[3]


def test_developer_field_must_be_declared():
    with pytest.raises(SchemaError, match="developer field 'Power' was not declared"):
        FitWriter().record(timestamp=1000, developer={"Power": 250})
