"""run_responses / weekly_pain / run_features: the pain-monitoring model run by run."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import schema
from kneedata.io.diary import link_entries, local_start_minutes


def _acts(rows):
    """rows: (activity_id, local day, 'HH:MM' local start, km, sub_sport)."""
    out = []
    for aid, day, clock, km, sub in rows:
        local = pd.Timestamp(f"{day} {clock}")
        out.append({"activity_id": aid, "sport": "running", "sub_sport": sub,
                    "local_date": pd.Timestamp(day).date(),
                    "start_time_utc": local.tz_localize("UTC"), "utc_offset_min": 0.0,
                    "distance_m": km * 1000.0, "timer_time_s": km * 330.0,
                    "avg_heart_rate_bpm": 150.0, "descent_m": 10.0 * km})
    return pd.DataFrame(out)


def _diary(rows):
    """rows: (day, 'HH:MM' or None, pain, timing, activity_id or None)."""
    return pd.DataFrame({
        "date": pd.to_datetime([r[0] for r in rows]),
        "time": pd.Series([r[1] for r in rows], dtype="str"),
        "side": ["left"] * len(rows), "site": pd.Series([None] * len(rows), dtype="str"),
        "pain_0_10": [float(r[2]) for r in rows],
        "timing": pd.Series([r[3] for r in rows], dtype="str"),
        "activity_id": pd.Series([r[4] for r in rows], dtype="str"),
        "notes": pd.Series([None] * len(rows), dtype="str"),
        "source_line": np.arange(2, len(rows) + 2)})


def _derive(acts, diary):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kd.derive(acts, diary)


@pytest.fixture
def week():
    acts = _acts([("ok", "2024-05-06", "18:00", 8, "generic"),
                  ("flare", "2024-05-07", "18:00", 8, "generic"),
                  ("hot", "2024-05-08", "18:00", 8, "trail"),
                  ("open", "2024-05-12", "18:00", 8, "generic"),
                  ("am", "2024-05-11", "06:00", 5, "treadmill"),
                  ("pm", "2024-05-11", "18:00", 5, "generic")])
    diary = _diary([
        ("2024-05-06", "07:00", 2, "next_morning", None),
        ("2024-05-06", "20:00", 4, "after", None),
        ("2024-05-07", "07:00", 3, "next_morning", None),    # settled: 3 <= 2 + 1
        ("2024-05-07", "17:50", 1, "before", None),          # beats the morning's 3
        ("2024-05-07", None, 3, None, "flare"),              # id, no timing: after
        ("2024-05-08", "07:00", 4, "next_morning", None),    # 4 > 1 + 1: not settled
        ("2024-05-08", None, 6, "during", None),
        ("2024-05-09", "07:00", 4, "next_morning", None),
        ("2024-05-10", "07:00", 2, "next_morning", None),
        ("2024-05-11", "07:30", 3, "next_morning", None),    # after 'am' started
        ("2024-05-11", None, 5, "after", None),              # two runs, no time
        ("2024-05-12", "07:00", 3, "next_morning", None),
    ])
    return _derive(acts, diary)


def test_run_responses_by_the_pain_monitoring_model(week):
    r = kd.run_responses(week).set_index("activity_id")
    assert list(r.reset_index().columns) == list(schema.RUN_RESPONSES)
    assert r.loc["ok", ["pain_before", "pain_after", "pain_next_morning"]].tolist() == [2, 4, 3]
    assert r.loc["ok", "change_24h"] == 1 and r.loc["ok", "settled"]
    assert r.loc["ok", "verdict"] == "acceptable" and r.loc["ok", "zone"] == "acceptable"
    assert r.loc["flare", "pain_before"] == 1 and r.loc["flare", "before_source"] == "before"
    assert r.loc["flare", "pain_after"] == 3
    assert r.loc["flare", "verdict"] == "too_much" and not r.loc["flare", "settled"]
    assert r.loc["hot", "pain_during"] == 6 and r.loc["hot", "zone"] == "high_risk"
    assert r.loc["hot", "verdict"] == "too_much" and r.loc["hot", "settled"]
    assert r.loc["open", "verdict"] == "unknown" and pd.isna(r.loc["open", "settled"])
    # the morning typed after the 06:00 run started is not its 'before'; the 18:00 run's
    assert np.isnan(r.loc["am", "pain_before"]) and r.loc["pm", "pain_before"] == 3
    # two runs share one morning; the untimed after entry is named, not guessed
    assert r.loc[["am", "pm"], "n_runs_day"].tolist() == [2, 2]
    assert r.loc[["am", "pm"], "pain_next_morning"].tolist() == [3, 3]
    assert r.loc[["am", "pm"], "pain_after"].isna().all()
    assert "could not be linked" in r.loc["pm", "note"]
    assert r.loc[["ok", "flare"], "note"].isna().all()


def test_thresholds_are_keyword_options(week):
    r = kd.run_responses(week, max_pain=7, settle_points=3).set_index("activity_id")
    assert r.loc["hot", "verdict"] == "acceptable"
    assert r.loc["flare", "verdict"] == "acceptable"
    with pytest.raises(ValueError, match="max_pain"):
        kd.run_responses(week, max_pain=0)


def test_weekly_pain_flags_pain_creeping_up(week):
    w = kd.weekly_pain(week)
    assert list(w.columns) == list(schema.WEEKLY_PAIN)
    assert w["week_start"].dt.day_of_week.eq(0).all()
    first = w.iloc[0]
    assert first["n_mornings"] == 7 and first["n_runs"] == 6
    assert first[["n_acceptable", "n_too_much", "n_unknown"]].sum() == 6
    assert first["max_pain_0_10"] == 6
    assert np.isclose(first["morning_pain_0_10"], (2 + 3 + 4 + 4 + 2 + 3 + 3) / 7)
    up = _derive(_acts([("a", "2024-05-06", "18:00", 8, "generic")]), _diary(
        [(f"2024-05-{d:02d}", "07:00", 2, "next_morning", None) for d in range(6, 13)]
        + [(f"2024-05-{d:02d}", "07:00", 4, "next_morning", None) for d in range(13, 20)]
        + [(f"2024-05-{d:02d}", "07:00", 4.5, "next_morning", None) for d in range(27, 30)]))
    w = kd.weekly_pain(up)
    assert pd.isna(w["creeping_up"].iloc[0]) and w["creeping_up"].iloc[1]
    assert w["change_0_10"].iloc[1] == 2
    assert np.isnan(w["morning_pain_0_10"].iloc[2])      # a week without mornings
    assert w["change_0_10"].iloc[3] == 0.5 and not w["creeping_up"].iloc[3]


def test_run_features_are_each_runs_own():
    days = pd.date_range("2024-03-01", periods=12, freq="2D")
    rows = [(f"r{i}", str(d.date()), "08:00", 10.0, "generic") for i, d in enumerate(days)]
    rows[8] = ("long", rows[8][1], "08:00", 25.0, "trail")
    rows[10] = ("mill", rows[10][1], "08:00", 10.0, "treadmill")
    f = kd.run_features(_derive(_acts(rows), None)).set_index("activity_id")
    assert list(f.reset_index().columns) == list(schema.RUN_FEATURES)
    assert np.isnan(f.loc["r0", "usual_distance_km"])          # no history yet
    assert f.loc["long", "usual_distance_km"] == 10.0
    assert np.isclose(f.loc["long", "distance_vs_usual_pct"], 150.0)
    assert f.loc["long", "spike_large"] and not f.loc["r9", "spike_large"]
    assert f.loc["long", "trail"] and f.loc["mill", "treadmill"]
    assert not f.loc["r9", "trail"] and f.loc["long", "descent_m"] == 250.0
    assert f["new_shoe"].isna().all()                          # no shoes table
    assert f["cadence_deviation_pct"].isna().all()             # no records


def test_without_a_diary_every_run_is_unknown():
    d = _derive(_acts([("a", "2024-05-06", "18:00", 8, "generic")]), None)
    r = kd.run_responses(d)
    assert r["verdict"].tolist() == ["unknown"] and r["zone"].isna().all()


@pytest.mark.real_data
def test_real_files_link_by_their_local_start_times(real_data):
    """Real FIT files: a multisport file with two run legs on one day, a COROS run whose file
    name gives its local start (Move_2020_01_15_19_27_16: 19:27 local)."""
    rows = []
    for name in ("activity-large-fenxi2-multisport.fit", "Move_2020_01_15_19_27_16_Running.fit"):
        rows += [a.summary for a in kd.read_activities(real_data / "fit" / name)]
    runs = kd.select_runs(pd.DataFrame(rows))
    legs = runs[runs["local_date"].astype(str) == "2015-08-29"]
    coros = runs[runs["local_date"].astype(str) == "2020-01-15"]
    assert len(legs) == 2 and len(coros) == 1
    first, second = legs.sort_values("start_time_utc")["activity_id"].tolist()
    diary = _diary([
        ("2015-08-29", "06:30", 2, "next_morning", None),
        ("2015-08-29", None, 4, "after", None),             # two legs, no time: never guessed
        ("2015-08-29", "13:05", 3, "after", None),          # between the legs: the first
        ("2015-08-29", "14:30", 5, "after", None),          # after both: the second
        ("2015-08-30", "07:00", 3, "next_morning", None),
        ("2020-01-15", "19:15", 3, "before", None),
        ("2020-01-15", "21:30", 5, "after", None),
        ("2020-01-16", "07:00", 4, "next_morning", None),
    ])
    linked = link_entries(diary, runs)
    assert linked["link"].tolist() == ["none", "ambiguous", "by_time", "by_time", "none",
                                       "only_run", "only_run", "none"]
    assert linked["linked_activity_id"].iloc[2:4].tolist() == [first, second]
    minutes = local_start_minutes(pd.concat([legs, coros]))
    assert round(float(minutes.iloc[-1])) == 19 * 60 + 27        # the file name's 19:27
    assert minutes.iloc[0] < minutes.iloc[1]                      # leg order within the day
    r = kd.run_responses(_derive(runs, diary)).set_index("activity_id")
    assert r.loc[[first, second], "n_runs_day"].tolist() == [2, 2]
    assert r.loc[[first, second], "pain_after"].tolist() == [3, 5]
    assert "could not be linked" in r.loc[first, "note"]
    coros_id = coros["activity_id"].iloc[0]
    assert r.loc[coros_id, ["pain_before", "pain_after", "pain_next_morning"]].tolist() == [3, 5, 4]
    assert r.loc[coros_id, "verdict"] == "acceptable" and r.loc[coros_id, "zone"] == "acceptable"
