"""Analysis frame: window rules, validation, and analysis_frame on hand-built data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import schema
from kneedata.errors import SchemaError
from kneedata.frame import (
    OUTCOME_COLUMNS,
    validate_frame,
    window_aggregate,
    window_kind,
)


# ------------------------------------------------------------------ window rules
@pytest.mark.parametrize(
    ("kind", "end_lag", "length", "expected"),
    [
        # values  [1, 0, nan, 2, 3, 0]; window of index day t = days t-end_lag-length+1 .. t-end_lag
        # sum, previous 2 days: t=2 -> 1+0; t=3,4 touch the unknown day -> nan; t=5 -> 2+3
        ("sum", 1, 2, [np.nan, np.nan, 1.0, np.nan, np.nan, 5.0]),
        # mean skips the unknown day: t=3 -> mean(0) = 0, t=4 -> mean(2) = 2
        ("mean", 1, 2, [np.nan, np.nan, 0.5, 0.0, 2.0, 2.5]),
        # any: t=3 -> window (0, nan): none set, one unknown -> nan; t=4 -> (nan, 2) -> 1
        ("any", 1, 2, [np.nan, np.nan, 1.0, np.nan, 1.0, 1.0]),
        # last: value on the window's last day (t-1)
        ("last", 1, 2, [np.nan, np.nan, 0.0, np.nan, 2.0, 3.0]),
        # same-day window (end_lag 0, length 1) is the series itself
        ("sum", 0, 1, [1.0, 0.0, np.nan, 2.0, 3.0, 0.0]),
        # gap: days t-3 .. t-2
        ("sum", 2, 2, [np.nan, np.nan, np.nan, 1.0, np.nan, np.nan]),
    ],
)
def test_window_aggregate_by_hand(kind, end_lag, length, expected):
    values = np.array([1.0, 0.0, np.nan, 2.0, 3.0, 0.0])  # hand-built series
    out = window_aggregate(values, kind, end_lag=end_lag, length=length)
    np.testing.assert_array_equal(out, np.array(expected))


def test_window_aggregate_matches_brute_force(rng):
    values = rng.poisson(1.0, 200).astype(float)
    values[rng.random(200) < 0.1] = np.nan
    for kind in ("sum", "mean", "any", "last"):
        out = window_aggregate(values, kind, end_lag=2, length=7)
        for t in range(200):
            lo, hi = t - 2 - 7 + 1, t - 2  # inclusive window
            if lo < 0:
                assert np.isnan(out[t])
                continue
            w = values[lo : hi + 1]
            known = w[~np.isnan(w)]
            if kind == "sum":
                ref = np.nan if np.isnan(w).any() else w.sum()
            elif kind == "mean":
                ref = known.mean() if known.size else np.nan
            elif kind == "last":
                ref = w[-1]
            else:
                ref = 1.0 if (known != 0).any() else (np.nan if np.isnan(w).any() else 0.0)
            np.testing.assert_equal(out[t], ref)


def test_window_aggregate_rejects_bad_options():
    with pytest.raises(ValueError, match="window kind"):
        window_aggregate([1.0], "median", end_lag=1, length=1)
    with pytest.raises(ValueError, match="length"):
        window_aggregate([1.0], "sum", end_lag=1, length=0)


def test_window_kind_rules():
    assert window_kind("spike_large") == "any"
    assert window_kind("distance_km") == "sum"
    assert window_kind("n_strength") == "sum"
    assert window_kind("acute_7d") == "last"
    assert window_kind("cadence_moving_spm") == "mean"
    assert window_kind("my_flag", np.dtype(bool)) == "any"  # fallback: bool -> any
    assert window_kind("n_custom") == "sum"  # fallback: counts
    assert window_kind("custom_score") == "mean"


# ------------------------------------------------------------------- validation
def test_validate_frame_names_the_problems():
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
                          "onset": [False, True], "at_risk": [True, True],
                          "in_episode": [False, True], "cat": ["a", "b"]})
    with pytest.raises(SchemaError) as err:
        validate_frame(frame, ["cat", "missing_col"])
    text = str(err.value)
    assert "missing_col" in text and "'cat'" in text and "duplicated" in text
    assert len(err.value.problems) == 3
    with pytest.raises(SchemaError, match="missing column"):
        validate_frame(frame.drop(columns="at_risk"))


# -------------------------------------------------------- analysis_frame (by hand)
class FakeStore:
    """Duck-typed store: activities() and records_map(), as kneedata.Store."""

    def __init__(self, activities: pd.DataFrame, records: dict[str, pd.DataFrame]) -> None:
        self._activities = activities
        self._records = records

    def activities(self) -> pd.DataFrame:
        return self._activities.copy()

    def records_map(self) -> dict[str, pd.DataFrame]:
        return {aid: frame.copy() for aid, frame in self._records.items()}


def _records(start: str, minutes: int, speed_m_s: float, cadence_spm: float) -> pd.DataFrame:
    n = minutes * 60
    index = pd.date_range(start, periods=n, freq="s", tz="UTC", name="timestamp")
    return pd.DataFrame({"speed_m_s": speed_m_s, "cadence_spm": cadence_spm,
                         "distance_m": np.arange(n) * speed_m_s, "altitude_m": 100.0,
                         "moving": True}, index=index)


RUN_DAYS = ["2024-03-01", "2024-03-03", "2024-03-05", "2024-03-20"]
RUN_KM = [5.0, 5.0, 12.0, 6.0]  # 12 km after a longest 5 km -> ratio 2.4 -> large spike


@pytest.fixture
def runner():
    activities = pd.DataFrame({
        "activity_id": [f"a{i}" for i in range(4)],
        "sport": "running", "sub_sport": "generic",
        "local_date": [pd.Timestamp(d).date() for d in RUN_DAYS],
        "start_time_utc": pd.to_datetime([d + " 07:00" for d in RUN_DAYS]).tz_localize("UTC"),
        "distance_m": [k * 1000 for k in RUN_KM],
        "timer_time_s": [k * 360 for k in RUN_KM],
    })
    records = {f"a{i}": _records(RUN_DAYS[i] + " 07:00", 10, 3.0, 170.0) for i in range(4)}
    # pain 4 and 5 on Mar 6-7 (one episode), pain-free entries around it
    diary = pd.DataFrame({
        "date": pd.to_datetime(["2024-02-28", "2024-03-06", "2024-03-07", "2024-03-25"]),
        "pain_0_10": [0.0, 4.0, 5.0, 0.0], "side": [None, "left", "left", None],
    })
    routines = pd.DataFrame({
        "date": pd.to_datetime(["2024-03-02", "2024-03-02", "2024-03-04", "2024-03-10"]),
        "kind": ["strength", "foam_rolling", "strength", "physio"],
        "minutes": [30.0, 10.0, 20.0, 45.0],
    })
    return FakeStore(activities, records), diary, routines


def _frame(runner, **kwargs):
    store, diary, routines = runner
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the metrics' own notes (HR assumptions etc.)
        return kd.analysis_frame(store, diary, routines=routines, **kwargs)


def test_analysis_frame_rows_exposures_and_outcomes(runner):
    frame = _frame(runner, complete=True)
    # calendar: Feb 28 (first diary day) .. Mar 25 (last diary day) = 27 days
    assert len(frame) == 27
    assert frame["date"].dtype == "datetime64[ns]"
    assert frame["runner_id"].eq("runner").all()
    day = frame.set_index("date")
    ts = pd.Timestamp
    # exposures on the run days (hand-built runs)
    assert day.loc[ts("2024-03-05"), "distance_km"] == 12.0
    assert bool(day.loc[ts("2024-03-05"), "spike_large"])
    assert day.loc[ts("2024-03-05"), "spike_ratio_max"] == pytest.approx(2.4)  # 12 / 5
    assert not bool(day.loc[ts("2024-03-03"), "spike_large"])
    assert bool(day.loc[ts("2024-03-01"), "first_run"])  # no earlier run to compare with
    assert day.loc[ts("2024-03-03"), "cadence_moving_spm"] == pytest.approx(170.0)
    assert day.loc[ts("2024-03-04"), "distance_km"] == 0.0  # rest inside the watch span
    # outside the watch span (before Mar 1, after Mar 20) exposures are unknown, not 0
    assert np.isnan(day.loc[ts("2024-02-29"), "distance_km"])
    assert pd.isna(day.loc[ts("2024-03-22"), "spike_large"])
    # routines: two strength sessions logged, one per day
    assert day.loc[ts("2024-03-02"), "n_strength"] == 1.0
    assert day.loc[ts("2024-03-02"), "strength_min"] == 30.0
    assert day.loc[ts("2024-03-02"), "n_foam_rolling"] == 1.0
    assert day.loc[ts("2024-03-03"), "n_strength"] == 0.0
    assert np.isnan(day.loc[ts("2024-02-29"), "n_strength"])  # before the routine log starts
    # outcomes: onset Mar 6, last pain day Mar 7, at risk again after 14 pain-free days
    assert frame.loc[frame["onset"], "date"].tolist() == [ts("2024-03-06")]
    assert day.loc[ts("2024-03-06"), "at_risk"]
    assert day.loc[ts("2024-03-06"):ts("2024-03-07"), "in_episode"].all()
    assert not day.loc[ts("2024-03-07"):ts("2024-03-21"), "at_risk"].any()  # Mar 7 + 14
    assert day.loc[ts("2024-03-22"):, "at_risk"].all()
    assert day.loc[ts("2024-03-06"), "n_prior_episodes"] == 0
    assert day.loc[ts("2024-03-07"), "n_prior_episodes"] == 1
    assert day["episode_id"].dtype == "Int64"


def test_analysis_frame_incomplete_diary_is_unknown(runner):
    frame = _frame(runner, complete=False)
    # only the 4 days with an entry have a known pain status
    assert int(frame["diary_known"].sum()) == 4
    assert not frame.loc[~frame["diary_known"], "at_risk"].any()


def test_analysis_frame_dtypes_follow_schema(runner):
    frame = _frame(runner, complete=True)
    for name, column in schema.FRAME.items():
        if name in frame.columns:
            assert str(frame[name].dtype) == column.dtype, name
    for name in frame.columns:
        assert name in schema.FRAME, f"{name} is not in the glossary (schema.FRAME)"


def test_every_frame_column_is_in_the_glossary(runner):
    # every source a frame can have: watch, gait, shoes, routines, diary
    store, diary, routines = runner
    shoes = pd.DataFrame({"shoe_id": ["old", "new"], "brand": ["B", "B"],
                          "model": ["M1", "M2"], "drop_mm": [10.0, 4.0],
                          "first_used": pd.to_datetime(["2023-01-01", "2024-03-04"])})
    acts = store.activities().assign(shoe_id=["old", "old", "new", "new"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive({"activities": acts, "records": store.records_map()}, diary,
                            shoes=shoes, routines=routines,
                            options=kd.DeriveOptions(height_m=1.75))
        frame = kd.analysis_frame(derived)
        simulated = kd.simulate_runner_days(200, seed=1)
    assert frame.set_index("date").loc["2024-03-05", "new_shoe"]
    for name in [*frame.columns, *simulated.columns]:
        assert name in schema.FRAME, f"{name} is not in the glossary (schema.FRAME)"
        column = schema.FRAME[name]
        assert column.window in (*schema.WINDOW_RULES, None), name
        assert column.per_day in (*schema.PER_DAY_RULES, None), name
    # each exposure carries its window rule, each outcome none
    exposures = [c for c in frame.columns if c not in OUTCOME_COLUMNS]
    assert all(schema.FRAME[c].window for c in exposures)
    assert not any(schema.FRAME[c].window for c in OUTCOME_COLUMNS)


def test_implausible_values_are_kept_and_reported(runner):
    store, diary, routines = runner
    silly = routines.assign(minutes=[30.0, 10.0, 2000.0, 45.0])  # 2000 min strength
    with pytest.warns(kd.DataQualityWarning, match=r"strength_min \(1 value outside 0..600\)"):
        frame = kd.analysis_frame(store, diary, routines=silly, complete=True)
    assert frame.set_index("date").loc["2024-03-04", "strength_min"] == 2000.0


def test_analysis_frame_does_not_modify_inputs(runner):
    store, diary, routines = runner
    before = (store._activities.copy(), diary.copy(), routines.copy())
    _frame(runner, complete=True)
    pd.testing.assert_frame_equal(store._activities, before[0])
    pd.testing.assert_frame_equal(diary, before[1])
    pd.testing.assert_frame_equal(routines, before[2])


def test_analysis_frame_tables_and_cohort(runner):
    store, diary, routines = runner
    tables = {"activities": store.activities()}  # no gait table: gait columns absent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = kd.analysis_frame(tables, diary, runner_id="ana", complete=True)
        cohort = kd.analysis_frame({"ana": tables, "ben": store}, {"ana": diary, "ben": diary},
                                   complete=True)
    assert "cadence_moving_spm" not in single.columns
    assert single["runner_id"].eq("ana").all()
    assert sorted(cohort["runner_id"].unique()) == ["ana", "ben"]
    assert len(cohort) == 2 * len(single)
    with pytest.raises(TypeError, match="dicts keyed"):
        kd.analysis_frame({"ana": tables}, diary)
    with pytest.raises(TypeError, match="source must be"):
        kd.analysis_frame([1, 2], diary)


def test_analysis_frame_feeds_the_models(runner):
    frame = _frame(runner, complete=True)
    # one episode: the daily model runs and warns about the tiny number of onsets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = kd.daily_model(frame, ["distance_km"], lags=(3,))
        assert result.n_episodes == 1
        assert any("fewer than 10" in w for w in result.warnings)
        # a 7-day window before the Mar 6 onset reaches Feb 28-29, before the watch
        # data: unknown, so the only onset drops out and nothing is left to model
        with pytest.raises(kd.models.ModelFitError, match="no onset"):
            kd.daily_model(frame, ["distance_km"], lags=(7,))
