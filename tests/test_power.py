"""detectable_odds_ratio: the sufficient-statistic fits give the refits' answer exactly.

The reference is the primary engine refitted on every simulated history
(``method="refit"``, statsmodels); the same seed draws the same histories, so the
powers, their simulation errors and the episodes needed must be the same numbers,
not merely within the simulation error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_modules import load

import kneedata as kd
from kneedata.models.power import _refit, _SufficientFits

REPO = Path(__file__).resolve().parents[1]


def _generator():
    return load('single_runner_sim')


@pytest.mark.slow
@pytest.mark.parametrize(("odds_ratio", "episodes", "seed", "direction"),
                         [(1.0, 20, 8, "both"), (3.0, 10, 5, "harmful")])
def test_sufficient_fits_give_the_refitted_powers(odds_ratio, episodes, seed, direction):
    sim = _generator()
    frame, _ = sim.simulate(sim.Scenario(odds_ratio=odds_ratio, target_episodes=episodes), seed)
    kwargs = {"n_sim": 10, "seed": 4, "direction": direction}
    refit = kd.detectable_odds_ratio(frame, ["spike_large"], method="refit", **kwargs)
    fast = kd.detectable_odds_ratio(frame, ["spike_large"], **kwargs)
    pd.testing.assert_frame_equal(fast, refit)
    assert (refit["n_episodes"] > 0).all()


def test_fits_of_a_continuous_exposure_match_the_engine():
    rng = np.random.default_rng(3)
    x = np.round(rng.gamma(2.0, 1.5, 900), 3)  # almost every (sum y, sum x y) is new
    prob = 0.01 * 1.4 ** x
    ys = [rng.random(x.size) < prob for _ in range(6)]
    ys = [y for y in ys if y.sum() >= 5]
    fast, slow = _SufficientFits(x)(x, ys), _refit(x, ys)
    assert len(ys) >= 3
    # the engine's IRLS stops at its tolerance: its standard errors agree to ~1e-6
    np.testing.assert_allclose(fast, slow, rtol=1e-5)


def test_an_unknown_method_is_refused():
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=5), "onset": False})
    with pytest.raises(ValueError, match="method"):
        kd.detectable_odds_ratio(frame, ["spike_large"], method="guess")
