"""daily_load, load_metrics and session_spikes on closed-form fixtures and hand-built tables."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kneedata import DataQualityWarning, SchemaError
from kneedata.metrics.load import daily_load, ewma_lambda, load_metrics, session_spikes
from kneedata.schema import DAILY_LOAD, LOAD_METRICS, SESSION_SPIKES, TABLES

D = dt.date


def _daily(values, start="2024-01-01", column="distance_km") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq="D", name="date").as_unit("ns")
    frame = pd.DataFrame({column: np.asarray(values, dtype=float)}, index=index)
    frame["n_runs"] = (frame[column] > 0).astype("int64")
    return frame


def _runs(rows) -> pd.DataFrame:
    """Activities frame from (id, local_date, km[, extra dict]) tuples."""
    records = []
    for row in rows:
        rec = {"activity_id": row[0], "sport": "running", "sub_sport": "generic",
               "local_date": row[1], "distance_m": row[2] * 1000.0,
               "timer_time_s": row[2] * 360.0, "avg_heart_rate_bpm": 150.0,
               "ascent_m": 10.0, "descent_m": 12.0}
        if len(row) > 3:
            rec.update(row[3])
        records.append(rec)
    return pd.DataFrame(records)


# --------------------------------------------------------------------- closed forms
def test_monotony_and_strain_foster_fixture():
    # docs/design.md section 4: [300,0,450,300,600,0,900] -> monotony 1.2205, strain 3112.3
    # (mean 364.29 / population SD 298.47; strain = 2550 x 1.2205)
    out = load_metrics(_daily([300, 0, 450, 300, 600, 0, 900]))
    last = out.iloc[-1]
    assert last["acute_7d"] == pytest.approx(2550.0, abs=1e-9)
    assert last["monotony_7d"] == pytest.approx(1.2205, abs=1e-4)
    assert last["strain_7d"] == pytest.approx(3112.3, abs=0.05)  # fixture given to 0.1
    assert out["monotony_7d"].iloc[:6].isna().all()  # fewer than 7 days known


@pytest.mark.parametrize(("n_days", "expected"), [(7, 0.25), (28, 0.068966), (42, 0.046512)])
def test_ewma_lambda_values(n_days, expected):
    # docs/design.md section 4: lambda = 2/(N+1): 7 -> 0.25, 28 -> 0.068966, 42 -> 0.046512
    assert ewma_lambda(n_days) == pytest.approx(expected, abs=1e-6)


def test_ewma_impulse_response_uses_lambda():
    # 400 days of 0, then one day of 100: E = lambda * 100 on that day and
    # lambda (1 - lambda) * 100 the next (Williams 2017 recursion); the lead-in makes
    # the start-up weight (27/29)^400 ~ 4e-13 negligible.
    values = [0.0] * 400 + [100.0, 0.0]
    out = load_metrics(_daily(values))
    lam7, lam28 = 0.25, 2 / 29
    assert out["ewma_acute_7d"].iloc[400] == pytest.approx(100 * lam7, abs=1e-4)
    assert out["ewma_acute_7d"].iloc[401] == pytest.approx(100 * lam7 * (1 - lam7), abs=1e-4)
    assert out["ewma_chronic_28d"].iloc[400] == pytest.approx(100 * lam28, abs=1e-4)
    assert out["acwr_ewma"].iloc[400] == pytest.approx(lam7 / lam28, abs=1e-4)


def test_ctl_atl_tsb_constant_load():
    # docs/design.md section 4: 42 days of constant 100 -> CTL 63.21 = 100 (1 - e^-1) (exponential
    # form, starting from 0); ATL = 100 (1 - e^-6) = 99.7521
    out = load_metrics(_daily([100.0] * 42))
    assert out["ctl"].iloc[-1] == pytest.approx(63.2121, abs=1e-4)
    assert out["atl"].iloc[-1] == pytest.approx(99.7521, abs=1e-4)
    # TSB uses yesterday's CTL - ATL; day one uses the starting state (0 - 0)
    assert out["tsb"].iloc[0] == 0.0
    expected = 100 * (1 - math.exp(-41 / 42)) - 100 * (1 - math.exp(-41 / 7))
    assert out["tsb"].iloc[-1] == pytest.approx(expected, abs=1e-4)


def test_coupled_is_4r_over_r_plus_3(rng):
    # docs/design.md section 4: coupled = 4R/(R+3) of the uncoupled ratio R (algebraic identity)
    values = rng.gamma(2.0, 4.0, size=200) * (rng.random(200) > 0.3)
    # (with complete windows; partial windows at the start are scaled separately)
    out = load_metrics(_daily(values), min_coverage=1.0)
    out = out.dropna(subset=["acwr_coupled", "acwr_uncoupled"])
    assert len(out) > 150
    r = out["acwr_uncoupled"].to_numpy()
    np.testing.assert_allclose(out["acwr_coupled"].to_numpy(), 4 * r / (r + 3), rtol=1e-10)


def test_acwr_by_hand():
    # three weeks of 10 km/day, then a week of 20 km/day: acute 140, chronic_prev
    # 70/week, chronic_28d (70*3+140)/4 = 87.5; R = 2, coupled 1.6 = 4*2/(2+3)
    out = load_metrics(_daily([10.0] * 21 + [20.0] * 7))
    last = out.iloc[-1]
    assert last["acute_7d"] == pytest.approx(140.0)
    assert last["chronic_prev_21d"] == pytest.approx(70.0)
    assert last["chronic_28d"] == pytest.approx(87.5)
    assert last["acwr_uncoupled"] == pytest.approx(2.0)
    assert last["acwr_coupled"] == pytest.approx(1.6)


def test_weekly_change_categories_by_eye():
    # weeks of 20, 21, 26, 40 and 0 km (one run per week, on the week's first day):
    # +5 % -> <10%, +23.8 % -> 10-30%, +53.8 % -> >30%, -100 % -> <10% (Nielsen)
    weeks = [20, 21, 26, 40, 0]
    values = []
    for km in weeks:
        values += [km, 0, 0, 0, 0, 0, 0]
    out = load_metrics(_daily(values))
    ends = [13, 20, 27, 34]
    np.testing.assert_allclose(
        out["weekly_change_pct"].iloc[ends].to_numpy(),
        [5.0, 100 * (26 / 21 - 1), 100 * (40 / 26 - 1), -100.0],
        rtol=1e-12,
    )
    assert list(out["weekly_change_cat"].iloc[ends]) == ["<10%", "10-30%", ">30%", "<10%"]
    assert out["weekly_change_cat"].iloc[:13].isna().all()  # no previous full week
    assert list(out["weekly_change_cat"].cat.categories) == ["<10%", "10-30%", ">30%"]


def test_weekly_change_from_zero_week():
    # a week of 0 then a week with load: percentage undefined, category >30%
    out = load_metrics(_daily([0.0] * 7 + [5.0] + [0.0] * 6))
    assert np.isnan(out["weekly_change_pct"].iloc[-1])
    assert out["weekly_change_cat"].iloc[-1] == ">30%"


def test_monotony_undefined_for_constant_week_strain_zero_for_rest_week():
    out = load_metrics(_daily([0.0] * 7 + [5.0] * 7))
    assert np.isnan(out["monotony_7d"].iloc[6]) and out["strain_7d"].iloc[6] == 0.0
    assert np.isnan(out["monotony_7d"].iloc[13]) and np.isnan(out["strain_7d"].iloc[13])


# --------------------------------------------------------------------- missing data
def test_known_missing_is_not_rest():
    daily = _daily([5.0] * 60)
    gap = pd.Timestamp("2024-02-01")
    out = load_metrics(daily, known_missing=[gap.date()])
    i = daily.index.get_loc(gap)
    assert out["missing_day"].iloc[i] and out["missing_day"].sum() == 1
    # every 7-day window touching the day is NaN (7 of 7 days needed) ...
    assert out["acute_7d"].iloc[i : i + 7].isna().all()
    assert out["acute_7d"].iloc[i + 7] == pytest.approx(35.0)
    # ... a 28-day window with 27 of 28 days uses their mean: 5 km/day -> 35/week
    assert out["chronic_28d"].iloc[i + 3] == pytest.approx(35.0)
    # while reading the day as rest would lower the load
    as_rest = load_metrics(daily.assign(distance_km=daily["distance_km"].where(daily.index != gap, 0.0)))
    assert as_rest["acute_7d"].iloc[i] == pytest.approx(30.0)
    assert out.attrs["missing_source"] == "known_missing"
    # a boolean Series gives the same answer as a list of dates
    flags = pd.Series(daily.index == gap, index=daily.index)
    pd.testing.assert_frame_equal(load_metrics(daily, known_missing=flags), out)


def test_min_coverage_one_is_strict():
    daily = _daily([5.0] * 60)
    out = load_metrics(daily, known_missing=["2024-02-01"], min_coverage=1.0)
    i = daily.index.get_loc(pd.Timestamp("2024-02-01"))
    assert out["chronic_28d"].iloc[i : i + 28].isna().all()
    assert out["chronic_28d"].iloc[i + 28] == pytest.approx(35.0)


def test_ewma_skips_missing_days_and_recovers():
    # missing days are left out of the average (renormalised), not read as 0
    daily = _daily([4.0] * 120)
    missing = pd.date_range("2024-03-01", periods=10, freq="D")
    out = load_metrics(daily, known_missing=missing)
    observed = ~out["missing_day"]
    assert out.loc[observed, "ctl"].dropna().iloc[-1] < 4.0  # CTL starts from 0
    vals = out.loc[observed, "ewma_acute_7d"].dropna()
    np.testing.assert_allclose(vals.to_numpy(), 4.0, rtol=1e-9)  # constant load stays 4
    assert out.loc[missing, "ewma_acute_7d"].isna().all()


def test_inferred_gaps():
    # a 10-day stretch without runs is flagged with gap 7, a 3-day one is not
    values = [5.0] * 20 + [0.0] * 10 + [5.0] * 5 + [0.0] * 3 + [5.0] * 5
    out = load_metrics(_daily(values), infer_missing_gap_days=7)
    assert out["missing_day"].to_numpy().nonzero()[0].tolist() == list(range(20, 30))
    assert out.attrs["missing_source"] == "inferred_gaps>=7d"
    assert out.attrs["n_inferred_missing_days"] == 10
    plain = load_metrics(_daily(values))
    assert plain.attrs["missing_source"] == "none" and not plain["missing_day"].any()


def test_absent_dates_warn_and_count_as_missing():
    daily = _daily([5.0] * 20).drop(pd.Timestamp("2024-01-10"))
    with pytest.warns(DataQualityWarning, match="1 days"):
        out = load_metrics(daily)
    assert len(out) == 20 and out.loc["2024-01-10", "missing_day"]


def test_load_metrics_bad_input():
    with pytest.raises(SchemaError, match="no column 'trimp'"):
        load_metrics(_daily([1.0] * 10), column="trimp")
    with pytest.raises(SchemaError, match="DatetimeIndex"):
        load_metrics(_daily([1.0] * 10).reset_index())


# --------------------------------------------------------------------- daily_load
def test_daily_load_by_hand():
    acts = _runs([
        ("a", D(2024, 1, 1), 5.0, {"rpe": 4.0}),
        ("b", D(2024, 1, 1), 8.0, {"rpe": 6.0}),
        ("c", D(2024, 1, 4), 10.0, {"rpe": np.nan}),
        ("bike", D(2024, 1, 6), 30.0, {"sport": "cycling"}),
    ])
    out = daily_load(acts, hr_rest_bpm=60, hr_max_bpm=190)
    # every day from first to last run (the ride on the 6th is not a run)
    assert list(out.index) == list(pd.date_range("2024-01-01", "2024-01-04", freq="D"))
    assert out.index.name == "date" and out.index.freq == "D"
    assert out["distance_km"].tolist() == [13.0, 0.0, 0.0, 10.0]
    assert out["n_runs"].tolist() == [2, 0, 0, 1]
    assert out["longest_run_km"].tolist() == [8.0, 0.0, 0.0, 10.0]
    # 6 min/km by construction: 30 + 48 min on day 1
    assert out["duration_min"].tolist() == [78.0, 0.0, 0.0, 60.0]
    assert out["descent_m"].tolist() == [24.0, 0.0, 0.0, 12.0]
    # sRPE = 4 x 30 + 6 x 48 = 408 AU; day 4's run lacks RPE -> NaN (unknown)
    assert out["srpe_au"].iloc[0] == pytest.approx(408.0)
    assert np.isnan(out["srpe_au"].iloc[3]) and out["srpe_au"].iloc[1] == 0.0
    # Banister: HRr = (150-60)/(190-60) = 0.692308; 30 min -> 30 x 0.692308 x 0.64 x
    # e^(1.92 x 0.692308) = 50.2201 (hand calculation)
    assert out["trimp"].iloc[0] == pytest.approx(50.2201 * (30 + 48) / 30, abs=1e-3)
    assert out.attrs["hr_source"] == "HR rest given; HR max given"
    assert list(out.columns) == list(DAILY_LOAD)
    assert out.dtypes.to_dict() == {k: np.dtype(c.dtype) for k, c in DAILY_LOAD.items()}


def test_trimp_female_coefficients():
    acts = _runs([("a", D(2024, 1, 1), 5.0)])  # 30 min at 150 bpm
    out = daily_load(acts, hr_rest_bpm=60, hr_max_bpm=190, sex="female")
    # 30 x 0.692308 x 0.86 x e^(1.67 x 0.692308) = 56.7584 (hand calculation)
    assert out["trimp"].iloc[0] == pytest.approx(56.7584, abs=1e-3)
    with pytest.raises(ValueError, match="sex="):
        daily_load(acts, sex="x")


def test_hr_estimated_and_said_so():
    acts = _runs([("a", D(2024, 1, 1), 5.0, {"avg_heart_rate_bpm": 161.0}),
                  ("b", D(2024, 1, 2), 5.0, {"avg_heart_rate_bpm": 140.0})])
    with pytest.warns(DataQualityWarning, match="HR max estimated 175 bpm"):
        out = daily_load(acts)
    # 161 / 0.92 = 175.0; rest assumed 60
    assert out.attrs["hr_max_bpm"] == pytest.approx(175.0)
    assert out.attrs["hr_rest_bpm"] == 60.0
    assert "assumed" in out.attrs["hr_source"]
    # a per-run maximum wins over the averages
    with pytest.warns(DataQualityWarning, match="highest per-run max HR"):
        out = daily_load(acts.assign(max_heart_rate_bpm=[181.0, 255.0]))
    assert out.attrs["hr_max_bpm"] == 181.0  # 255 ignored as an artefact


def test_daily_load_dates_as_datetime64_and_no_runs():
    acts = _runs([("a", D(2024, 1, 1), 5.0), ("b", D(2024, 1, 3), 6.0)])
    as_dt64 = acts.assign(local_date=pd.to_datetime(acts["local_date"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        pd.testing.assert_frame_equal(daily_load(as_dt64), daily_load(acts))
    empty = daily_load(acts.assign(sport="cycling"))
    assert len(empty) == 0 and list(empty.columns) == list(DAILY_LOAD)


def test_missing_distance_and_date_warn():
    acts = _runs([("a", D(2024, 1, 1), 5.0), ("b", D(2024, 1, 2), 6.0), ("c", None, 7.0)])
    acts.loc[1, "distance_m"] = np.nan
    with pytest.warns(DataQualityWarning) as record:
        out = daily_load(acts, hr_rest_bpm=50, hr_max_bpm=190)
    messages = " ".join(str(w.message) for w in record)
    assert "1 of 3 selected activities have no local_date" in messages
    assert "1 of 2 runs have no distance" in messages
    assert np.isnan(out["distance_km"].iloc[1])
    with pytest.raises(SchemaError, match="local_date"):
        daily_load(acts.drop(columns="local_date"))


# --------------------------------------------------------------------- spikes
def test_session_spikes_by_eye():
    acts = _runs([
        ("r1", D(2024, 1, 1), 10.0),   # no history -> first_run
        ("r2", D(2024, 1, 3), 11.0),   # 11/10 = +10 % -> none (<= 10 %)
        ("r3", D(2024, 1, 5), 13.0),   # 13/11 = +18.2 % -> small
        ("r4", D(2024, 1, 8), 20.0),   # 20/13 = +53.8 % -> moderate
        ("r5", D(2024, 1, 20), 5.0),   # 5/20 -> none
        ("r6", D(2024, 2, 7), 45.0),   # window Jan 8..Feb 6 holds r4 (20) -> +125 % large
        ("r7", D(2024, 3, 20), 8.0),   # nothing in Feb 19..Mar 19 -> first_run
        ("r8b", D(2024, 3, 21), 9.0, {"start_time_utc": pd.Timestamp("2024-03-21 18:00", tz="UTC")}),
        ("r8a", D(2024, 3, 21), 4.0, {"start_time_utc": pd.Timestamp("2024-03-21 07:00", tz="UTC")}),
    ])
    out = session_spikes(acts)
    # chronological: the morning run r8a comes before r8b, and counts as its history
    assert out["activity_id"].tolist() == ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8a", "r8b"]
    assert out["spike_category"].astype(object).tolist() == [
        "first_run", "none", "small", "moderate", "none", "large", "first_run", "none", "small"]
    np.testing.assert_allclose(
        out["longest_prev_30d_km"].to_numpy(),
        [np.nan, 10, 11, 13, 20, 20, np.nan, 8, 8], equal_nan=True)
    assert out.loc[5, "spike_ratio"] == pytest.approx(2.25)
    assert out.loc[5, "spike_pct"] == pytest.approx(125.0)
    assert out.loc[8, "spike_pct"] == pytest.approx(12.5)  # 9 / 8
    assert list(out.columns) == list(SESSION_SPIKES)


def test_session_spikes_30_day_edge():
    # d-30 is inside the window, d-31 is not
    inside = session_spikes(_runs([("a", D(2024, 1, 1), 10.0), ("b", D(2024, 1, 31), 12.0)]))
    outside = session_spikes(_runs([("a", D(2024, 1, 1), 10.0), ("b", D(2024, 2, 1), 12.0)]))
    assert inside["spike_category"].iloc[1] == "small"
    assert outside["spike_category"].iloc[1] == "first_run"


def test_session_spikes_count_known_missing_days():
    # the watch was lost Jan 10-14: runs whose window d-30..d touches those days say so
    acts = _runs([("a", D(2024, 1, 1), 10.0), ("b", D(2024, 1, 20), 15.0),
                  ("c", D(2024, 2, 13), 8.0), ("d", D(2024, 2, 14), 8.0)])
    lost = pd.date_range("2024-01-10", "2024-01-14", freq="D")
    out = session_spikes(acts, known_missing=lost)
    # b: all 5 days inside Dec 21..Jan 20; c: window Jan 14..Feb 13 holds Jan 14 only;
    # d: window Jan 15..Feb 14 holds none
    assert out["n_missing_days_30d"].tolist() == [0, 5, 1, 0]
    assert session_spikes(acts)["n_missing_days_30d"].tolist() == [0, 0, 0, 0]


def test_session_spikes_matches_brute_force(rng):
    n = 300
    days = np.sort(rng.integers(0, 400, size=n))
    km = np.round(rng.gamma(3.0, 3.0, size=n), 2)
    acts = _runs([(f"r{i}", D(2024, 1, 1) + dt.timedelta(days=int(d)), float(k))
                  for i, (d, k) in enumerate(zip(days, km, strict=True))])
    out = session_spikes(acts)
    for i in range(n):  # brute force: every earlier run within 30 days
        prev = [km[j] for j in range(i) if days[i] - days[j] <= 30]
        expected = max(prev) if prev else np.nan
        assert out["longest_prev_30d_km"].iloc[i] == pytest.approx(expected, nan_ok=True)


# --------------------------------------------------------------------- contracts
def test_inputs_unchanged():
    acts = _runs([("a", D(2024, 1, 1), 5.0, {"rpe": 3.0}), ("b", D(2024, 1, 9), 6.0)])
    before = acts.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        daily = daily_load(acts)
    session_spikes(acts)
    pd.testing.assert_frame_equal(acts, before)
    daily_before = daily.copy(deep=True)
    load_metrics(daily, known_missing=[D(2024, 1, 3)], infer_missing_gap_days=3)
    pd.testing.assert_frame_equal(daily, daily_before)


def test_columns_documented_in_schema():
    assert TABLES["daily_load"] is DAILY_LOAD
    assert TABLES["load_metrics"] is LOAD_METRICS
    assert TABLES["session_spikes"] is SESSION_SPIKES
    out = load_metrics(_daily([1.0] * 30))
    assert list(out.columns) == ["distance_km", "n_runs", *LOAD_METRICS]
    for name, col in LOAD_METRICS.items():
        assert str(out[name].dtype) == col.dtype, name


def test_docstring_examples_run():
    # the Examples sections are documentation users copy: keep them true
    import doctest

    import kneedata.metrics.load as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(0, 120), min_size=1, max_size=40),
    km=st.lists(st.floats(0.5, 60.0), min_size=40, max_size=40),
)
def test_daily_load_conserves_runs_and_distance(days, km):
    # property: rest days add nothing, every run lands on its day, and the 7-day
    # acute load is the plain rolling sum when nothing is missing
    acts = _runs([(f"r{i}", D(2024, 1, 1) + dt.timedelta(days=d), km[i])
                  for i, d in enumerate(days)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        daily = daily_load(acts)
    assert len(daily) == max(days) - min(days) + 1
    assert daily["n_runs"].sum() == len(days)
    assert daily["distance_km"].sum() == pytest.approx(sum(km[: len(days)]), rel=1e-12)
    out = load_metrics(daily, min_coverage=1.0)
    expected = daily["distance_km"].rolling(7).sum()
    np.testing.assert_allclose(out["acute_7d"], expected, rtol=1e-9, atol=1e-9)
