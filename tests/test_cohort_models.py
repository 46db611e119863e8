"""kneedata.cohort_models on simulated cohorts with a known spike effect and trait confounding.

The truth comes from kneedata.simulate_cohort: a large single-session spike in the
previous week multiplies the daily onset odds by 2 (true OR 2, or 1 for the null); a
runner trait carried by 30 % of runners multiplies the onset odds by 4 and large
spikes by 3, so runners with many spikes are also the runners with many onsets.
Within-runner designs must recover the truth; the pooled GEE must overstate it.
At a daily risk of ~1 % the rate ratio of the conditional Poisson model and the odds
ratio differ by < 2 % (simulate module docstring), well inside the intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kneedata import case_series, daily_model, simulate_cohort
from kneedata.cohort_models import compare_designs, runner_effects, runner_fixed_effects
from kneedata.simulate import TraitConfounding

TRAIT = TraitConfounding(prevalence=0.3, hazard_or=4.0, spike_factor=3.0)


def cohort(seed, *, n_runners=30, true_or=2.0):
    return simulate_cohort(n_runners, 365, seed=seed, effects={"spike_large": true_or},
                           trait_confounding=TRAIT)


@pytest.mark.slow
def test_case_series_covers_the_truth_under_trait_confounding():
    # 20 replicates: with nominal 95 % coverage, P(covered <= 15 of 20) = 0.3 %
    covered, estimates = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(20):
            row = case_series(cohort(seed), ["spike_large"]).table.iloc[0]
            covered += row["ci_low"] <= 2.0 <= row["ci_high"]
            estimates.append(row["log_ratio"])
    assert covered >= 16
    # unbiased: the mean log rate ratio within 2 Monte Carlo SEs (~0.15 each fit) of log 2
    assert abs(np.mean(estimates) - np.log(2.0)) < 2 * 0.15 / np.sqrt(20) + 0.02


@pytest.mark.slow
def test_pooled_model_biased_where_within_runner_designs_are_not():
    frame = cohort(100, n_runners=40, true_or=1.0)  # no spike effect at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = daily_model(frame, ["spike_large"], lags=(7,), groups="runner_id").table.iloc[0]
        within = runner_fixed_effects(frame, ["spike_large"]).table.iloc[0]
    # the trait makes spikes look harmful between runners (spike OR 1 in truth)
    assert pooled["ci_low"] > 1.0
    assert within["ci_low"] <= 1.0 <= within["ci_high"]


def test_strata_and_fixed_effects_settings():
    frame = cohort(5, n_runners=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_period = case_series(frame, ["spike_large"], period_days=91)
        by_runner = runner_fixed_effects(frame, ["spike_large"])
    # one stratum per runner (8 runners) against runner x 91-day periods (365 days: >= 4)
    assert by_runner.design["period"].nunique() == 8 < by_period.design["period"].nunique()
    assert by_runner.table["ratio_kind"].iloc[0] == "rate"
    assert 0 < by_runner.n_episodes <= int(frame["onset"].sum())


@pytest.mark.slow
def test_hierarchical_model_reports_the_spread_across_runners():
    frame = cohort(7, n_runners=12)
    effects = runner_effects(frame, "spike_large")
    row = effects.table.iloc[0]
    assert 0 < row["sd_log_or"] < 3 and row["range_low"] < row["ratio"] < row["range_high"]
    assert len(effects.runners) == 12
    assert any("prior" in w or "variational" in w for w in effects.warnings)
    table = compare_designs(frame, "spike_large", hierarchical=False)
    assert table["within_runner"].tolist() == [True, True, True, False]
    assert table["ratio"].notna().all()
