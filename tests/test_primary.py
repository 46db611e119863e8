"""The primary single-runner analysis, checked on runners the code never shaped.

The runners come from ``benchmarks/single_runner_sim.py``, a generator that never
imports kneedata: it draws run distances, derives spikes with its own rule and
draws pain onsets from a stated daily odds ratio for the 7 days after a spike.
The full study (designs compared, bias, coverage, power) is
``benchmarks/single_runner_study.py``; these tests keep the default honest.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_modules import load

import kneedata as kd
from kneedata.models import STATUSES, TABLE_COLUMNS

REPO = Path(__file__).resolve().parents[1]


def _load_generator():
    return load('single_runner_sim')


sim = _load_generator()


def _primary(frame, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kd.primary_analysis(frame, ["spike_large"], **kwargs)


#: Fixed seed set of the coverage check. 60 runners: if the default's true
#: coverage were 0.80, seeing >= 54/60 covered has probability 0.012 (binomial),
#: so the 0.90 floor catches a real loss of coverage; at the study's measured
#: coverage (~0.95) these seeds give >= 0.90.
COVERAGE_SEEDS = range(9_000, 9_060)


def test_default_covers_the_true_odds_ratio_on_one_runner():
    # one runner, 3 years, ~15 episodes, spikes in ~8 % of weeks, true OR 3
    scenario = sim.Scenario(odds_ratio=3.0)
    covered, detected, episodes = [], [], []
    for seed in COVERAGE_SEEDS:
        frame, _ = sim.simulate(scenario, seed)
        row = _primary(frame).table.iloc[0]
        covered.append(row["ci_low"] <= 3.0 <= row["ci_high"])
        detected.append(bool(row["estimable"]) and row["ci_low"] > 1)
        episodes.append(row["n_episodes"])
    coverage, power = np.mean(covered), np.mean(detected)
    assert 8 <= np.median(episodes) <= 25  # the real use case
    assert coverage >= 0.90, coverage
    # power at OR 3 with ~15 episodes, measured in the study at about 0.4-0.5:
    # a floor of 0.2 fails if the default stops detecting what it should
    assert power >= 0.2, power


def test_default_rarely_calls_a_null_exposure_harmful():
    scenario = sim.Scenario(odds_ratio=1.0)
    false_pos = []
    for seed in range(9_100, 9_140):
        frame, _ = sim.simulate(scenario, seed)
        row = _primary(frame).table.iloc[0]
        false_pos.append(bool(row["estimable"]) and (row["ci_low"] > 1 or row["ci_high"] < 1))
    # 40 runners, nominal 5 %: 6 or more false positives has probability 0.05 at 5 %
    assert np.sum(false_pos) <= 5, np.sum(false_pos)


def test_primary_analysis_contract():
    frame, _ = sim.simulate(sim.Scenario(odds_ratio=6.0), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = kd.primary_analysis(frame.assign(n_strength=0))
    assert isinstance(result, kd.ModelResult) and result.model == "primary_analysis"
    assert tuple(result.table.columns) == TABLE_COLUMNS
    # default exposures: those present and non-zero (no strength log here)
    assert result.table["exposure"].tolist() == ["spike_large"]
    assert result.table["window"].tolist() == ["days -7..-1 (any)"]  # one window per exposure
    assert result.penalty == "logF" and result.ratio_kind == "odds"
    assert set(result.table["status"]) <= set(STATUSES)
    with pytest.raises(kd.models.ModelFitError, match="none of"):
        kd.primary_analysis(frame.drop(columns="spike_large"))


def _beginner(n_onsets: int = 3) -> pd.DataFrame:
    """A runner whose diary ends a month after its ``n_onsets``-th episode (a new diary).

    About 5 episodes in 2 years, so the first 3 span months of running with spikes.
    """
    frame, _ = sim.simulate(sim.Scenario(odds_ratio=3.0, years=2, target_episodes=5), 21)
    keep = frame["onset"] & (frame["onset"].cumsum() <= n_onsets)
    last = frame.loc[keep, "date"].max()
    return frame[frame["date"] <= last + pd.Timedelta(days=30)].assign(onset=keep)


def test_three_episodes_estimate_nothing_and_say_what_could_be_seen():
    frame = _beginner(3)
    result = _primary(frame)
    assert result.n_episodes == 3
    assert not result.table["estimable"].any()
    assert result.table["status"].eq("too_few_episodes").all()
    found = kd.detectable_odds_ratio(frame, ["spike_large"], n_sim=20, seed=2)
    row = found.iloc[0]
    assert row["n_episodes"] == 3
    assert row["detectable_odds_ratio"] == np.inf  # 3 episodes cannot show anything
    assert row["episodes_for_or_3"] > 3 and row["episodes_for_or_2"] > row["episodes_for_or_3"]


def test_detectable_odds_ratio_falls_with_more_episodes():
    few, _ = sim.simulate(sim.Scenario(odds_ratio=3.0, target_episodes=10), 5)
    many, _ = sim.simulate(sim.Scenario(odds_ratio=3.0, target_episodes=25, years=4), 5)
    a = kd.detectable_odds_ratio(few, ["spike_large"], n_sim=40, seed=1).iloc[0]
    b = kd.detectable_odds_ratio(many, ["spike_large"], n_sim=40, seed=1).iloc[0]
    assert b["n_episodes"] > a["n_episodes"]
    assert b["power_at_3"] > a["power_at_3"]
    assert b["detectable_odds_ratio"] <= a["detectable_odds_ratio"]
    with pytest.raises(ValueError, match="power"):
        kd.detectable_odds_ratio(few, ["spike_large"], power=1.5)


def test_report_says_not_enough_episodes_for_a_beginner():
    from types import SimpleNamespace

    from kneedata.report import _section_primary, fit_primary

    frame = _beginner(3)
    primary, detectable, errors, _ = fit_primary(frame)
    assert not errors and not primary.estimable
    tables = SimpleNamespace(derived=SimpleNamespace(diary=pd.DataFrame({"x": [1]})),
                             frame=frame, primary=primary, detectable=detectable,
                             model_errors=[])
    text = re.sub(r"<[^>]+>", " ", _section_primary(tables, {}))
    assert "Not enough episodes yet" in text
    assert "cannot estimate this yet" in text
    assert "times as often in the 7 days after" not in text  # no estimate offered
    # in time, at this runner's rate, both directions, power with its simulation error
    assert re.search(r"pain twice as often about \d+ episodes \((about [\d.]+|more than 50) more "
                     r"years of diary at your rate\)", text)
    assert "pain half as often" in text and "points)" in text


def test_detectable_odds_ratio_in_both_directions_with_its_simulation_error():
    frame, _ = sim.simulate(sim.Scenario(odds_ratio=1.0, target_episodes=20), 8)
    both = kd.detectable_odds_ratio(frame, ["spike_large"], n_sim=40, seed=3, direction="both")
    assert list(both["direction"]) == ["harmful", "protective"]
    harmful, protective = both.iloc[0], both.iloc[1]
    assert harmful["detectable_odds_ratio"] >= 1.5 and protective["detectable_odds_ratio"] <= 1 / 1.5
    for row in (harmful, protective):
        for k in (2, 3):
            p = row[f"power_at_{k}"]
            assert row[f"power_at_{k}_se"] == pytest.approx(np.sqrt(p * (1 - p) / 40))
    # a protective effect is rarer to see: fewer exposed onsets to inform it
    assert protective["power_at_2"] <= harmful["power_at_2"]
    alone = kd.detectable_odds_ratio(frame, ["spike_large"], n_sim=40, seed=3)
    assert list(alone["direction"]) == ["harmful"]
    assert alone.iloc[0]["power_at_2"] == harmful["power_at_2"]  # same draws as 'both'
    with pytest.raises(ValueError, match="direction"):
        kd.detectable_odds_ratio(frame, ["spike_large"], direction="up")
