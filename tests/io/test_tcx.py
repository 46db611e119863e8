"""TCX reader (kneedata.io.tcx): hand-built files for each rule, then every real TCX file.

Hand-built trackpoints move east along the equator from longitude 10 (one degree =
2*pi*R/360 = 111 194.93 m) and state DistanceMeters, so every expected value can be
worked out by hand.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.activity import sample_totals
from kneedata.io.geo import EARTH_RADIUS_M
from kneedata.io.read import file_hash, read_activities
from kneedata.io.tcx import read_tcx, timer_gaps
from kneedata.schema import LAPS

M_PER_DEG = 2 * math.pi * EARTH_RADIUS_M / 360
T0 = pd.Timestamp("2024-06-01 06:00:00", tz="UTC")
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">')


def _iso(t_s: float) -> str:
    return (T0 + pd.Timedelta(seconds=t_s)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _tp(t_s: float, x_m: float, *, distance: bool = True, hr: float | None = 150,
        run_cad: float | None = 85, core_cad: float | None = None, speed: float | None = None,
        position: bool = True) -> str:
    parts = [f"<Time>{_iso(t_s)}</Time>"]
    if position:
        parts.append(f"<Position><LatitudeDegrees>0.0</LatitudeDegrees>"
                     f"<LongitudeDegrees>{10 + x_m / M_PER_DEG:.12f}</LongitudeDegrees></Position>")
    parts.append("<AltitudeMeters>50.0</AltitudeMeters>")
    if distance:
        parts.append(f"<DistanceMeters>{x_m:.3f}</DistanceMeters>")
    if hr is not None:
        parts.append(f"<HeartRateBpm><Value>{hr:g}</Value></HeartRateBpm>")
    if core_cad is not None:
        parts.append(f"<Cadence>{core_cad:g}</Cadence>")
    ext = []
    if speed is not None:
        ext.append(f"<ns3:Speed>{speed:g}</ns3:Speed>")
    if run_cad is not None:
        ext.append(f"<ns3:RunCadence>{run_cad:g}</ns3:RunCadence>")
    if ext:
        parts.append(f"<Extensions><ns3:TPX>{''.join(ext)}</ns3:TPX></Extensions>")
    return f"<Trackpoint>{''.join(parts)}</Trackpoint>"


def _lap(tracks: list[list[str]], *, timer_s: float, distance_m: float, start_s: float = 0.0,
         avg_hr: float | None = 150, avg_run_cad: float | None = None, lap_cad: float | None = None,
         trigger: str = "Manual") -> str:
    parts = [f"<TotalTimeSeconds>{timer_s:g}</TotalTimeSeconds>",
             f"<DistanceMeters>{distance_m:g}</DistanceMeters>"]
    if avg_hr is not None:
        parts.append(f"<AverageHeartRateBpm><Value>{avg_hr:g}</Value></AverageHeartRateBpm>")
    parts.append("<Intensity>Active</Intensity>")
    if lap_cad is not None:
        parts.append(f"<Cadence>{lap_cad:g}</Cadence>")
    parts.append(f"<TriggerMethod>{trigger}</TriggerMethod>")
    parts += [f"<Track>{''.join(tr)}</Track>" for tr in tracks]
    if avg_run_cad is not None:
        parts.append(f"<Extensions><ns3:LX><ns3:AvgRunCadence>{avg_run_cad:g}</ns3:AvgRunCadence>"
                     "</ns3:LX></Extensions>")
    return f'<Lap StartTime="{_iso(start_s)}">{"".join(parts)}</Lap>'


def _activity(sport: str, laps: list[str], device: str = "Forerunner 945") -> str:
    return (f'<Activity Sport="{sport}"><Id>{_iso(0)}</Id>{"".join(laps)}'
            f"<Creator><Name>{device}</Name></Creator></Activity>")


def _tcx(*activities: str, head: str = HEAD, multisport: bool = False) -> bytes:
    body = "".join(activities)
    if multisport:
        first, *rest = activities
        body = (f"<MultiSportSession><Id>{_iso(0)}</Id><FirstSport>{first}</FirstSport>"
                + "".join(f"<NextSport>{a}</NextSport>" for a in rest) + "</MultiSportSession>")
    return f"{head}<Activities>{body}</Activities></TrainingCenterDatabase>".encode()


def _steady(t0: float, n: int, *, speed: float = 3.0, x0: float = 0.0, **kw) -> list[str]:
    """n trackpoints one second apart at constant speed [m/s]."""
    return [_tp(t0 + i, x0 + speed * i, **kw) for i in range(n)]


def _read(data: bytes, name: str = "hand.tcx"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return read_tcx(data, name, file_hash(data))


# --------------------------------------------------------------------------------
# timer gaps


def test_timer_gaps_docstring_example():
    t = np.array([0.0, 1, 2, 3, 4, 5, 65, 66, 67, 68, 69, 70])
    assert timer_gaps(t, 10.0) == [5]  # 70 s elapsed - 10 s timer = the 60 s gap


def test_timer_gaps_picks_the_gaps_that_add_up_to_the_missing_time():
    # 1 Hz with stops of 280, 268 and 118 s (as in 6860622783.tcx) and a 20 s gap the
    # timer ran through (lost signal): missing = 666 s -> the three stops only
    dt = np.ones(300)
    dt[[50, 100, 150, 200]] = [280, 268, 118, 20]
    t = np.concatenate([[0.0], np.cumsum(dt)])
    timer = t[-1] - 666
    assert timer_gaps(t, timer) == [50, 100, 150]


def test_timer_gaps_smart_recording_gaps_are_not_pauses():
    # samples every 1-10 s, timer equals the span: no pause
    t = np.cumsum(np.tile([1.0, 4, 7, 10], 20))
    assert timer_gaps(t, t[-1] - t[0]) == []
    assert timer_gaps(t, math.nan) == []
    assert timer_gaps(t[:1], 0.0) == []


# --------------------------------------------------------------------------------
# hand-built TCX files


def test_garmin_run_with_two_laps_watch_totals_win():
    lap1 = _lap([_steady(0, 11)], timer_s=10, distance_m=30, avg_run_cad=84, avg_hr=150)
    lap2 = _lap([_steady(11, 10, x0=33)], timer_s=11, distance_m=32, start_s=10, avg_run_cad=86, avg_hr=160)
    data = _tcx(_activity("Running", [lap1, lap2]))
    (act,) = _read(data)
    s, r = act.summary, act.records
    assert s["sport"] == "running" and s["source_format"] == "tcx"
    assert s["activity_id"] == f"{file_hash(data)}-0" and s["device"] == "Forerunner 945"
    assert s["cadence_unit_source"] == "strides_doubled"
    np.testing.assert_allclose(r["cadence_spm"], 170.0)  # RunCadence 85 strides doubled
    np.testing.assert_allclose(r["distance_m"], 3.0 * np.arange(21), atol=1e-9)  # DistanceMeters
    np.testing.assert_allclose(r["speed_m_s"], 3.0, atol=1e-9)  # derived: no TPX Speed
    # the laps' own totals win: 10 + 11 s, 30 + 32 m, cadence (84*10 + 86*11)/21 strides doubled
    assert s["timer_time_s"] == pytest.approx(21.0)
    assert s["distance_m"] == pytest.approx(62.0)
    assert s["avg_cadence_spm"] == pytest.approx(2 * (84 * 10 + 86 * 11) / 21)
    assert s["avg_heart_rate_bpm"] == pytest.approx((150 * 10 + 160 * 11) / 21)
    assert "distance_m=watch" in s["totals_detail"] and "avg_cadence_spm=watch" in s["totals_detail"]
    # ... while the sample-derived figures stay available from the records
    assert sample_totals(r)["avg_cadence_spm"] == pytest.approx(170.0)
    assert sample_totals(r)["distance_m"] == pytest.approx(60.0)
    laps = act.laps
    assert list(laps.columns) == list(LAPS) and len(laps) == 2
    np.testing.assert_allclose(laps["avg_cadence_spm"], [168.0, 172.0])
    np.testing.assert_allclose(laps["avg_speed_m_s"], [3.0, 32 / 11])
    assert list(laps["trigger"]) == ["manual", "manual"]
    assert laps["start_time_utc"].iloc[1] == T0 + pd.Timedelta(seconds=10)


def test_polar_leading_whitespace_and_running_cadence_in_cadence_element():
    pts = _steady(0, 11, run_cad=None, core_cad=88)
    data = _tcx(_activity("Running", [_lap([pts], timer_s=10, distance_m=30, lap_cad=88)]),
                head="          " + HEAD)
    (act,) = _read(data)
    np.testing.assert_allclose(act.records["cadence_spm"], 176.0)
    assert act.summary["cadence_unit_source"] == "strides_doubled"
    assert act.summary["avg_cadence_spm"] == pytest.approx(176.0)  # lap <Cadence> doubled


def test_run_cadence_already_in_steps():
    data = _tcx(_activity("Running", [_lap([_steady(0, 11, run_cad=172)], timer_s=10, distance_m=30,
                                            avg_run_cad=172)]))
    (act,) = _read(data)
    assert act.summary["cadence_unit_source"] == "steps_as_is"
    np.testing.assert_allclose(act.records["cadence_spm"], 172.0)
    assert act.summary["avg_cadence_spm"] == pytest.approx(172.0)  # not doubled either


def test_stop_inside_a_lap_becomes_a_pause():
    # 10 s running (t = 0..10), stopped until t = 70, 10 s running (t = 70..80); the
    # one lap's timer says 20 s
    pts = _steady(0, 11) + _steady(70, 11, x0=33)
    data = _tcx(_activity("Running", [_lap([pts], timer_s=20, distance_m=60)]))
    (act,) = _read(data)
    s = act.summary
    assert s["n_pauses"] == 1
    assert s["elapsed_time_s"] == pytest.approx(80.0)
    assert sample_totals(act.records)["timer_time_s"] == pytest.approx(20.0)  # 80 - 60
    # speed windows stop at the pause: 3 m/s on both sides, not 3 m / 60 s
    np.testing.assert_allclose(act.records["speed_m_s"], 3.0, atol=1e-9)


def test_multisport_session_gives_one_activity_per_sport():
    run = _activity("Running", [_lap([_steady(0, 11)], timer_s=10, distance_m=30)])
    ride_pts = [_tp(3600 + i, 8.0 * i, run_cad=None, core_cad=90) for i in range(11)]
    ride = _activity("Biking", [_lap([ride_pts], timer_s=10, distance_m=80, lap_cad=90, start_s=3600)])
    data = _tcx(run, ride, multisport=True)
    acts = _read(data)
    assert [a.summary["sport"] for a in acts] == ["running", "cycling"]
    assert [a.summary["activity_id"] for a in acts] == [f"{file_hash(data)}-0", f"{file_hash(data)}-1"]
    ride_act = acts[1]
    assert ride_act.summary["cadence_unit_source"] == "cycling_rpm"
    np.testing.assert_allclose(ride_act.records["cadence_rpm"], 90.0)  # crank rpm, never doubled
    assert ride_act.records["cadence_spm"].isna().all()
    assert ride_act.summary["avg_cadence_rpm"] == pytest.approx(90.0)
    assert math.isnan(ride_act.summary["avg_cadence_spm"])


def test_activity_without_trackpoints_is_skipped_among_others():
    empty = _activity("Running", [_lap([], timer_s=600, distance_m=2000)])
    run = _activity("Running", [_lap([_steady(0, 5)], timer_s=4, distance_m=12)])
    data = _tcx(empty, run)
    with pytest.warns(DataQualityWarning, match="two.tcx: <Activity> number 0 .* skipped"):
        acts = read_tcx(data, "two.tcx", file_hash(data))
    assert [a.summary["activity_id"][-2:] for a in acts] == ["-1"]


def test_laps_that_cover_only_part_of_the_samples_do_not_win():
    # movescount.tcx: the laps say 625 s / 2.0 km, the trackpoints run 907 s / 2.9 km
    pts = _steady(0, 301)
    data = _tcx(_activity("Running", [_lap([pts], timer_s=100, distance_m=300)]))
    with pytest.warns(DataQualityWarning, match=r"timer time \(100 s\) covers only part of the 300 s"):
        (act,) = read_tcx(data, "part.tcx", file_hash(data))
    assert act.summary["totals_source"] == "samples"
    assert act.summary["distance_m"] == pytest.approx(900.0)


def test_speed_in_the_wrong_unit_is_replaced():
    pts = [_tp(i, 3.0 * i, speed=3.0 * 3.6) for i in range(21)]  # km/h where m/s belongs
    data = _tcx(_activity("Running", [_lap([pts], timer_s=20, distance_m=60)]))
    with pytest.warns(DataQualityWarning, match="3.60 times the speed derived"):
        (act,) = read_tcx(data, "kmh.tcx", file_hash(data))
    np.testing.assert_allclose(act.records["speed_m_s"], 3.0, atol=1e-9)


def test_stated_speed_is_used_when_plausible():
    pts = [_tp(i, 3.0 * i, speed=3.1) for i in range(21)]  # the watch's speed, within 1.5x
    (act,) = _read(_tcx(_activity("Running", [_lap([pts], timer_s=20, distance_m=60)])))
    np.testing.assert_allclose(act.records["speed_m_s"], 3.1)


def test_treadmill_without_position_uses_distance_meters():
    pts = _steady(0, 11, position=False)
    (act,) = _read(_tcx(_activity("Running", [_lap([pts], timer_s=10, distance_m=30)])))
    assert act.records["latitude_deg"].isna().all()
    np.testing.assert_allclose(act.records["distance_m"], 3.0 * np.arange(11), atol=1e-9)


def test_no_distance_meters_falls_back_to_haversine():
    pts = _steady(0, 11, distance=False)  # Suunto: position only
    (act,) = _read(_tcx(_activity("Running", [_lap([pts], timer_s=10, distance_m=30)])))
    # 3 m steps; atol: longitude written with 12 decimals (~1e-7 m)
    np.testing.assert_allclose(act.records["distance_m"], 3.0 * np.arange(11), atol=1e-5)


def test_lap_start_contradicting_the_trackpoints_is_corrected():
    # Polar writes StartTime = previous start + timer time, ignoring a pause
    lap1 = _lap([_steady(0, 11) + _steady(100, 10, x0=33)], timer_s=20, distance_m=60)
    lap2 = _lap([_steady(110, 10, x0=63)], timer_s=10, distance_m=30, start_s=20)
    data = _tcx(_activity("Running", [lap1, lap2]))
    with pytest.warns(DataQualityWarning, match="1 lap start times contradicted"):
        (act,) = read_tcx(data, "polar.tcx", file_hash(data))
    assert act.laps["start_time_utc"].iloc[1] == T0 + pd.Timedelta(seconds=110)
    assert act.laps["elapsed_time_s"].iloc[0] == pytest.approx(110.0)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_tcx(_activity("Running", [_lap([], timer_s=60, distance_m=100)])), "none of the 1 <Activity>"),
        (f"{HEAD}<Activities/></TrainingCenterDatabase>".encode(), "holds no <Activity>"),
        (f"{HEAD}<Courses><Course><Name>x</Name></Course></Courses></TrainingCenterDatabase>".encode(),
         "1 courses/workouts"),
        (b'<?xml version="1.0"?><gpx/>', "not a TCX file"),
        (b"", "empty"),
        (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b"<TrainingCenterDatabase>&x;</TrainingCenterDatabase>", "never expands XML entities"),
    ],
    ids=["no_trackpoints", "no_activity", "course", "gpx_root", "empty", "external_entity"],
)
def test_files_without_an_activity_are_errors_naming_the_file(data, match):
    with pytest.raises(FileFormatError, match=f"bad.tcx: .*{match}"):
        read_tcx(data, "bad.tcx", file_hash(data))


def test_truncated_tcx_keeps_what_came_before():
    data = _tcx(_activity("Running", [_lap([_steady(0, 30)], timer_s=29, distance_m=87)]))
    cut = data[: len(data) // 2]
    with pytest.warns(DataQualityWarning, match="file damaged"):
        (act,) = read_tcx(cut, "cut.tcx", file_hash(cut))
    assert not act.summary["complete"]
    assert 5 < len(act.records) < 30


# --------------------------------------------------------------------------------
# real files (../shared/real_data/tcx; expected values from SOURCES.md)

# file: sport per <Activity>, distance km and total time (sum of laps, SOURCES.md),
#       cadence unit, median non-zero RunCadence/<Cadence> in the file (SOURCES.md)
REAL = {
    "6782987395.tcx": (["running"], 14.00, "1:23:09", "strides_doubled", 87.0),
    "6860622783.tcx": (["running"], 10.63, "0:51:37", "strides_doubled", 89.0),
    "6281425038.tcx": (["running"], 4.16, "0:25:45", "strides_doubled", 83.0),
    "unknown_example.tcx": (["running"], 5.73, "0:31:56", "strides_doubled", 86.0),
    "run_garmin.tcx": (["running"], 2.15, "0:13:36", "strides_doubled", 88.0),
    "run.tcx": (["running"], 4.82, "0:23:44", "none", None),
    "10kUNLP2014-Garmin15.tcx": (["running"], 10.01, "0:37:03", "none", None),
    "activity_165850259_multi-session.tcx": (["running", "cycling", "running", "cycling"], 17.06,
                                             "3:29:50", "none", None),
    "2020-02-05_17-25-14_Training-with-Notes.tcx": (["cycling"], 0.0, "1:54:22", "cycling_rpm", 76.0),
}


def _seconds(hms: str) -> float:
    h, m, s = (int(x) for x in hms.split(":"))
    return 3600 * h + 60 * m + s


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_tcx(real_data, name):
    sports, km, hms, unit, cad_median = REAL[name]
    path = real_data / "tcx" / name
    acts = _read(path.read_bytes(), str(path))
    assert [a.summary["sport"] for a in acts] == sports
    # the laps' totals are the watch's: SOURCES rounds distance to 10 m, time to 1 s
    total_km = sum(a.summary["distance_m"] for a in acts) / 1000
    assert total_km == pytest.approx(km, abs=0.005)
    total_s = sum(a.summary["timer_time_s"] for a in acts)
    assert total_s == pytest.approx(_seconds(hms), abs=1.0 * len(acts))
    for act in acts:
        s, r = act.summary, act.records
        assert s["complete"] and s["source_format"] == "tcx"
        assert r.index.is_monotonic_increasing and r.index.is_unique
        if s["sport"] == "cycling":
            assert r["cadence_spm"].isna().all()
    s, r = acts[0].summary, acts[0].records
    assert s["cadence_unit_source"] == unit
    if unit == "strides_doubled":
        spm = r["cadence_spm"].to_numpy()
        assert np.median(spm[spm > 0]) == pytest.approx(2 * cad_median, abs=2)  # +-1 stride
        moving = r["moving"].to_numpy()
        assert 150 <= np.median(spm[moving & (spm > 0)]) <= 200
        assert s["avg_cadence_spm"] == pytest.approx(sample_totals(r)["avg_cadence_spm"], abs=4)
    elif unit == "cycling_rpm":
        rpm = r["cadence_rpm"].to_numpy()
        assert np.median(rpm[rpm > 0]) == pytest.approx(cad_median, abs=1)  # never doubled


def test_real_movescount_laps_cover_only_part_of_the_track(real_data):
    # SOURCES.md: the laps say 0:10:25 and 2.00 km, but the trackpoints run on to
    # 17:10:50 and DistanceMeters 2919 m: the samples win, and a warning says why
    path = real_data / "tcx" / "movescount.tcx"
    data = path.read_bytes()
    with pytest.warns(DataQualityWarning, match="covers only part"):
        (act,) = read_tcx(data, str(path), file_hash(data))
    s = act.summary
    assert s["totals_source"] == "samples"
    assert s["distance_m"] == pytest.approx(2919.0 - 10.0)  # last minus first DistanceMeters
    assert s["cadence_unit_source"] == "strides_doubled"  # RunCadence median 88 strides


@pytest.mark.parametrize(
    ("name", "n_pauses", "tol_s"),
    [("6860622783.tcx", 3, 2.0), ("6281425038.tcx", 1, 2.0), ("6782987395.tcx", 0, 2.0),
     # smart recording (samples 1-11 s apart): the laps' timer is 7 s shorter than the
     # span, less than one recording gap, so no gap is taken for a pause
     ("run_garmin.tcx", 0, 10.0)],
)
def test_real_tcx_pauses(real_data, name, n_pauses, tol_s):
    path = real_data / "tcx" / name
    (act,) = _read(path.read_bytes(), str(path))
    assert act.summary["n_pauses"] == n_pauses
    # FIT 6860622783: timer 3097.8 s, elapsed 3763.5 s (fit_session_summaries.csv);
    # the pauses found explain the watch's timer time
    assert sample_totals(act.records)["timer_time_s"] == pytest.approx(act.summary["timer_time_s"], abs=tol_s)


@pytest.mark.parametrize("stem", ["6782987395", "6860622783", "10kUNLP2014-Garmin15"])
def test_real_tcx_agrees_with_the_fit_file_of_the_same_activity(real_data, stem):
    # issue 2: distance within 3 %, cadence averaged from the samples the same way
    # within 1.5 steps/min, start within 2 s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (fit,) = read_activities(real_data / "fit" / f"{stem}.fit")
        (tcx,) = read_activities(real_data / "tcx" / f"{stem}.tcx")
    assert tcx.summary["distance_m"] == pytest.approx(fit.summary["distance_m"], rel=0.03)
    assert tcx.summary["timer_time_s"] == pytest.approx(fit.summary["timer_time_s"], abs=2)
    assert abs(tcx.summary["start_time_utc"] - fit.summary["start_time_utc"]) <= pd.Timedelta(seconds=2)
    a = sample_totals(tcx.records)["avg_cadence_spm"]
    b = sample_totals(fit.records)["avg_cadence_spm"]
    assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1.5)


def test_real_run_gpx_and_tcx_agree(real_data):
    # SOURCES.md: run.gpx and run.tcx are the same TomTom run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        (gpx,) = read_activities(real_data / "gpx" / "run.gpx")
        (tcx,) = read_activities(real_data / "tcx" / "run.tcx")
    assert gpx.summary["distance_m"] == pytest.approx(tcx.summary["distance_m"], rel=0.03)
    assert abs(gpx.summary["start_time_utc"] - tcx.summary["start_time_utc"]) <= pd.Timedelta(seconds=2)
    assert gpx.summary["local_date"] == tcx.summary["local_date"]
