"""The trailing cadence-speed baseline on hand-made run points whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kneedata.metrics.baseline import fit_cadence_line, trailing_cadence_baseline


def _points(rng, n_days=400, every=2, offset=None):
    """One run every ``every`` days on the line 130 + 11 v (+ offset by day), scatter 1 spm."""
    days = np.arange(0, n_days, every)
    v = rng.uniform(2.5, 3.8, len(days))
    c = 130 + 11 * v + rng.normal(0, 1.0, len(days))
    if offset is not None:
        c = c + offset(days)
    return pd.DataFrame({"date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
                         "speed_m_s": v, "cadence_spm": c})


def test_line_ignores_a_minority_block(rng):
    # 70 runs on the line, 30 runs 12 steps/min below it: the majority's line is kept
    v = rng.uniform(2.5, 3.8, 100)
    c = 130 + 11 * v + rng.normal(0, 1.0, 100)
    c[:30] -= 12
    line = fit_cadence_line(v, c)
    assert line["intercept_spm"] + 3 * line["slope_spm_per_m_s"] == pytest.approx(163, abs=0.5)
    assert line["residual_sd_spm"] == pytest.approx(1.0, abs=0.3)
    assert line["n_runs"] == 100


def test_same_pace_every_run_uses_the_prior_slope():
    # every run at 3.0 m/s: no information on the slope; the prior (10) sets it
    line = fit_cadence_line(np.full(20, 3.0), np.full(20, 165.0))
    assert line["slope_spm_per_m_s"] == pytest.approx(10.0)
    assert line["intercept_spm"] + 3.0 * line["slope_spm_per_m_s"] == pytest.approx(165.0)


def test_appending_later_runs_never_changes_earlier_values(rng):
    runs = _points(rng, offset=lambda d: np.where((d > 150) & (d < 206), -12.0, 0.0))
    whole = trailing_cadence_baseline(runs)
    early = trailing_cadence_baseline(runs.iloc[:120])
    pd.testing.assert_frame_equal(early, whole.iloc[:120])
    # and a run's own value or a same-day run never enters its window
    twin = pd.concat([runs.iloc[:60], runs.iloc[[59]].assign(cadence_spm=100.0)])
    out = trailing_cadence_baseline(twin)
    assert out["n_baseline_runs"].iloc[-1] == out["n_baseline_runs"].iloc[-2] == 59


def test_block_reads_its_planted_deviation_and_the_rest_zero(rng):
    block = lambda d: np.where((d >= 200) & (d < 256), -12.0, 0.0)  # noqa: E731
    runs = _points(rng, offset=block)
    out = trailing_cadence_baseline(runs)
    days = (runs["date"] - runs["date"].iloc[0]).dt.days.to_numpy()
    inside = (days >= 200) & (days < 256)
    usual = 130 + 11 * runs["speed_m_s"]
    expected = (-12 / usual * 100)[inside]
    # 1 steps/min day-to-day scatter = 0.6 %: the block's median within 0.5 points
    assert out.loc[inside, "cadence_deviation_pct"].median() == pytest.approx(
        expected.median(), abs=0.5)
    assert out.loc[~inside, "cadence_deviation_pct"].median() == pytest.approx(0, abs=0.3)


def test_a_lasting_change_becomes_the_new_usual(rng):
    # from day 100 on, 12 steps/min lower for good: once the change fills over half of
    # the 180-day window, the line follows it and the deviation returns to about 0
    runs = _points(rng, n_days=500, offset=lambda d: np.where(d >= 100, -12.0, 0.0))
    out = trailing_cadence_baseline(runs)
    days = (runs["date"] - runs["date"].iloc[0]).dt.days.to_numpy()
    assert out.loc[(days >= 100) & (days < 150), "cadence_deviation_pct"].median() < -6
    assert out.loc[days >= 300, "cadence_deviation_pct"].abs().median() < 1


def test_warm_up_window_and_extrapolation(rng):
    runs = _points(rng, n_days=60, every=3)
    out = trailing_cadence_baseline(runs, window_days=30, min_runs=5)
    assert out["cadence_deviation_pct"].iloc[:5].isna().all()
    assert out["baseline_note"].iloc[0] == "warm-up: 0 of 5 runs in the previous 30 days"
    assert out["n_baseline_runs"].max() == 10  # 30 days / a run every 3 days
    assert out["cadence_deviation_pct"].iloc[5:].notna().all()
    fast = pd.concat([runs, pd.DataFrame({"date": [runs["date"].max() + pd.Timedelta("1D")],
                                          "speed_m_s": [5.5], "cadence_spm": [190.0]})],
                     ignore_index=True)
    last = trailing_cadence_baseline(fast, window_days=30, min_runs=5).iloc[-1]
    assert np.isnan(last["cadence_deviation_pct"])
    assert "outside the baseline's speeds" in last["baseline_note"]
    with pytest.raises(ValueError, match="min_runs >= 2"):
        trailing_cadence_baseline(runs, min_runs=1)
