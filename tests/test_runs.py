"""One definition of a run: kd.select_runs, and a treadmill file that counts everywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata.runs import RUN_KINDS, run_kind
from kneedata.testing.fitwrite import write_activity_fit


@pytest.mark.parametrize(("sport", "sub_sport", "kind"), [
    ("running", "generic", "road"), ("running", None, "road"), ("Running", "street", "road"),
    ("running", "trail", "trail"), ("trail_running", "generic", "trail"),
    ("running", "track", "track"), ("running", "treadmill", "treadmill"),
    ("running", "indoor_running", "treadmill"), ("generic", "treadmill", "treadmill"),
    ("fitness_equipment", "treadmill", "treadmill"),  # older Garmin treadmill files
    ("running", "virtual_activity", "virtual"), ("virtual_run", None, "virtual"),
    ("walking", "generic", "walking"), ("generic", "casual_walking", "walking"),
    ("hiking", "generic", "hiking"),
    ("cycling", "road", None), ("generic", "indoor_cycling", None),
    ("generic", "virtual_activity", None),  # could be a ride: not a run
    ("generic", "generic", None), ("swimming", "lap_swimming", None), (None, None, None),
])
def test_run_kind(sport, sub_sport, kind):
    assert run_kind(sport, sub_sport) == kind


def test_select_runs_kinds_and_opt_in():
    acts = pd.DataFrame({
        "sport": ["running", "generic", "cycling", "walking", "hiking", "running"],
        "sub_sport": ["generic", "treadmill", "road", "generic", "generic", "trail"],
    }, index=[10, 11, 12, 13, 14, 15])
    assert kd.select_runs(acts).index.tolist() == [10, 11, 15]
    assert kd.select_runs(acts, include="trail").index.tolist() == [15]
    assert kd.select_runs(acts, include=(*RUN_KINDS, "walking", "hiking")).index.tolist() == [
        10, 11, 13, 14, 15]
    # without sub_sport every running session is a road run
    assert kd.select_runs(acts.drop(columns="sub_sport")).index.tolist() == [10, 15]
    with pytest.raises(ValueError, match=r"'jogging'\] is not a kind of run; choose from"):
        kd.select_runs(acts, include=("road", "jogging"))
    with pytest.raises(kd.SchemaError, match="no 'sport' column"):
        kd.select_runs(acts.drop(columns="sport"))


def _run(start: str, n: int, *, speed: float = 3.0, gps: bool = True) -> pd.DataFrame:
    """``n`` 1 s samples at ``speed`` m/s and 170 steps/min."""
    index = pd.date_range(start, periods=n, freq="s", tz="UTC", name="timestamp")
    frame = pd.DataFrame({"distance_m": np.arange(n) * speed, "speed_m_s": speed,
                          "cadence_spm": 170.0, "heart_rate_bpm": 140.0}, index=index)
    if gps:
        frame["latitude_deg"] = 52.0 + np.arange(n) * speed / 111_000
        frame["longitude_deg"] = 4.0
        frame["altitude_m"] = 10.0
    return frame


@pytest.fixture(scope="module")
def treadmill_store(tmp_path_factory):
    """Two road runs, an older Garmin treadmill file (generic/treadmill, no GPS), a
    second copy of the treadmill run (running/treadmill, as another app exports it)
    and an indoor ride at the same time."""
    folder = tmp_path_factory.mktemp("treadmill")
    write_activity_fit(folder / "road1.fit", _run("2024-03-01 07:00", 1800))
    write_activity_fit(folder / "road2.fit", _run("2024-03-03 07:00", 1800))
    write_activity_fit(folder / "treadmill.fit", _run("2024-03-05 18:00", 2400, gps=False),
                       sport="generic", sub_sport="treadmill")
    write_activity_fit(folder / "treadmill_copy.fit",
                       _run("2024-03-05 18:00:20", 2400, gps=False),
                       sport="running", sub_sport="treadmill", serial_number=42)
    # an indoor ride logged on another device at the same time: not the same session
    ride = _run("2024-03-05 18:00:10", 2400, gps=False).rename(
        columns={"cadence_spm": "cadence_rpm"}).assign(cadence_rpm=85.0)
    write_activity_fit(folder / "ride.fit", ride, sport="generic", sub_sport="indoor_cycling",
                       serial_number=43)
    store = kd.Store(folder / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kd.DataQualityWarning)
        store.import_paths(sorted(folder.glob("*.fit")), workers=1, progress=False)
    return store


def test_treadmill_file_counts_everywhere(treadmill_store):
    acts = treadmill_store.activities()
    tread = acts.loc[acts["sub_sport"].eq("treadmill") & acts["sport"].eq("generic")]
    assert len(tread) == 1
    tid = tread["activity_id"].iloc[0]
    day = pd.Timestamp("2024-03-05")
    assert tid in kd.select_runs(acts)["activity_id"].tolist()
    # its cadence is in steps (the reader doubles FIT strides once): 170 steps/min
    assert tread["avg_cadence_spm"].iloc[0] == pytest.approx(170, abs=1)
    # daily load: 2400 s at 3 m/s = 7.2 km on its day
    daily = kd.daily_load(acts)
    assert daily.loc[day, "distance_km"] == pytest.approx(7.2, abs=0.01)
    assert daily.loc[day, "n_runs"] == 1
    # spikes: 7.2 km against the longest previous run (5.4 km): +33 %, moderate
    spikes = kd.session_spikes(acts).set_index("activity_id")
    assert spikes.loc[tid, "spike_category"] == "moderate"
    # gait: cadence from the watch, speed from the watch (no GPS)
    gait = kd.gait_metrics(treadmill_store.records_map(), treadmill_store.activities()).set_index("activity_id")
    assert gait.loc[tid, "cadence_moving_spm"] == pytest.approx(170, abs=0.5)
    assert gait.loc[tid, "form_basis"] == "whole_run"  # no altitude: never "flat"
    # shoes: the one shoe in use is assigned to the treadmill run too
    shoes = pd.DataFrame({"shoe_id": ["peg"], "brand": ["Nike"], "model": ["Pegasus"],
                          "first_used": [pd.Timestamp("2024-01-01")]})
    usage = kd.shoe_usage(acts, shoes).set_index("activity_id")
    assert usage.loc[tid, "shoe_id"] == "peg"
    # the one derive pipeline and the analysis frame
    derived = kd.derive(treadmill_store)
    assert tid in derived.runs["activity_id"].tolist()
    assert derived.daily.loc[day, "distance_km"] == pytest.approx(7.2, abs=0.01)


def test_treadmill_copies_are_duplicates_and_a_ride_is_not(treadmill_store):
    # generic/treadmill and running/treadmill 20 s apart, same distance: one run; the
    # generic/indoor_cycling ride at the same time and distance is another session
    dups = treadmill_store.duplicates()
    assert len(dups) == 1
    acts = treadmill_store.activities()
    assert acts["sub_sport"].tolist().count("indoor_cycling") == 1
    assert len(kd.select_runs(acts)) == 3  # two road runs and the kept treadmill run


def test_treadmill_without_speed_has_cadence_but_no_pace_based_gait(tmp_path):
    rec = _run("2024-03-05 18:00", 1200, gps=False).drop(columns=["distance_m", "speed_m_s"])
    write_activity_fit(tmp_path / "t.fit", rec, sport="generic", sub_sport="treadmill", laps=None)
    store = kd.Store(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kd.DataQualityWarning)
        store.import_paths([tmp_path / "t.fit"], workers=1, progress=False)
    row = kd.gait_metrics(store.records_map(), store.activities()).iloc[0]
    assert np.isfinite(row["cadence_moving_spm"])
    assert np.isnan(row["step_length_m"]) and np.isnan(row["cadence_deviation_pct"])
    assert "no speed" in row["gait_missing_reason"]
