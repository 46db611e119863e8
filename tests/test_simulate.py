"""The simulator: reproducible, in the analysis-frame layout, with the stated hazard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import schema
from kneedata.episodes import diary_status, pain_episodes
from kneedata.frame import window_aggregate
from kneedata.simulate import SIMULATED_COLUMNS, TraitConfounding


def test_seeded_and_reproducible():
    a = kd.simulate_runner_days(400, seed=7)
    b = kd.simulate_runner_days(400, seed=7)
    c = kd.simulate_runner_days(400, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["spike_large"].equals(c["spike_large"])
    # a Generator works too and gives the same frame as its seed
    d = kd.simulate_runner_days(400, seed=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, d)
    with pytest.raises(ValueError, match="seed"):
        kd.simulate_runner_days(10, seed=None)


def test_layout_matches_the_analysis_frame_schema():
    frame = kd.simulate_cohort(3, 100, seed=1)
    assert tuple(frame.columns) == SIMULATED_COLUMNS
    for name in frame.columns:
        assert name in schema.FRAME, name
        assert str(frame[name].dtype) == schema.FRAME[name].dtype, name
    assert frame.groupby("runner_id").size().tolist() == [100, 100, 100]
    kd.frame.validate_frame(frame, ["spike_large", "null_exposure", "n_strength"])


def test_episode_bookkeeping():
    frame = kd.simulate_runner_days(3000, seed=11, washout_days=14)
    onset = frame["onset"].to_numpy()
    pain = frame["pain_day"].to_numpy()
    at_risk = frame["at_risk"].to_numpy()
    assert onset.sum() > 10
    assert frame.loc[frame["onset"], "at_risk"].all()
    assert frame.loc[frame["in_episode"], "pain_day"].all()
    # every pain day lies in an episode, and after the last pain day of an episode
    # the runner is not at risk for exactly washout_days days
    assert (frame["pain_day"] == frame["in_episode"]).all()
    for t in np.flatnonzero(onset):
        last = t
        while last + 1 < len(pain) and pain[last + 1]:
            last += 1
        blocked = at_risk[t + 1 : last + 15]
        assert not blocked.any()
        if last + 15 < len(at_risk):
            assert at_risk[last + 15]
    prior = np.cumsum(onset) - onset
    np.testing.assert_array_equal(frame["n_prior_episodes"].to_numpy(), prior)


def test_prodrome_precedes_the_recorded_onset():
    frame = kd.simulate_runner_days(2000, seed=5, prodrome_days=3)
    bio = np.flatnonzero(frame["bio_onset"].to_numpy())
    onset = np.flatnonzero(frame["onset"].to_numpy())
    n = min(len(bio), len(onset))
    np.testing.assert_array_equal(onset[:n], bio[:n] + 3)
    for t in bio[:n]:
        pain = frame["max_pain_0_10"].to_numpy()[t : t + 3]
        assert ((pain >= 1) & (pain < 3)).all()  # mild, below the pain-day threshold
        assert frame["at_risk"].to_numpy()[t : t + 3].all()  # the frame cannot see it


def test_round_trip_through_the_diary_contract():
    """The simulated outcome columns equal what kneedata.episodes derives from a diary."""
    frame = kd.simulate_runner_days(1500, seed=3)
    diary = pd.DataFrame({"date": frame["date"], "pain_0_10": frame["max_pain_0_10"],
                          "side": np.where(frame["pain_day"], "left", None)})
    episodes = pain_episodes(diary, complete=True)
    np.testing.assert_array_equal(episodes["onset_date"].to_numpy(),
                                  frame.loc[frame["onset"], "date"].to_numpy())
    status = diary_status(diary, complete=True)
    np.testing.assert_array_equal(status["at_risk"].to_numpy(), frame["at_risk"].to_numpy())
    np.testing.assert_array_equal(status["in_episode"].to_numpy(), frame["in_episode"].to_numpy())


def test_base_rate_and_exposure_prevalence():
    """Unexposed at-risk days start an episode at base_daily_risk (binomial check)."""
    frame = kd.simulate_cohort(60, 730, seed=21, base_daily_risk=0.02)
    rates = []
    for _, g in frame.groupby("runner_id"):
        spike = window_aggregate(g["spike_large"].to_numpy(dtype=float), "any", end_lag=1, length=7)
        rows = g["at_risk"].to_numpy() & (spike == 0)
        rows[:7] = False  # no onset can occur before a full window of history
        rates.append((g["onset"].to_numpy()[rows].sum(), rows.sum()))
    events, days = np.sum(rates, axis=0)
    p = events / days
    se = np.sqrt(0.02 * 0.98 / days)
    assert abs(p - 0.02) < 4 * se, (p, days)  # 4 binomial SEs
    # spike prevalence: P(run) x P(large | run) = 0.6 x 0.07 on pain-free days
    free = ~frame["in_episode"]
    assert frame.loc[free, "spike_large"].astype(float).mean() == pytest.approx(0.042, abs=0.004)


def test_bad_options():
    with pytest.raises(ValueError, match="not supported"):
        kd.simulate_runner_days(10, seed=1, effects={"cadence_spm": 2.0})
    with pytest.raises(ValueError, match="> 0"):
        kd.simulate_runner_days(10, seed=1, effects={"spike_large": 0.0})
    with pytest.raises(ValueError, match="spike_probs"):
        kd.simulate_runner_days(10, seed=1, spike_probs=(0.5, 0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="distinct runner_ids"):
        kd.simulate_cohort(2, 10, seed=1, runner_ids=["a", "a"])


def test_trait_confounding_raises_hazard_and_large_spikes_of_trait_runners():
    trait = TraitConfounding(prevalence=0.25, hazard_or=3.0, spike_factor=2.5)
    frame = kd.simulate_cohort(40, 730, seed=31, effects={"spike_large": 1.0},
                               trait_confounding=trait)
    # the first round(0.25 x 40) = 10 runners carry the trait (TraitConfounding docstring)
    assert frame.attrs["trait_runners"] == [f"sim-{i:03d}" for i in range(10)]
    has = frame["runner_id"].isin(frame.attrs["trait_runners"]).to_numpy()
    free = ~frame["in_episode"].to_numpy()
    large = frame["spike_large"].to_numpy(dtype=float)
    # P(large spike) on pain-free days = p_run x spike_probs[3] (x spike_factor):
    # 0.6 x 0.07 x 2.5 = 0.105 and 0.6 x 0.07 = 0.042; tolerance 4 binomial SEs
    for rows, p in ((has & free, 0.105), (~has & free, 0.042)):
        assert abs(large[rows].mean() - p) < 4 * np.sqrt(p * (1 - p) / rows.sum()), p
    # onset rate on at-risk days (spikes have no effect here): odds x 3 for the trait,
    # base 0.01 -> 0.0294 and 0.01; tolerance 4 binomial SEs
    at_risk = frame["at_risk"].to_numpy() & (frame.groupby("runner_id").cumcount() >= 7).to_numpy()
    onset = frame["onset"].to_numpy()
    for rows, p in ((has & at_risk, 0.03 / 1.02), (~has & at_risk, 0.01)):
        assert abs(onset[rows].mean() - p) < 4 * np.sqrt(p * (1 - p) / rows.sum()), p


def test_a_trait_without_effects_changes_nothing():
    # the option draws no random numbers: with no effect the frame is the default one
    plain = kd.simulate_cohort(6, 300, seed=9)
    inert = kd.simulate_cohort(6, 300, seed=9, trait_confounding=TraitConfounding(
        prevalence=0.5, hazard_or=1.0, spike_factor=1.0))
    pd.testing.assert_frame_equal(plain, inert)
    assert inert.attrs["trait_runners"] == ["sim-000", "sim-001", "sim-002"]
    assert "trait_runners" not in plain.attrs


def test_bad_trait_options():
    with pytest.raises(ValueError, match="prevalence"):
        kd.simulate_cohort(2, 10, seed=1, trait_confounding=TraitConfounding(prevalence=1.5))
    with pytest.raises(ValueError, match="hazard_or"):
        kd.simulate_cohort(2, 10, seed=1, trait_confounding=TraitConfounding(hazard_or=0.0))
    # 0.10 + 0.05 + 0.07 x 20 = 1.55 > 1
    with pytest.raises(ValueError, match="spike_factor"):
        kd.simulate_cohort(2, 10, seed=1, trait_confounding=TraitConfounding(spike_factor=20.0))


def test_prints_nothing(capsys):
    kd.simulate_cohort(2, 50, seed=1)
    kd.simulate_runner_days(50, seed=1, prodrome_days=2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
