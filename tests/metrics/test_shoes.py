"""shoe_usage and shoe_summary on hand-built tables whose km you can add up by eye."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from kneedata import DataQualityWarning, SchemaError
from kneedata.metrics.shoes import poisson_rate_ci, shoe_summary, shoe_usage
from kneedata.schema import SHOE_SUMMARY, SHOE_USAGE, TABLES

D = dt.date


def _acts(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [{"activity_id": a, "sport": "running", "sub_sport": "generic", "local_date": d,
          "distance_m": km * 1000.0, "shoe_id": s} for a, d, km, s in rows]
    )


@pytest.fixture
def shoes() -> pd.DataFrame:
    return pd.DataFrame({
        "shoe_id": ["peg-a", "peg-b", "speed"],
        "name": ["Pegasus A", "Pegasus B", "Racer"],
        "brand": ["Nike", "nike ", "Saucony"],       # brand/model compared case-blind
        "model": ["Pegasus 40", "Pegasus 40", "Endorphin"],
        "drop_mm": [10.0, 10.0, 8.0],
        "stack_mm": [33.0, 33.0, 36.0],
        "first_used": pd.to_datetime(["2023-12-20", None, None]),
        "retired": pd.to_datetime([None, None, None]),
        "initial_km": [30.0, np.nan, 0.0],
        "default_for": [None, None, None],
    })


@pytest.fixture
def runs() -> pd.DataFrame:
    return _acts([
        ("r1", D(2024, 1, 1), 40.0, "peg-a"),
        ("r2", D(2024, 1, 3), 50.0, "peg-a"),
        ("r3", D(2024, 1, 5), 20.0, "peg-b"),
        ("r4", D(2024, 1, 20), 10.0, "speed"),
        ("r5", D(2024, 2, 1), 10.0, "peg-a"),
        ("r6", D(2024, 3, 15), 5.0, None),
        ("r7", D(2024, 3, 16), 8.0, "peg-b"),
    ])


def test_shoe_usage_by_eye(runs, shoes):
    out = shoe_usage(runs, shoes)
    assert list(out.columns) == list(SHOE_USAGE)
    assert out["activity_id"].tolist() == ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]
    # peg-a: 30 initial, then 40, 50 -> 30, 70, 120 before r1, r2, r5
    # peg-b: 0, then 20 -> 0 before r3, 20 before r7; speed: 0
    np.testing.assert_allclose(out["shoe_km_at_run"], [30, 70, 0, 0, 120, np.nan, 20])
    assert out["new_shoe"].tolist() == [True, True, True, True, False, pd.NA, True]
    # one model: Pegasus 40 = peg-a + peg-b. Before r3: 30 + 90 run = 120 -> not new
    np.testing.assert_allclose(out["model_km_at_run"], [30, 70, 120, 0, 140, np.nan, 150])
    assert out["new_model"].tolist() == [True, True, False, True, False, pd.NA, False]
    # age: peg-a from first_used Dec 20; peg-b, speed from their first run
    np.testing.assert_allclose(out["shoe_age_days"], [12, 14, 0, 0, 43, np.nan, 71])
    # rotation (30 days ending with the run): r4 on Jan 20 sees peg-a, peg-b, speed;
    # r5 on Feb 1 (window Jan 3..Feb 1) too; r6 (unassigned) sees none; r7 only peg-b
    assert out["n_shoes_30d"].tolist() == [1, 1, 2, 3, 3, 0, 1]
    np.testing.assert_allclose(out["drop_change_mm"], [np.nan, 0, 0, -2, 2, np.nan, np.nan])
    assert out["shoe_source"].tolist() == ["given"] * 5 + ["unassigned", "given"]


def test_same_day_runs_ordered_by_start_time(shoes):
    acts = _acts([("late", D(2024, 1, 1), 10.0, "speed"), ("early", D(2024, 1, 1), 5.0, "speed")])
    acts["start_time_utc"] = pd.to_datetime(["2024-01-01 18:00", "2024-01-01 06:00"], utc=True)
    out = shoe_usage(acts, shoes)
    assert out["activity_id"].tolist() == ["early", "late"]
    assert out["shoe_km_at_run"].tolist() == [0.0, 5.0]


def test_unknown_shoe_and_run_before_first_used_warn(shoes):
    acts = _acts([("r1", D(2023, 12, 1), 5.0, "peg-a"), ("r2", D(2024, 1, 1), 5.0, "ghost")])
    with pytest.warns(DataQualityWarning) as record:
        out = shoe_usage(acts, shoes)
    text = " ".join(str(w.message) for w in record)
    assert "1 shoe id(s)" in text and "ghost" in text
    assert "1 runs are dated before their shoe's first_used" in text
    assert out["shoe_age_days"].iloc[0] == 0.0  # counted from its first run
    assert np.isnan(out["drop_mm"].iloc[1]) and out["shoe_km_at_run"].iloc[1] == 0.0


def test_assigns_shoes_through_gear_when_no_shoe_id(shoes):
    # Store.activities() carries the export's gear name; kneedata.gear maps it
    acts = _acts([("r1", D(2024, 1, 1), 10.0, None), ("r2", D(2024, 1, 2), 12.0, None)])
    acts = acts.drop(columns="shoe_id").assign(gear=["Racer", "Pegasus B"])
    out = shoe_usage(acts, shoes)
    assert out["shoe_id"].tolist() == ["speed", "peg-b"]
    assert out["shoe_source"].tolist() == ["gear", "gear"]


def test_shoe_summary_by_eye(runs, shoes):
    episodes = pd.DataFrame({"onset_date": pd.to_datetime(["2024-01-06", "2024-01-25", "2024-06-01"])})
    out = shoe_summary(runs, shoes, episodes=episodes)
    assert list(out.columns) == list(SHOE_SUMMARY)
    out = out.set_index("shoe_id")
    assert out.loc["peg-a", "n_runs"] == 3 and out.loc["peg-a", "distance_km"] == 100.0
    assert out.loc["peg-a", "total_km"] == 130.0
    assert out.loc["peg-b", "first_used"] == pd.Timestamp("2024-01-05")
    assert out.loc["peg-b", "last_used"] == pd.Timestamp("2024-03-16")
    # onset Jan 6 <- r3 (peg-b, Jan 5); Jan 25 <- r4 (speed, Jan 20, 5 days);
    # Jun 1: last run Mar 16 is > 7 days before -> unattributed
    assert out["n_episodes"].to_dict() == {"peg-a": 0.0, "peg-b": 1.0, "speed": 1.0}
    assert out.attrs["n_episodes_unattributed"] == 1
    # peg-b: 1 episode in 28 km -> 3.5714 per 100 km; exact Poisson limits
    # chi2(0.025, 2)/2 = 0.025318 and chi2(0.975, 4)/2 = 5.571643 events (Garwood)
    assert out.loc["peg-b", "episodes_per_100km"] == pytest.approx(100 / 28)
    assert out.loc["peg-b", "episodes_per_100km_low"] == pytest.approx(0.025318 / 0.28, rel=1e-4)
    assert out.loc["peg-b", "episodes_per_100km_high"] == pytest.approx(5.571643 / 0.28, rel=1e-4)
    # no episodes: rate 0, lower limit 0, upper chi2(0.975, 2)/2 = 3.688879 per 100 km
    assert out.loc["peg-a", "episodes_per_100km_low"] == 0.0
    assert out.loc["peg-a", "episodes_per_100km_high"] == pytest.approx(3.688879, rel=1e-4)


def test_shoe_summary_without_episodes(runs, shoes):
    out = shoe_summary(runs, shoes)
    assert out["n_episodes"].isna().all() and out["episodes_per_100km"].isna().all()


def test_poisson_ci_against_chi2():
    low, high = poisson_rate_ci(np.array([0, 3, 10]), np.array([2.0, 2.0, 0.0]))
    assert low[0] == 0.0 and high[0] == pytest.approx(chi2.ppf(0.975, 2) / 4)
    assert low[1] == pytest.approx(chi2.ppf(0.025, 6) / 4)
    assert np.isnan(low[2]) and np.isnan(high[2])  # no exposure


def test_bad_shoes_table(runs, shoes):
    with pytest.raises(SchemaError, match="shoe_id"):
        shoe_usage(runs, shoes.drop(columns="shoe_id"))
    with pytest.raises(SchemaError, match="more than once"):
        shoe_usage(runs, pd.concat([shoes, shoes.iloc[:1]]))


def test_inputs_unchanged_and_schema(runs, shoes):
    before_runs, before_shoes = runs.copy(deep=True), shoes.copy(deep=True)
    episodes = pd.DataFrame({"onset_date": pd.to_datetime(["2024-01-06"])})
    shoe_usage(runs, shoes)
    shoe_summary(runs, shoes, episodes=episodes)
    pd.testing.assert_frame_equal(runs, before_runs)
    pd.testing.assert_frame_equal(shoes, before_shoes)
    assert TABLES["shoe_usage"] is SHOE_USAGE and TABLES["shoe_summary"] is SHOE_SUMMARY
