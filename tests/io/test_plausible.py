"""Impossible values (kneedata.io.plausible): real files mutated, and hand-built samples.

The mutations write into the real files of ``../shared/real_data`` (through the
``real_data`` fixture) with the fuzz harness's FIT walker, written from the FIT
protocol (it imports nothing of the reader; its CRC is checked against
kneedata.testing.fitwrite's here) and plain text edits of GPX/TCX. Each impossible
value must be left out with a note naming the file, the field, the value and the
limit, and the activity marked incomplete; the rest of the file is read as before.
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.io.activity import build_activity
from kneedata.io.plausible import RECORD_LIMITS, SPEED_LIMITS_M_S
from kneedata.io.read import read_activities, read_activities_bytes
from kneedata.testing.fitwrite import fit_crc

sys.path.insert(0, str(Path(__file__).with_name("fuzz_harness.py").parent))
from fuzz_harness import fit_fields, set_fit_field

FIT_RUN = "2019-09-07-11-22-19.fit"  # fenix 5 plus, running, 13.3 km, cadence, 1 session
SESSION, RECORD = 18, 20


def _read(data: bytes, name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_activities_bytes(data, name)


def _plausibility_notes(act) -> list[str]:
    return [n for n in act.warnings if "kneedata.io.plausible" in n]


def test_fit_walker_finds_the_session_distance(real_data):
    data = (real_data / "fit" / FIT_RUN).read_bytes()
    (pos, size, arch), = [(p, s, a) for m, f, p, s, a in fit_fields(data) if m == SESSION and f == 9]
    assert size == 4 and int.from_bytes(data[pos:pos + 4], "big" if arch else "little") == 1330103
    assert fit_crc(data) == 0  # the walker's CRC convention: 0 over a whole valid file


# --------------------------------------------------------------------------------
# mutated real files


def test_fit_session_distance_0xfffffffe_is_not_used(real_data):
    data = (real_data / "fit" / FIT_RUN).read_bytes()
    (before,) = _read(data, FIT_RUN)
    bad = set_fit_field(data, SESSION, 9, 0xFFFFFFFE)
    assert fit_crc(bad) == 0  # a valid file: only the value is impossible
    (act,) = _read(bad, "mutated/" + FIT_RUN)
    assert before.summary["distance_m"] == pytest.approx(13301.03)
    # 42,950 km in an hour: the samples' distance is used, within 1 % of the watch's
    assert act.summary["distance_m"] == pytest.approx(13301.03, rel=0.01)
    assert act.summary["avg_speed_m_s"] < 5
    assert "distance_m=samples" in act.summary["totals_detail"]
    (note,) = _plausibility_notes(act)
    assert FIT_RUN in note and "distance_m 4.29e+07" in note and "possible: 0 to" in note
    assert not act.summary["complete"] and before.summary["complete"]


def test_fit_record_cadence_and_speed_beyond_the_limits_are_left_empty(real_data):
    data = (real_data / "fit" / FIT_RUN).read_bytes()
    fields = {(m, f) for m, f, *_ in fit_fields(data)}
    bad = set_fit_field(data, RECORD, 4, 254, which=100)  # 254 strides/min: 508 steps/min
    speed_field = 73 if (RECORD, 73) in fields else 6
    raw_speed = 2_000_000_000 if speed_field == 73 else 65_000  # 2e6 m/s (65 m/s in uint16)
    bad = set_fit_field(bad, RECORD, speed_field, raw_speed, which=200)
    (before,) = _read(data, FIT_RUN)
    (act,) = _read(bad, FIT_RUN)
    rec = act.records
    assert rec["cadence_spm"].max() <= 300 and rec["speed_m_s"].max() <= SPEED_LIMITS_M_S["foot"]
    assert rec["cadence_spm"].isna().sum() == before.records["cadence_spm"].isna().sum() + 1
    notes = _plausibility_notes(act)
    assert any("cadence_spm" in n and re.search(r"worst 50[89]\b", n) and "0 to 300" in n for n in notes), notes
    assert any("speed_m_s" in n and "0 to 15" in n for n in notes), notes
    assert act.summary["distance_m"] == before.summary["distance_m"]
    assert not act.summary["complete"]


def _gpx_points(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r'<trkpt lat="([-\d.]+)" lon="([-\d.]+)"', text))


def _move_point(text: str, k: int, lat: float | None = None, dlat: float = 0.0) -> str:
    m = _gpx_points(text)[k]
    new_lat = float(m.group(1)) + dlat if lat is None else lat
    return text[:m.start(1)] + f"{new_lat:.7f}" + text[m.end(1):]


def test_gpx_point_moved_by_one_degree_is_dropped(real_data):
    text = (real_data / "gpx" / "run.gpx").read_text(encoding="utf-8")
    (before,) = _read(text.encode(), "run.gpx")
    (act,) = _read(_move_point(text, 900, dlat=1.0).encode(), "run.gpx")
    # 111 km there and back in two seconds would have made 4.8 km into 227 km
    assert act.summary["distance_m"] == pytest.approx(before.summary["distance_m"], rel=0.002)
    assert act.records["speed_m_s"].max() < 10
    assert act.records["latitude_deg"].isna().sum() == before.records["latitude_deg"].isna().sum() + 1
    (note,) = _plausibility_notes(act)
    assert "run.gpx" in note and "1 fix(es)" in note and "15 m/s" in note and "1.11e+05 m" in note
    assert not act.summary["complete"] and before.summary["complete"]


def test_gpx_latitude_119_is_dropped(real_data):
    text = (real_data / "gpx" / "run.gpx").read_text(encoding="utf-8")
    (before,) = _read(text.encode(), "run.gpx")
    (act,) = _read(_move_point(text, 700, lat=119.0).encode(), "run.gpx")
    assert act.records["latitude_deg"].abs().max() <= 90
    assert act.summary["distance_m"] == pytest.approx(before.summary["distance_m"], rel=0.002)
    notes = _plausibility_notes(act)
    assert any("latitude_deg" in n and "worst 119 deg" in n and "-90 to 90" in n for n in notes), notes


def test_gpx_cadence_509_is_left_empty(real_data):
    text = (real_data / "gpx" / "2067489619.gpx").read_text(encoding="utf-8")
    (before,) = _read(text.encode(), "2067489619.gpx")
    cads = list(re.finditer(r"<ns3:cad>(\d+)</ns3:cad>", text))
    m = cads[300]
    bad = text[:m.start(1)] + "254.5" + text[m.end(1):]  # strides/min, doubled: 509 steps/min
    (act,) = _read(bad.encode(), "2067489619.gpx")
    assert act.records["cadence_spm"].max() <= 300
    assert act.summary["avg_cadence_spm"] == pytest.approx(before.summary["avg_cadence_spm"], abs=0.5)
    notes = _plausibility_notes(act)
    assert any("cadence_spm" in n and "worst 509" in n for n in notes), notes


def test_tcx_speed_2e6_and_a_distance_spike_are_left_out(real_data):
    text = (real_data / "tcx" / "run.tcx").read_text(encoding="utf-8")
    (before,) = _read(text.encode(), "run.tcx")
    speeds = list(re.finditer(r"<Speed>([\d.]+)</Speed>", text))
    m = speeds[500]
    bad = text[:m.start(1)] + "2000000" + text[m.end(1):]
    dists = list(re.finditer(r"<DistanceMeters>([\d.]+)</DistanceMeters>", bad))
    m = dists[len(dists) // 2]
    bad = bad[:m.start(1)] + "2000000" + bad[m.end(1):]
    (act,) = _read(bad.encode(), "run.tcx")
    assert act.records["speed_m_s"].max() <= 15
    assert act.records["distance_m"].max() == pytest.approx(before.records["distance_m"].max(), rel=0.002)
    notes = _plausibility_notes(act)
    assert any("speed_m_s in run.tcx" in n and "worst 2e+06 m/s" in n for n in notes), notes
    assert any("distance_m in run.tcx" in n and "left out of the distance" in n for n in notes), notes
    assert not act.summary["complete"]


# --------------------------------------------------------------------------------
# real files are left alone


#: real files with a plausibility note, and why (checked by hand): a virtual ride
#: whose record distance jumps back and forth by ~100 m a second, and a Strava GPX
#: whose GPS is re-acquired 64 m away one second after a 2.5-minute stop
EXPECTED = {"14582164182.fit.gz": "distance_m", "strava_export.gpx": "speed_m_s derived"}


def test_real_files_lose_no_value_to_the_limits(real_data):
    hits: dict[str, list[str]] = {}
    for path in sorted((real_data / "fit").iterdir()) + sorted((real_data / "gpx").iterdir()) \
            + sorted((real_data / "tcx").iterdir()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                acts = read_activities(path)
        except Exception:  # empty or refused files: tested elsewhere
            continue
        for act in acts:
            notes = _plausibility_notes(act)
            if notes:
                hits.setdefault(path.name, []).extend(notes)
    assert set(hits) == set(EXPECTED), hits
    for name, what in EXPECTED.items():
        assert any(what in n for n in hits[name]), hits[name]


# --------------------------------------------------------------------------------
# hand-built samples


def _records(n: int = 121, speed: float = 3.0) -> pd.DataFrame:
    index = pd.date_range("2024-05-01 06:00", periods=n, freq="1s", tz="UTC", name="timestamp")
    dist = np.arange(n) * speed
    return pd.DataFrame({"distance_m": dist, "speed_m_s": np.full(n, speed),
                         "latitude_deg": 52.0 + dist / 111_195.0, "longitude_deg": np.full(n, 4.0),
                         "cadence_spm": np.full(n, 170.0), "heart_rate_bpm": np.full(n, 150.0)},
                        index=index)


def _build(records: pd.DataFrame, sport: str = "running", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_activity(records, source_file="hand/x.fit", source_format="fit", sport=sport,
                              sub_sport="generic", activity_id="a-0", cadence_unit_source="fit", **kwargs)


def test_hand_built_impossible_samples_become_nan_with_notes():
    rec = _records()
    rec.iloc[10, rec.columns.get_loc("speed_m_s")] = 2e6
    rec.iloc[20, rec.columns.get_loc("cadence_spm")] = 509
    rec.iloc[30, rec.columns.get_loc("latitude_deg")] = 119
    rec.iloc[40, rec.columns.get_loc("heart_rate_bpm")] = 300
    act = _build(rec)
    r = act.records
    assert math.isnan(r["speed_m_s"].iloc[10]) and math.isnan(r["cadence_spm"].iloc[20])
    assert math.isnan(r["latitude_deg"].iloc[30]) and math.isnan(r["longitude_deg"].iloc[30])
    assert math.isnan(r["heart_rate_bpm"].iloc[40])
    assert r.drop(columns=["moving", "timer_running"]).notna().sum().sum() == rec.notna().sum().sum() - 5
    assert act.summary["distance_m"] == pytest.approx(360.0)
    notes = _plausibility_notes(act)
    assert len(notes) == 4 and all("x.fit" in n for n in notes)
    assert not act.summary["complete"]


def test_hand_built_stated_totals_beyond_the_limits_are_replaced_by_the_samples():
    act = _build(_records(), watch_totals={"distance_m": 42_949_672.94, "timer_time_s": 120.0,
                                           "avg_cadence_spm": 509.0, "avg_heart_rate_bpm": 151.0})
    s = act.summary
    assert s["distance_m"] == pytest.approx(360.0) and s["avg_speed_m_s"] == pytest.approx(3.0)
    assert s["avg_cadence_spm"] == pytest.approx(170.0)
    assert s["avg_heart_rate_bpm"] == 151.0  # possible: the watch's figure is kept
    (note,) = _plausibility_notes(act)
    assert "distance_m 4.29e+07" in note and "avg_cadence_spm 509" in note and "over 120 s" in note
    assert s["totals_source"] == "mixed"


def test_speed_limit_depends_on_the_sport():
    rec = _records(speed=20.0).drop(columns=["cadence_spm"])  # 72 km/h: a fast ride, not a run
    ride = _build(rec, sport="cycling")
    assert not _plausibility_notes(ride) and ride.summary["complete"]
    run = _build(rec, sport="running")
    assert run.records["speed_m_s"].isna().all()
    assert any("0 to 15" in n for n in _plausibility_notes(run))


def test_a_teleport_is_left_out_of_the_distance_not_the_track():
    rec = _records()
    shift = np.arange(len(rec)) >= 60  # the rest of the run 1 km further north
    rec.loc[shift, "latitude_deg"] += 1000 / 111_195.0
    rec.loc[shift, "distance_m"] += 1000.0
    act = _build(rec)
    assert act.summary["distance_m"] == pytest.approx(357.0)  # the 3 m of the jump's second go too
    assert act.records["latitude_deg"].notna().all()
    assert any("1 step(s)" in n for n in _plausibility_notes(act))


def test_limits_are_documented():
    page = (Path(__file__).resolve().parents[2] / "docs" / "robustness.md").read_text()
    for name in RECORD_LIMITS:
        assert f"`{name}`" in page, name


def test_cadence_1e308_leaves_no_numpy_warning(real_data):
    text = (real_data / "gpx" / "2067489619.gpx").read_text(encoding="utf-8")
    m = list(re.finditer(r"<ns3:cad>(\d+)</ns3:cad>", text))[300]
    bad = text[:m.start(1)] + "1e308" + text[m.end(1):]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # before: 'overflow encountered in multiply'
        warnings.simplefilter("ignore", DeprecationWarning)
        from kneedata.errors import DataQualityWarning

        warnings.simplefilter("ignore", DataQualityWarning)
        (act,) = read_activities_bytes(bad.encode(), "2067489619.gpx")
    assert act.records["cadence_spm"].max() <= 300
    assert any("cadence_spm" in n for n in _plausibility_notes(act))
