"""GPX reader (kneedata.io.gpx): hand-built tracks for each rule, then every real GPX file.

Hand-built tracks move east along the equator from longitude 10, where one degree of
longitude is 2*pi*R/360 = 111 194.93 m (R = 6 371 008.8 m), so distances and speeds
can be checked in one's head.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.activity import sample_totals
from kneedata.io.geo import EARTH_RADIUS_M, cumulative_distance_m, haversine_m
from kneedata.io.gpx import read_gpx
from kneedata.io.read import file_hash, read_activities, read_activities_bytes
from kneedata.io.track import decide_cadence_unit, derive_speed_m_s, map_sport
from kneedata.schema import RECORDS

M_PER_DEG = 2 * math.pi * EARTH_RADIUS_M / 360  # 111 194.93 m per degree on the equator
T0 = pd.Timestamp("2024-06-01 06:00:00", tz="UTC")
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="hand" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">')


def _point(i: int, *, t_s: float, x_m: float, cad: float | None = 85, hr: float | None = 150,
           ext: str | None = None) -> str:
    time_text = (T0 + pd.Timedelta(seconds=t_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if ext is None:
        parts = [f"<gpxtpx:hr>{hr:g}</gpxtpx:hr>" if hr is not None else "",
                 f"<gpxtpx:cad>{cad:g}</gpxtpx:cad>" if cad is not None else ""]
        ext = f"<gpxtpx:TrackPointExtension>{''.join(parts)}</gpxtpx:TrackPointExtension>"
    return (f'<trkpt lat="0.0" lon="{10 + x_m / M_PER_DEG:.12f}"><ele>{100 + i}</ele>'
            f"<time>{time_text}</time><extensions>{ext}</extensions></trkpt>")


def _gpx(segments: list[list[str]], *, sport: str | None = "running", head: str = HEAD,
         name: str = "Morning") -> bytes:
    type_el = f"<type>{sport}</type>" if sport is not None else ""
    segs = "".join(f"<trkseg>{''.join(pts)}</trkseg>" for pts in segments)
    return f"{head}<trk><name>{name}</name>{type_el}{segs}</trk></gpx>".encode()


def _steady(n: int = 11, *, speed: float = 3.0, t0: float = 0.0, x0: float = 0.0, **kw) -> list[str]:
    """n points one second apart at constant speed [m/s]."""
    return [_point(i, t_s=t0 + i, x_m=x0 + speed * i, **kw) for i in range(n)]


def _read(data: bytes, name: str = "hand.gpx"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return read_gpx(data, name, file_hash(data))


# --------------------------------------------------------------------------------
# track maths


def test_haversine_one_degree_on_the_equator():
    d = haversine_m(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(d, [M_PER_DEG], rtol=1e-12)  # 2*pi*R/360


def test_cumulative_distance_skips_the_jump_between_segments():
    lon = np.array([0, 10, 20, 1000, 1010]) / M_PER_DEG  # metres -> degrees
    lat = np.zeros(5)
    seg = np.array([0, 0, 0, 1, 1])
    # 10 + 10 in segment 0, the 980 m jump is not counted, 10 in segment 1
    np.testing.assert_allclose(cumulative_distance_m(lat, lon, seg), [0, 10, 20, 20, 30], atol=1e-6)


def test_cumulative_distance_holds_over_points_without_fix():
    lon = np.array([np.nan, 0, np.nan, 10]) / M_PER_DEG
    lat = np.array([np.nan, 0, np.nan, 0])
    np.testing.assert_allclose(cumulative_distance_m(lat, lon, np.zeros(4, int)), [0, 0, 0, 10], atol=1e-6)


def test_derived_speed_of_steady_motion_is_exact():
    t = np.arange(20.0)
    np.testing.assert_allclose(derive_speed_m_s(t, 3.0 * t, np.zeros(20, int)), 3.0)


def test_derived_speed_is_a_centred_ten_second_window():
    # 1 Hz, 2 m/s for 20 s then 4 m/s: at the change the +-5 s window averages both
    t = np.arange(41.0)
    d = np.where(t <= 20, 2 * t, 40 + 4 * (t - 20))
    v = derive_speed_m_s(t, d, np.zeros(41, int))
    assert v[5] == pytest.approx(2.0) and v[35] == pytest.approx(4.0)
    assert v[20] == pytest.approx((60 - 30) / 10)  # (D(25) - D(15)) / 10 s = 3 m/s


def test_derived_speed_never_spans_a_pause():
    # segment 0 at 3 m/s, segment 1 at 1 m/s; the window of the last point of
    # segment 0 must not reach into segment 1 (which starts 2 s later, 500 m away)
    t = np.array([0, 1, 2, 3, 5, 6, 7, 8.0])
    d = np.array([0, 3, 6, 9, 509, 510, 511, 512.0])
    seg = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(derive_speed_m_s(t, d, seg), [3, 3, 3, 3, 1, 1, 1, 1])


def test_derived_speed_with_sparse_samples_uses_the_neighbours():
    t = np.array([0, 10, 20, 30.0])  # smart recording: nothing within +-5 s
    d = np.array([0, 30, 60, 90.0])
    np.testing.assert_allclose(derive_speed_m_s(t, d, np.zeros(4, int)), 3.0)


def test_single_sample_segment_has_no_speed():
    v = derive_speed_m_s(np.array([0, 1, 100.0]), np.array([0, 3, 3.0]), np.array([0, 0, 1]))
    assert np.isnan(v[2]) and v[0] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("values", "sport", "unit", "first"),
    [
        ([85] * 10, "running", "strides_doubled", 170),     # Garmin gpxtpx:cad
        ([172] * 10, "running", "steps_as_is", 172),        # an app writing steps
        ([110] * 6 + [172] * 4, "running", "steps_as_is", 110),  # steps, walk breaks: p90 > 140
        ([55] * 6 + [86] * 4, "running", "strides_doubled", 110),  # strides, walk breaks
        ([56] * 10, "walking", "strides_doubled", 112),
        ([112] * 10, "walking", "steps_as_is", 112),        # walking steps > 85
        ([88] * 10, "cycling", "cycling_rpm", 88),
        ([88] * 10, "generic", "none", math.nan),           # unknown sport: no cadence kept
        ([math.nan] * 10, "running", "none", math.nan),
    ],
)
def test_cadence_unit(values, sport, unit, first):
    cad = np.array(values, dtype=float)
    spm, rpm, got = decide_cadence_unit(cad, np.full(len(cad), 3.0), sport)
    assert got == unit
    kept = rpm if sport == "cycling" else spm
    assert (math.isnan(first) and np.isnan(kept[0])) or kept[0] == first
    if sport == "cycling":
        assert np.isnan(spm).all()
    else:
        assert np.isnan(rpm).all()


def test_cadence_unit_ignores_standing_samples():
    # 170 (steps) while running at 3 m/s, 60 while standing (speed 0): the standing
    # samples would pull the median to 60 and wrongly say strides
    cad = np.array([60.0] * 12 + [170.0] * 8)
    speed = np.array([0.0] * 12 + [3.0] * 8)
    assert decide_cadence_unit(cad, speed, "running")[2] == "steps_as_is"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("running", ("running", "generic")), ("Running", ("running", "generic")),
     ("9", ("running", "generic")), ("1", ("cycling", "generic")), ("10", ("walking", "generic")),
     ("road_biking", ("cycling", "road")), ("Biking", ("cycling", "generic")),
     ("trail_running", ("running", "trail")), ("Other", ("generic", "generic")),
     ("Run", ("running", "generic")), ("tennis", ("tennis", "generic")),
     (" ", None), (None, None), ("kite-flying", None), ("99", None)],
)
def test_map_sport(raw, expected):
    assert map_sport(raw) == expected


# --------------------------------------------------------------------------------
# hand-built GPX files


def test_steady_run_every_column():
    data = _gpx([_steady(11)])
    (act,) = _read(data)
    r, s = act.records, act.summary
    assert list(r.columns[: len(RECORDS)]) == list(RECORDS)
    assert r.index.name == "timestamp" and str(r.index.tz) == "UTC"
    assert r.index[0] == T0 and len(r) == 11
    # 3 m per 1 s step; atol: longitude written with 12 decimals (~1e-7 m)
    np.testing.assert_allclose(r["distance_m"], 3.0 * np.arange(11), atol=1e-5)
    np.testing.assert_allclose(r["speed_m_s"], 3.0, atol=1e-5)
    np.testing.assert_allclose(r["cadence_spm"], 170.0)  # 85 strides/min doubled
    assert r["cadence_rpm"].isna().all()
    np.testing.assert_allclose(r["heart_rate_bpm"], 150.0)
    np.testing.assert_allclose(r["altitude_m"], 100.0 + np.arange(11))
    assert s["sport"] == "running" and s["sub_sport"] == "generic"
    assert s["source_format"] == "gpx" and s["cadence_unit_source"] == "strides_doubled"
    assert s["activity_id"] == f"{file_hash(data)}-0"
    assert s["distance_m"] == pytest.approx(30.0, abs=1e-5)
    assert s["timer_time_s"] == pytest.approx(10.0) and s["elapsed_time_s"] == pytest.approx(10.0)
    assert s["avg_cadence_spm"] == pytest.approx(170.0)
    assert s["totals_source"] == "samples" and s["device"] == "hand"
    assert s["complete"] is True or s["complete"] == True  # noqa: E712 - numpy bool allowed
    assert act.warnings == []


def test_bom_and_whitespace_before_declaration():
    data = b"\xef\xbb\xbf\r\n   " + _gpx([_steady(5)])
    (act,) = _read(data)
    assert len(act.records) == 5 and act.summary["complete"]


def test_undeclared_prefix_and_duplicated_cadence():
    # 6037744996.gpx: <gpxdata:cadence> (prefix never declared) and a bare <cadence>
    # repeat the same value; it must be read once (not summed), as strides
    pts = [_point(i, t_s=i, x_m=3.0 * i, ext="<gpxdata:cadence>84</gpxdata:cadence><cadence>84</cadence>")
           for i in range(6)]
    (act,) = _read(_gpx([pts], sport="9"))
    np.testing.assert_allclose(act.records["cadence_spm"], 168.0)
    assert act.records["heart_rate_bpm"].isna().all()


def test_cadence_already_in_steps_is_kept():
    (act,) = _read(_gpx([_steady(11, cad=176)]))
    np.testing.assert_allclose(act.records["cadence_spm"], 176.0)
    assert act.summary["cadence_unit_source"] == "steps_as_is"


def test_amazfit_style_heartrate_extension():
    pts = [_point(i, t_s=i, x_m=3.0 * i, ext=f"<heartrate>{140 + i}</heartrate>") for i in range(4)]
    (act,) = _read(_gpx([pts], sport="Running"))
    np.testing.assert_allclose(act.records["heart_rate_bpm"], [140, 141, 142, 143])
    assert act.summary["cadence_unit_source"] == "none"


def test_two_segments_are_one_pause():
    # 10 s running, stop for 50 s (and walk 200 m off), 10 s running
    data = _gpx([_steady(11), _steady(11, t0=60, x0=230)])
    (act,) = _read(data)
    s = act.summary
    assert s["n_pauses"] == 1
    assert s["elapsed_time_s"] == pytest.approx(70.0)
    assert s["timer_time_s"] == pytest.approx(20.0)  # 70 s minus the 50 s pause
    assert s["distance_m"] == pytest.approx(60.0, abs=1e-5)  # 30 + 30, the 200 m jump not counted
    np.testing.assert_allclose(act.records["speed_m_s"], 3.0, atol=1e-5)
    # the sample-derived cadence skips the pause: every running second is 170
    assert sample_totals(act.records)["avg_cadence_spm"] == pytest.approx(170.0)


def test_empty_segment_is_not_a_pause():
    # run.gpx ends with an empty <trkseg/>
    (act,) = _read(_gpx([_steady(6), []]))
    assert act.summary["n_pauses"] == 0


def test_strava_ride_cadence_is_rpm():
    (act,) = _read(_gpx([_steady(11, speed=8.0, cad=90)], sport="1"))
    s = act.summary
    assert s["sport"] == "cycling" and s["cadence_unit_source"] == "cycling_rpm"
    np.testing.assert_allclose(act.records["cadence_rpm"], 90.0)  # never doubled
    assert act.records["cadence_spm"].isna().all() and math.isnan(s["avg_cadence_spm"])


def test_sport_guessed_from_track_name_with_a_warning():
    data = _gpx([_steady(4)], sport=None, name="Running")
    with pytest.warns(DataQualityWarning, match="guessed from the track name"):
        (act,) = read_gpx(data, "tomtom.gpx", file_hash(data))
    assert act.summary["sport"] == "running"


def test_unknown_sport_is_generic_and_keeps_no_cadence():
    data = _gpx([_steady(4)], sport="kite-flying")
    with pytest.warns(DataQualityWarning, match="'kite-flying' not recognised"):
        (act,) = read_gpx(data, "kite.gpx", file_hash(data))
    assert act.summary["sport"] == "generic" and act.summary["cadence_unit_source"] == "none"


def test_null_island_points_are_no_fix():
    # some devices write lat=0 lon=0 before the first fix: not a 1000 km jump
    pts = _steady(5)
    pts[0] = re.sub(r'lon="[\d.]+"', 'lon="0"', pts[0])
    data = _gpx([pts])
    with pytest.warns(DataQualityWarning, match="1 track points at latitude 0, longitude 0"):
        (act,) = read_gpx(data, "null.gpx", file_hash(data))
    assert np.isnan(act.records["latitude_deg"].iloc[0])
    assert act.summary["distance_m"] == pytest.approx(9.0, abs=1e-5)  # points 1..4, 3 m apart


def test_points_out_of_order_duplicates_and_null_values():
    pts = _steady(6)
    pts = [pts[0], pts[2], pts[1], pts[3], pts[3], pts[4].replace("<ele>104</ele>", "<ele>null</ele>"), pts[5]]
    data = _gpx([pts])
    with pytest.warns(DataQualityWarning) as rec:
        (act,) = read_gpx(data, "messy.gpx", file_hash(data))
    text = str(rec[0].message)
    assert "1 track points were out of time order" in text
    assert "1 track points repeated the time" in text
    assert "1 track point values were not numbers" in text
    assert act.records.index.is_monotonic_increasing and act.records.index.is_unique
    assert len(act.records) == 6 and np.isnan(act.records["altitude_m"].iloc[4])


def test_times_with_offsets_are_converted_and_zoneless_times_taken_as_utc():
    def doc(times: list[str]) -> bytes:
        pts = "".join(f'<trkpt lat="0" lon="{10 + 3 * i / M_PER_DEG:.12f}"><time>{t}</time></trkpt>'
                      for i, t in enumerate(times))
        return f"{HEAD}<trk><type>running</type><trkseg>{pts}</trkseg></trk></gpx>".encode()

    (act,) = _read(doc(["2024-06-01T08:00:00+02:00", "2024-06-01T08:00:01.500+02:00"]))
    assert list(act.records.index) == [T0, T0 + pd.Timedelta(seconds=1.5)]  # 06:00 UTC
    data = doc(["2024-06-01T06:00:00", "2024-06-01T06:00:01"])
    with pytest.warns(DataQualityWarning, match="carry no time zone; taken as UTC"):
        (act,) = read_gpx(data, "naive.gpx", file_hash(data))
    assert act.records.index[0] == T0


def test_multiple_tracks_of_different_sports_are_separate_activities():
    run = f"<trk><type>running</type><trkseg>{''.join(_steady(5))}</trkseg></trk>"
    ride = f"<trk><type>cycling</type><trkseg>{''.join(_steady(5, t0=3600, speed=8))}</trkseg></trk>"
    data = f"{HEAD}{run}{ride}</gpx>".encode()
    acts = _read(data)
    assert [a.summary["sport"] for a in acts] == ["running", "cycling"]
    assert [a.summary["activity_id"][-2:] for a in acts] == ["-0", "-1"]


def test_truncated_file_keeps_the_points_before_the_damage():
    data = _gpx([_steady(11)])
    cut = data[: data.index(b"<trkpt", data.index(b"<trkpt") + 2000)] + b"<trkpt lat=\"0"
    with pytest.warns(DataQualityWarning, match="file damaged"):
        (act,) = read_gpx(cut, "cut.gpx", file_hash(cut))
    assert not act.summary["complete"]
    n_complete = cut.count(b"</trkpt>")
    assert 0 < n_complete < 11 and len(act.records) == n_complete


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<trk><name>x</name><trkseg/></trk>", "holds no track points"),
        ('<rte><rtept lat="1" lon="2"/></rte><wpt lat="1" lon="2"/>', "1 routes, 1 waypoints"),
        ('<trk><trkseg><trkpt lat="1" lon="2"><ele>3</ele></trkpt></trkseg></trk>', "none has a readable <time>"),
    ],
    ids=["empty_segment", "route_only", "no_times"],
)
def test_no_track_points_is_an_error_naming_the_file(body, match):
    data = f"{HEAD}{body}</gpx>".encode()
    with pytest.raises(FileFormatError, match=f"route.gpx: .*{match}"):
        read_gpx(data, "route.gpx", file_hash(data))


def test_not_gpx_and_entity_attack_are_errors():
    kml = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'
    with pytest.raises(FileFormatError, match="a.kml: not a GPX file .*<kml>"):
        read_gpx(kml, "a.kml", file_hash(kml))
    attack = (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              + _gpx([_steady(3)]).split(b"?>", 1)[1].replace(b"Morning", b"&b;"))
    with pytest.raises(FileFormatError, match="evil.gpx: .*never expands XML entities"):
        read_gpx(attack, "evil.gpx", file_hash(attack))
    with pytest.raises(FileFormatError, match="empty.gpx: .*empty"):
        read_gpx(b"", "empty.gpx", file_hash(b""))


def test_input_bytes_read_through_read_activities(tmp_path):
    path = tmp_path / "run.gpx"
    path.write_bytes(_gpx([_steady(5)]))
    (act,) = read_activities(path)
    assert act.summary["source_format"] == "gpx" and act.summary["source_file"] == str(path)


# --------------------------------------------------------------------------------
# real files (../shared/real_data/gpx; expected values from SOURCES.md)

# file: sport, sub_sport, gpxpy 2D km (SOURCES.md), cadence unit,
#       median non-zero cad in the file (SOURCES.md) -> steps/min expected
REAL = {
    "6782987395.gpx": ("running", "generic", 14.17, "strides_doubled", 87.0),
    "2067489619.gpx": ("running", "generic", 4.40, "strides_doubled", 61.0),
    "1681613317.gpx": ("running", "generic", 4.59, "strides_doubled", 80.0),
    "3939576645.gpx": ("cycling", "road", 41.83, "cycling_rpm", 68.0),
    "amazfit.gpx": ("running", "generic", 8.73, "none", None),
    "strava_export.gpx": ("running", "generic", 12.61, "strides_doubled", 87.0),
    "run.gpx": ("running", "generic", 4.81, "none", None),
    "6037744996.gpx": ("running", "generic", None, "strides_doubled", None),
}


def _regex_distance_km(path: Path) -> float:
    """Reference: haversine over lat/lon pulled out with a regex (no XML parser)."""
    text = path.read_text(encoding="utf-8-sig")
    pairs = re.findall(r'<trkpt lat="([-\d.]+)" lon="([-\d.]+)"', text)
    lat, lon = np.array(pairs, dtype=float).T
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum() / 1000)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_gpx(real_data, name):
    sport, sub_sport, km, unit, cad_median = REAL[name]
    path = real_data / "gpx" / name
    data = path.read_bytes()
    acts = _read(data, str(path))
    assert len(acts) == 1
    s, r = acts[0].summary, acts[0].records
    assert (s["sport"], s["sub_sport"], s["cadence_unit_source"]) == (sport, sub_sport, unit)
    assert s["complete"] and s["source_format"] == "gpx"
    if km is None:  # gpxpy cannot read 6037744996.gpx: compare with a regex + haversine
        km = _regex_distance_km(path)
        rtol = 1e-6
    else:
        rtol = 0.005  # SOURCES rounds to 10 m; gpxpy's flat-earth steps vs haversine (<0.2 %)
    assert s["distance_m"] / 1000 == pytest.approx(km, rel=rtol)
    moving = r["moving"].to_numpy()
    if unit == "strides_doubled":
        spm = r["cadence_spm"].to_numpy()
        nonzero = spm[spm > 0]
        if cad_median is not None:  # the file's own median, doubled; +-2: one stride
            assert np.median(nonzero) == pytest.approx(2 * cad_median, abs=2)
        if name != "2067489619.gpx":  # a walk-run (watch: 117 steps/min), not a run
            assert 150 <= np.median(spm[moving & (spm > 0)]) <= 200
        assert r["cadence_rpm"].isna().all()
    elif unit == "cycling_rpm":
        rpm = r["cadence_rpm"].to_numpy()
        assert np.median(rpm[rpm > 0]) == pytest.approx(cad_median, abs=1)  # never doubled
        assert r["cadence_spm"].isna().all()
    assert s["start_time_utc"] == r.index[0]
    assert s["timezone"] not in (None, "UTC")  # every real GPX has fixes


def test_6037744996_reads_although_gpxpy_refuses_it(real_data):
    import gpxpy
    import gpxpy.gpx

    path = real_data / "gpx" / "6037744996.gpx"
    with pytest.raises(gpxpy.gpx.GPXXMLSyntaxException):  # SOURCES.md: "gpxpy FAILS"
        gpxpy.parse(path.read_text(encoding="utf-8-sig"))
    (act,) = _read(path.read_bytes(), str(path))
    assert len(act.records) == 4040  # TP00001 ... TP04040
    assert act.records["temperature_c"].notna().sum() == 4039  # one <gpxx:Temperature>null


@pytest.mark.parametrize(("name", "same_timer"),
                         [("6782987395.gpx", True), ("2067489619.gpx", True), ("3939576645.gpx", False)])
def test_real_gpx_agrees_with_the_fit_file_of_the_same_activity(real_data, name, same_timer):
    # issue 2: same run in several formats: distance within 3 % (GPS track vs watch),
    # cadence averaged from the samples the same way within 1.5 steps/min, start within 2 s.
    # The ride 3939576645 was paused 212 s (FIT timer events) but its GPX has one
    # segment, so its GPX cadence average includes the stops: only distance and start.
    stem = name.removesuffix(".gpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (fit,) = read_activities(real_data / "fit" / f"{stem}.fit")
        (gpx,) = read_activities(real_data / "gpx" / name)
    assert gpx.summary["distance_m"] == pytest.approx(fit.summary["distance_m"], rel=0.03)
    assert abs(gpx.summary["start_time_utc"] - fit.summary["start_time_utc"]) <= pd.Timedelta(seconds=2)
    if same_timer:
        a = sample_totals(gpx.records)["avg_cadence_spm"]
        b = sample_totals(fit.records)["avg_cadence_spm"]
        assert a == pytest.approx(b, abs=1.5)
    assert gpx.summary["local_date"] == fit.summary["local_date"]


# --------------------------------------------------------------------------------
# the gpxpy engine: the same activities as the default reader


def _same_activities(data: bytes, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        default = read_gpx(data, name, file_hash(data))
        other = read_gpx(data, name, file_hash(data), engine="gpxpy")
    assert len(default) == len(other)
    for a, b in zip(default, other, strict=True):
        pd.testing.assert_frame_equal(a.records, b.records)
        pd.testing.assert_series_equal(a.summary, b.summary)


def test_gpxpy_engine_reads_hand_made_tracks_as_the_default_reader():
    two = _gpx([_steady(11), _steady(11, t0=60, x0=100, cad=None, hr=140)])
    _same_activities(two, "hand.gpx")
    (act,) = read_activities_bytes(two, "hand.gpx", engine="gpxpy")
    assert act.summary["distance_m"] == pytest.approx(60.0, abs=1e-6)  # 2 x 30 m, no jump


def test_gpxpy_engine_refuses_entities_and_unknown_engines():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]>'
            + _gpx([_steady(3)])[len(b'<?xml version="1.0" encoding="UTF-8"?>\n'):])
    with pytest.raises(FileFormatError, match="entities"):
        read_gpx(bomb, "bomb.gpx", "x", engine="gpxpy")
    with pytest.raises(ValueError, match="unknown GPX engine"):
        read_gpx(_gpx([_steady(3)]), "hand.gpx", "x", engine="lxml")


@pytest.mark.parametrize("name", sorted(n for n, v in REAL.items() if v[2] is not None))
def test_gpxpy_engine_reads_every_real_file_gpxpy_can_as_the_default_reader(real_data, name):
    path = real_data / "gpx" / name
    _same_activities(path.read_bytes(), str(path))
