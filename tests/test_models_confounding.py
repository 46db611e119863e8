"""Confounding by a time-invariant runner trait: self-matching removes it, pooling does not.

Scenario (``kneedata.simulate.TraitConfounding`` defaults): 30 % of runners have a trait
("weak hips") that multiplies their daily odds of onset by 4 and the probability that a
run is a large spike by 3. The case-crossover compares each episode with the same
runner's own weeks, so the trait cancels; ``daily_model(..., groups="runner_id")`` is a
GEE on the pooled runner-days with one common intercept (the cluster only corrects the
standard errors), so runners with the trait, who spike more *and* get hurt more, make
spikes look harmful.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import kneedata as kd
from kneedata.simulate import TraitConfounding

Z95 = 1.959964
N_RUNNERS, N_DAYS = 20, 365  # as in tests/test_models.py: ~70-95 episodes per cohort
TRAIT = TraitConfounding(prevalence=0.3, hazard_or=4.0, spike_factor=3.0)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _expected_pooled_log_or(trait: TraitConfounding, true_or: float, *, base=0.01, p_run=0.6,
                            p_large=0.07, window=7, blocked_days=4 + 14) -> float:
    """Large-sample log OR of spike_large (7-day 'any' window) in a pooled logistic model.

    By hand from the simulator's defaults: a runner group with hazard odds multiplier
    ``h`` and large-spike probability ``q`` per run has an exposed window with
    probability ``w = 1 - (1 - p_run q)^7`` and daily risk ``r0`` (unexposed) or ``r1``
    (exposed, odds x true_or). Its share of at-risk days is its share of runners times
    ``1 / (1 + mean risk x blocked_days)`` (each onset blocks ~4 pain + 14 washout days).
    The pooled model compares the pooled risk of exposed and unexposed days.
    """
    groups = []
    for share, h, q in ((trait.prevalence, trait.hazard_or, p_large * trait.spike_factor),
                        (1 - trait.prevalence, 1.0, p_large)):
        w = 1 - (1 - p_run * q) ** window
        odds0 = base / (1 - base) * h
        r0, r1 = odds0 / (1 + odds0), odds0 * true_or / (1 + odds0 * true_or)
        at_risk = share / (1 + (w * r1 + (1 - w) * r0) * blocked_days)
        groups.append((at_risk, w, r0, r1))
    exposed = sum(d * w * r1 for d, w, _, r1 in groups) / sum(d * w for d, w, _, _ in groups)
    unexposed = (sum(d * (1 - w) * r0 for d, w, r0, _ in groups)
                 / sum(d * (1 - w) for d, w, _, _ in groups))
    return float(np.log(exposed / (1 - exposed)) - np.log(unexposed / (1 - unexposed)))


def _fits(true_or: float, n_seeds: int, seed0: int, *, adjusted: bool = False):
    """Log OR and SE of spike_large per seed: case-crossover, pooled GEE (and trait-adjusted)."""
    out: dict[str, list[tuple[float, float]]] = {"cc": [], "pooled": [], "adjusted": []}
    for seed in range(seed0, seed0 + n_seeds):
        frame = kd.simulate_cohort(N_RUNNERS, N_DAYS, seed=seed,
                                   effects={"spike_large": true_or}, trait_confounding=TRAIT)
        cc = _quiet(kd.case_crossover, frame, ["spike_large"]).table.iloc[0]
        pooled = _quiet(kd.daily_model, frame, ["spike_large"], lags=(7,),
                        groups="runner_id").table.iloc[0]
        out["cc"].append((cc["log_ratio"], cc["std_error"]))
        out["pooled"].append((pooled["log_ratio"], pooled["std_error"]))
        if adjusted:
            # the trait measured and entered as a term (constant within a runner)
            marked = frame.assign(weak_hips=frame["runner_id"].isin(frame.attrs["trait_runners"]))
            adj = _quiet(kd.daily_model, marked, ["spike_large", "weak_hips"], lags=(7,),
                         groups="runner_id").table
            row = adj[adj["exposure"] == "spike_large"].iloc[0]
            out["adjusted"].append((row["log_ratio"], row["std_error"]))
    return {k: _summary(v, np.log(true_or)) for k, v in out.items() if v}


def _summary(values, truth):
    b, se = np.array(values).T
    mean = b.mean()
    mcse = b.std(ddof=1) / np.sqrt(len(b))
    cover = float((np.abs(b - truth) <= Z95 * se).mean())
    return mean, mcse, cover


def test_expected_pooled_bias_by_hand_is_upward():
    # the hand formula itself: no trait -> no bias; the trait -> upward bias
    assert _expected_pooled_log_or(TraitConfounding(prevalence=0.0), 1.0) == pytest.approx(0.0, abs=1e-12)
    assert _expected_pooled_log_or(TraitConfounding(spike_factor=1.0), 1.0) == pytest.approx(0.0, abs=1e-12)
    assert _expected_pooled_log_or(TRAIT, 1.0) == pytest.approx(0.461, abs=0.001)
    assert _expected_pooled_log_or(TRAIT, 3.0) == pytest.approx(1.511, abs=0.001)


@pytest.mark.slow
def test_null_spike_effect_case_crossover_unbiased_pooled_model_biased():
    """True spike OR 1. Measured (100 seeds, 2026): case-crossover mean log OR -0.055
    (MCSE 0.038, coverage 0.94); pooled GEE +0.469 (MCSE 0.022, coverage 0.36; hand
    formula 0.461); GEE adjusted for the trait -0.018 (MCSE 0.023, coverage 0.92)."""
    res = _fits(1.0, 100, 5000, adjusted=True)
    cc_mean, cc_mcse, cc_cover = res["cc"]
    pooled_mean, pooled_mcse, pooled_cover = res["pooled"]
    adj_mean, adj_mcse, adj_cover = res["adjusted"]
    # self-matched: centred on log 1 = 0 within 3 Monte-Carlo SEs + 0.05 (small-sample
    # bias of conditional logit with ~80 episodes, as in tests/test_models.py)
    assert abs(cc_mean) < 3 * cc_mcse + 0.05, res
    # 100 seeds: coverage of a true 95 % interval is in [0.85, 0.99] with p > 0.999
    assert 0.85 <= cc_cover <= 0.99, res
    # pooled: biased upwards, to the large-sample value of the hand formula (0.461)
    # within 3 MCSE + 0.05 (the formula approximates the at-risk share of each group)
    expected = _expected_pooled_log_or(TRAIT, 1.0)
    assert abs(pooled_mean - expected) < 3 * pooled_mcse + 0.05, (expected, res)
    assert pooled_mean > cc_mean + 0.25, res  # direction, and far beyond the noise
    # its intervals sit around the wrong value: coverage far below 0.95 (binomial SD of
    # a 100-seed coverage <= 0.05, so 0.6 is > 5 SD under 0.85)
    assert pooled_cover < 0.6, res
    # entering the trait as a term removes the bias: it is confounding, not the GEE
    assert abs(adj_mean) < 3 * adj_mcse + 0.05, res
    assert 0.85 <= adj_cover <= 0.99, res


@pytest.mark.slow
def test_harmful_spike_effect_pooled_model_overstates_it():
    """True spike OR 3. Measured (100 seeds, 2026): case-crossover mean log OR 1.209
    (OR 3.35, MCSE 0.032, coverage 0.95); pooled GEE 1.505 (OR 4.50, MCSE 0.019,
    coverage 0.33; hand formula 1.511). Here 50 seeds: 1.253 (MCSE 0.039, coverage 0.98)
    and 1.504 (MCSE 0.022, coverage 0.30)."""
    log3 = np.log(3.0)
    res = _fits(3.0, 50, 5000)
    cc_mean, cc_mcse, cc_cover = res["cc"]
    pooled_mean, pooled_mcse, pooled_cover = res["pooled"]
    # the case-crossover runs ~0.10 high here: a harmful exposure makes onsets, onsets
    # block the following ~18 days from being referents, so referent windows are
    # selected for fewer spikes; the effect grows with the daily risk (measured over
    # 200-300 seeds: +0.05 at 1 %/day, +0.12-0.13 at 4 %/day for everyone or for the 30 %
    # with the trait, +0.06 with no washout). Hence 3 MCSE + 0.15.
    assert abs(cc_mean - log3) < 3 * cc_mcse + 0.15, res
    # 50 seeds: binomial SD of the coverage 0.031 -> [0.82, 1.0]
    assert 0.82 <= cc_cover <= 1.0, res
    expected = _expected_pooled_log_or(TRAIT, 3.0)
    assert abs(pooled_mean - expected) < 3 * pooled_mcse + 0.05, (expected, res)
    # direction: the pooled model overstates the truth (expected +0.41; 0.25 is > 7
    # MCSE below) and more than the case-crossover does (measured gap 0.25, MCSE of the
    # gap about 0.045)
    assert pooled_mean > log3 + 0.25, res
    assert pooled_mean > cc_mean, res
    # 50 seeds: with a true 95 % coverage 0.65 would be 10 binomial SDs (0.031) low;
    # measured 0.30-0.33 (binomial SD about 0.066 there, so 0.65 is > 5 SDs above)
    assert pooled_cover < 0.65, res
