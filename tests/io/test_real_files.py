"""The readers on real watch files (../shared/real_data, via the ``real_data`` fixture).

Ground truth: the watch's own session totals in ``fit_session_summaries.csv``
(decoded by fitparse/fitdecode, independent of kneedata), the same run exported in
several formats, and the other FIT engines.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, FileFormatError
from kneedata.io.activity import Activity, is_foot_sport, sample_totals
from kneedata.io.read import read_activities

pytestmark = pytest.mark.real_data


@cache
def _read(path: str, engine: str | None = None) -> tuple[Activity, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple(read_activities(path, engine=engine))


def _summaries(real_data: Path) -> pd.DataFrame:
    return pd.read_csv(real_data / "fit_session_summaries.csv")


def _fit_files(real_data: Path) -> list[Path]:
    return sorted(p for p in (real_data / "fit").iterdir() if p.is_file())


# --- watch totals -----------------------------------------------------------------


def _watch_cadence_spm(row: pd.Series) -> float:
    whole = row["avg_running_cadence"]
    if pd.isna(whole):
        whole = row["avg_cadence"]
    if pd.isna(whole):
        return math.nan
    frac = 0.0 if pd.isna(row["avg_fractional_cadence"]) else float(row["avg_fractional_cadence"])
    return 2.0 * (float(whole) + frac)


def test_every_foot_session_matches_the_watch_totals(real_data):
    table = _summaries(real_data)
    foot = table[table["sport"].map(is_foot_sport)]
    assert len(foot) >= 30  # the csv lists 34 running/walking sessions
    failures = []
    for _, row in foot.iterrows():
        acts = _read(str(real_data / "fit" / row["file"]))
        same_sport = [a for a in acts if a.summary["sport"] == row["sport"]]
        start = pd.Timestamp(row["start_time"]) if not str(row["start_time"]).isdigit() else None
        if start is not None:
            start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
            match = [a for a in same_sport if abs(a.summary["start_time_utc"] - start) <= pd.Timedelta(seconds=1)]
        else:  # device-relative start (FR70): the only session of its sport
            match = same_sport
        if len(match) != 1:
            failures.append(f"{row['file']} #{row['session_index']}: {len(match)} matching activities")
            continue
        s = match[0].summary
        # distance within 0.5 % or 10 m (issue 2: GPS/watch rounding)
        if not pd.isna(row["total_distance_m"]):
            tol = max(0.005 * row["total_distance_m"], 10.0)
            if not abs(s["distance_m"] - row["total_distance_m"]) <= tol:
                failures.append(f"{row['file']}: distance {s['distance_m']} vs {row['total_distance_m']}")
        # timer time within 2 s
        if not abs(s["timer_time_s"] - row["total_timer_time_s"]) <= 2.0:
            failures.append(f"{row['file']}: timer {s['timer_time_s']} vs {row['total_timer_time_s']}")
        # average cadence within 1 step/min, doubled from the watch's strides/min
        watch_spm = _watch_cadence_spm(row)
        if not math.isnan(watch_spm) and not abs(s["avg_cadence_spm"] - watch_spm) <= 1.0:
            failures.append(f"{row['file']}: cadence {s['avg_cadence_spm']} vs {watch_spm}")
    assert not failures, "\n".join(failures)


def test_sample_cadence_reproduces_the_watch_on_garmin_files(real_data):
    # docs/design.md section 3: Garmin's avg_running_cadence is the timer-time mean of record
    # cadence, zeros included. Checked on Garmin runs with 1 s or smart recording.
    # (2067489619 is excluded: wrist cadence on a vivoactive, off by 3 spm.)
    files = ["2019-09-07-11-22-19.fit", "3386684871.fit", "4077461142.fit", "6782987395.fit",
             "6860622783.fit", "Fr955v19.28andStryd.fit", "run.fit",
             "triathlon_summary_last.fit"]
    for name in files:
        acts = _read(str(real_data / "fit" / name))
        (run,) = [a for a in acts if a.summary["sport"] == "running"]
        from_samples = sample_totals(run.records)["avg_cadence_spm"]
        # 1 step/min: the watch stores strides/min to 1/128, we average doubled samples
        assert from_samples == pytest.approx(run.summary["avg_cadence_spm"], abs=1.0), name


# --- the same run in several formats ------------------------------------------------

SAME_RUN = {
    "6782987395": ["fit/6782987395.fit", "gpx/6782987395.gpx", "tcx/6782987395.tcx"],
    "6860622783": ["fit/6860622783.fit", "tcx/6860622783.tcx"],
    "2067489619": ["fit/2067489619.fit", "gpx/2067489619.gpx"],
    "10kUNLP2014-Garmin15": ["fit/10kUNLP2014-Garmin15.fit", "tcx/10kUNLP2014-Garmin15.tcx"],
    "run": ["gpx/run.gpx", "tcx/run.tcx"],
}


@pytest.mark.parametrize("run_id", sorted(SAME_RUN))
def test_same_run_agrees_across_formats(real_data, run_id):
    pytest.importorskip("kneedata.io.gpx")
    pytest.importorskip("kneedata.io.tcx")
    acts = [_read(str(real_data / rel))[0] for rel in SAME_RUN[run_id]]
    ref = acts[0]
    ref_cad = sample_totals(ref.records)["avg_cadence_spm"]
    for other, rel in zip(acts[1:], SAME_RUN[run_id][1:], strict=True):
        s, r = other.summary, ref.summary
        assert s["sport"] == r["sport"] == "running", rel
        # same start within 2 s
        assert abs(s["start_time_utc"] - r["start_time_utc"]) <= pd.Timedelta(seconds=2), rel
        assert s["local_date"] == r["local_date"], rel
        # distance within 3 % (a GPS track vs the watch's wheel/foot-pod distance)
        assert s["distance_m"] == pytest.approx(r["distance_m"], rel=0.03), rel
        # cadence averaged from the samples the same way within 1.5 steps/min
        cad = sample_totals(other.records)["avg_cadence_spm"]
        if math.isnan(ref_cad):
            assert math.isnan(cad), rel
        else:
            assert cad == pytest.approx(ref_cad, abs=1.5), rel


# --- engines -------------------------------------------------------------------------


def _comparable(act: Activity) -> pd.Series:
    return act.summary.drop(["device", "decoder"])


@pytest.mark.slow
@pytest.mark.parametrize("part", range(4))
def test_engines_agree_and_the_default_reads_the_most(real_data, part):
    # One pass over every FIT file with each engine (fitparse is slow: ~25 s CPU).
    # 1. Where fitparse and fitdecode both read a file completely, every table
    #    agrees exactly (the reader's conversions are engine-independent).
    # 2. The default engine (fitfast, falling back to fitdecode) decodes at least
    #    as many records as any other engine on every file (issue 2, item 4).
    others = ["fitparse"]
    try:
        import garmin_fit_sdk  # noqa: F401
    except ImportError:
        pass
    else:
        others.append("garmin_fit_sdk")

    def read(path: Path, engine: str | None) -> tuple[Activity, ...]:
        try:
            return _read(str(path), engine)
        except FileFormatError:
            return ()

    compared = 0
    for path in _fit_files(real_data)[part::4]:  # 4 parts so pytest -n spreads them
        a = read(path, None)
        for engine in others:
            b = read(path, engine)
            n_a = sum(len(x.records) for x in a)
            n_b = sum(len(x.records) for x in b)
            assert n_a >= n_b, f"{path.name}: default engine {n_a} < {engine} {n_b} records"
            complete = a and b and all(x.summary["complete"] for x in a + b)
            if engine != "fitparse" or not complete:
                continue
            compared += 1
            assert len(a) == len(b), path.name
            for x, y in zip(a, b, strict=True):
                pd.testing.assert_frame_equal(x.records, y.records, obj=path.name)
                pd.testing.assert_frame_equal(x.laps, y.laps, obj=path.name)
                pd.testing.assert_series_equal(_comparable(x), _comparable(y), obj=path.name)
    # 31 of the 38 FIT files are read completely by both: 7-8 per part
    assert compared >= 6


# --- damaged, empty and odd files ----------------------------------------------------

DAMAGED = {
    # file: (records decoded before the damage, what the note says)
    "activity-unexpected-eof.fit": (14, "FitEOFError"),
    "activity-filecrc.fit": (14, "CRC"),
    "activity-settings-corruptheader.fit": (14, "not a FIT file"),
    "strava-android-app-201.10-b1218918.fit": (235, "not defined"),
    "nick.fit": (14383, "FitEOFError"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_files_salvaged(real_data, name):
    n_records, note = DAMAGED[name]
    with pytest.warns(DataQualityWarning, match=note):
        (act,) = read_activities(real_data / "fit" / name)
    assert act.summary["complete"] is False
    assert any(note in m for m in act.warnings)
    # record counts after merging samples that share a timestamp (SOURCES.md lists
    # raw message counts: 14, 473 = 2 per second for Strava, 14391 for nick.fit)
    assert len(act.records) == n_records


def test_damaged_strava_file_keeps_the_session_totals(real_data):
    (act,) = _read(str(real_data / "fit" / "strava-android-app-201.10-b1218918.fit"))
    # the session message was written before the damage: 11.27 km / 3558 s
    assert act.summary["distance_m"] == pytest.approx(11274.04)
    assert act.summary["timer_time_s"] == pytest.approx(3558.0)
    assert act.records.index.max() < pd.Timestamp("2022-01-01", tz="UTC")  # 2085 sample dropped


def test_file_without_session_built_from_records(real_data):
    (act,) = _read(str(real_data / "fit" / "nick.fit"))
    assert act.summary["sport"] == "cycling"  # from the 'sport' message
    assert act.summary["totals_source"] == "samples"
    assert act.summary["distance_m"] > 100_000


@pytest.mark.parametrize(("name", "reason"), [("empty-activities.fit", "0 bytes of data"),
                                                ("empty-sessions.fit", "0 bytes")])
def test_empty_files_are_errors(real_data, name, reason):
    with pytest.raises(FileFormatError, match=reason) as err:
        read_activities(real_data / "fit" / name)
    assert name in str(err.value)


@pytest.mark.parametrize("name", ["compressed-speed-distance.fit", "antfs-dump.63.fit"])
def test_device_relative_timestamps_anchored(real_data, name):
    with pytest.warns(DataQualityWarning, match="device-relative"):
        (act,) = read_activities(real_data / "fit" / name)
    # anchored to activity.local_timestamp (2012-02-13 local clock of the FR70)
    assert act.summary["local_date"] == dt.date(2012, 2, 13)
    assert act.records.index.min().year == 2012


def test_compressed_speed_distance_decoded(real_data):
    (act,) = _read(str(real_data / "fit" / "compressed-speed-distance.fit"))
    # distance accumulated from the compressed field reaches the watch total
    assert act.records["distance_m"].max() == pytest.approx(10248.67, abs=10.0)
    assert act.summary["n_pauses"] == 1  # stop_all .. start in the middle


@pytest.mark.parametrize(
    "name",
    ["garmin-edge-820-bike.fit", "3939576645.fit", "14582164182.fit.gz",
     "elemnt-bolt-no-application-id-inside-developer-data-id.fit"],
)
def test_cycling_cadence_is_rpm_not_steps(real_data, name):
    (act,) = _read(str(real_data / "fit" / name))
    assert act.summary["sport"] == "cycling"
    assert act.records["cadence_spm"].isna().all()
    assert math.isnan(act.summary["avg_cadence_spm"])
    assert act.records["cadence_rpm"].notna().any()
    assert act.summary["cadence_unit_source"] == "cycling_rpm"


def test_edge_820_cadence_not_doubled(real_data):
    (act,) = _read(str(real_data / "fit" / "garmin-edge-820-bike.fit"))
    # csv: avg_cadence 68 + avg_fractional_cadence 0.3203 rpm, not doubled
    assert act.summary["avg_cadence_rpm"] == pytest.approx(68.3203, abs=0.01)


def test_walking_cadence_doubled(real_data):
    (act,) = _read(str(real_data / "fit" / "garmin-fenix-5-walk.fit"))
    # csv: avg_cadence 61 + 0.2266 strides/min -> 122.45 steps/min
    assert act.summary["avg_cadence_spm"] == pytest.approx(122.45, abs=0.01)
    assert act.records["cadence_spm"].between(0, 200).all()


MULTISPORT = {
    "activity-large-fenxi2-multisport.fit": ["generic", "transition", "running", "transition",
                                             "running", "transition", "cycling"],
    "sample_mulitple_header.fit": ["swimming", "transition", "cycling", "transition", "running"],
    "triathlon_summary_first.fit": ["swimming", "transition", "cycling", "transition", "running"],
    "triathlon_summary_last.fit": ["swimming", "transition", "cycling", "transition", "running"],
}


@pytest.mark.parametrize("name", sorted(MULTISPORT))
def test_multisport_one_activity_per_leg(real_data, name):
    acts = _read(str(real_data / "fit" / name))
    assert [a.summary["sport"] for a in acts] == MULTISPORT[name]
    starts = [a.summary["start_time_utc"] for a in acts]
    assert starts == sorted(starts)
    for a, b in zip(acts[:-1], acts[1:], strict=True):
        if len(a.records) and len(b.records):
            assert a.records.index.max() < b.records.index.min()
    ids = [a.summary["activity_id"] for a in acts]
    assert len(set(ids)) == len(ids)
    for a in acts:
        if a.summary["sport"] == "cycling":
            assert a.records["cadence_spm"].isna().all()
        if a.summary["sport"] == "running" and a.records["cadence_spm"].notna().any():
            # doubled to steps/min: a running leg reaches running step rates
            # (undoubled strides/min stay below ~110)
            assert np.nanmax(a.records["cadence_spm"]) > 150


def test_summary_first_and_last_give_the_same_legs(real_data):
    first = _read(str(real_data / "fit" / "triathlon_summary_first.fit"))
    last = _read(str(real_data / "fit" / "triathlon_summary_last.fit"))
    for a, b in zip(first, last, strict=True):
        pd.testing.assert_frame_equal(a.records, b.records)
        keep = a.summary.drop(["activity_id", "source_file"])
        pd.testing.assert_series_equal(
            keep, b.summary.drop(["activity_id", "source_file"]), check_names=False
        )


def test_real_run_at_2340_local_gets_its_local_date(real_data):
    # Take the real samples of run.fit, move them to start 21:40 UTC on 14 Sep
    # 2019 and write them with local_timestamp = UTC+2 (Berlin summer time): the
    # run starts 23:40 local and belongs to 14 September, not the 15th.
    from kneedata.io.read import read_activities_bytes
    from kneedata.testing.fitwrite import write_activity_fit

    (run,) = _read(str(real_data / "fit" / "run.fit"))
    records = run.records.drop(columns=["moving", "timer_running"])
    shift = pd.Timestamp("2019-09-14 21:40:00", tz="UTC") - records.index[0]
    records.index = records.index + shift
    data = write_activity_fit(None, records, utc_offset_min=120.0, laps=None)
    (act,) = read_activities_bytes(data, "run-2340.fit")
    assert act.summary["utc_offset_min"] == 120.0
    assert act.summary["local_date"] == dt.date(2019, 9, 14)
    # without the local timestamp, the first GPS fix (Berlin) gives the same day
    data = write_activity_fit(None, records, utc_offset_min=None, laps=None)
    (act,) = read_activities_bytes(data, "run-2340-nolocal.fit")
    assert act.summary["local_time_source"] == "gps_timezone"
    assert act.summary["local_date"] == dt.date(2019, 9, 14)


def test_gzip_fit_from_a_strava_style_export(real_data):
    (act,) = _read(str(real_data / "fit" / "14582164182.fit.gz"))
    assert act.summary["source_format"] == "fit"
    assert len(act.records) > 2000


def test_every_real_file_reads_or_fails_cleanly(real_data):
    n_read = 0
    for folder in ("fit", "gpx", "tcx"):
        for path in sorted((real_data / folder).iterdir()):
            try:
                acts = _read(str(path))
            except FileFormatError as err:
                assert path.name in str(err)
                continue
            n_read += 1
            for a in acts:
                assert a.records.index.is_monotonic_increasing
                assert str(a.records.index.tz) == "UTC"
                assert isinstance(a.summary["local_date"], dt.date)
                assert a.summary["sport"] == a.summary["sport"].lower()
                spm = a.records["cadence_spm"].dropna()
                assert ((spm >= 0) & (spm < 300)).all(), path.name
    assert n_read >= 50


# --- time zones (issue 13) ------------------------------------------------------------


@pytest.mark.parametrize(("name", "zone"), [
    ("6916663933.fit", "Europe/Prague"),                           # COROS APEX Pro, run
    ("coros-pace-2-cycling-misaligned-fields.fit", "America/Bogota"),  # COROS PACE 2, ride
])
def test_file_offset_against_the_gps_zone_the_position_wins(real_data, name, zone):
    # COROS writes local time equal to UTC (offset 0) wherever the run was; the GPS
    # places these in Prague and Bogota: a note gives both and the GPS zone is used
    (act,) = _read(str(real_data / "fit" / name))
    s = act.summary
    assert s["timezone"] == zone and s["local_time_source"] == "gps_timezone"
    assert abs(s["utc_offset_min"]) >= 60
    (note,) = [w for w in act.warnings if "time zones disagree" in w]
    assert "UTC+0 h" in note and zone in note


def test_agreeing_file_offset_and_gps_zone_keep_the_file_offset(real_data):
    # Fenix 5 Plus in Rome in September: the file says UTC+2, so does Europe/Rome
    (act,) = _read(str(real_data / "fit" / "2019-09-07-11-22-19.fit"))
    assert act.summary["local_time_source"] == "file" and act.summary["utc_offset_min"] == 120
    assert not any("time zones disagree" in w for w in act.warnings)


def test_virtual_gps_never_sets_the_zone(real_data):
    # a virtual ride (Zwift-style positions): its "GPS" placed it in Dubai
    (act,) = _read(str(real_data / "fit" / "14582164182.fit.gz"))
    s = act.summary
    assert s["sub_sport"] == "virtual_activity"
    assert s["local_time_source"] != "gps_timezone" and s["timezone"] != "Asia/Dubai"
    assert any("virtual positions are not used" in w for w in act.warnings)
