"""The log-F(2,2) fits against a direct maximisation of the penalised likelihood.

The models add the log-F(2,2) prior by data augmentation (pseudo-rows for the
unconditional logistic model, pseudo-strata for the conditional ones). Here the
same estimate is computed the long way: ``l(b) + sum_j [b_j - 2 log(1 + e^(b_j))]``
over the exposure terms only (never the intercept or calendar terms), maximised by
scipy on the rows the model says it used. The reference log-likelihoods are
written out below (plain and conditional logistic, conditional Poisson, which is
also the Breslow partial likelihood of the Cox model's unit-interval risk sets) and
never call the code under test.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import expit, log1p, logsumexp

import kneedata as kd
from kneedata.models.cox import _fit_cox
from kneedata.models.engines import (
    _fit_binomial,
    _fit_conditional,
    _logf_rows,
    _logf_strata,
)

TOL = 1e-4


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _log_f(b: np.ndarray) -> float:
    """Sum of log-F(2,2) log-densities (up to a constant): b - 2 log(1 + e^b)."""
    return float(np.sum(b - 2.0 * np.logaddexp(0.0, b)))


def _log_f_grad(b: np.ndarray) -> np.ndarray:
    return 1.0 - 2.0 * expit(b)


def _maximise(fun, grad, k: int) -> np.ndarray:
    res = optimize.minimize(lambda b: -fun(b), np.zeros(k), jac=lambda b: -grad(b),
                            method="BFGS", options={"gtol": 1e-10, "maxiter": 10_000})
    assert np.max(np.abs(grad(res.x))) < 1e-6, res
    return res.x


def ref_logistic(y: np.ndarray, X: np.ndarray, penalised: np.ndarray) -> np.ndarray:
    """Maximise the logistic log-likelihood plus log-F(2,2) on the columns ``penalised``."""

    def fun(b):
        eta = X @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta))) + _log_f(b[penalised])

    def grad(b):
        g = X.T @ (y - expit(X @ b))
        g[penalised] += _log_f_grad(b[penalised])
        return g

    return _maximise(fun, grad, X.shape[1])


def ref_conditional_logistic(y: np.ndarray, X: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Conditional logistic likelihood (any number of cases per stratum) plus log-F(2,2)."""
    blocks = []
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        m = int(y[rows].sum())
        if m in (0, len(rows)):
            continue  # no information
        subsets = np.array(list(itertools.combinations(range(len(rows)), m)))
        # sufficient statistic of every subset of m rows, and of the observed cases
        sums = X[rows][subsets].sum(axis=1)
        blocks.append((X[rows][y[rows] == 1].sum(axis=0), sums))

    def fun(b):
        return sum(float(obs @ b - logsumexp(sums @ b)) for obs, sums in blocks) + _log_f(b)

    def grad(b):
        g = _log_f_grad(b).copy()
        for obs, sums in blocks:
            w = np.exp(sums @ b - logsumexp(sums @ b))
            g += obs - w @ sums
        return g

    return _maximise(fun, grad, X.shape[1])


def ref_conditional_poisson(y: np.ndarray, X: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Conditional Poisson (multinomial within stratum) likelihood plus log-F(2,2)."""
    parts = [(y[strata == s], X[strata == s]) for s in np.unique(strata)]

    def fun(b):
        return sum(float(ys @ (Xs @ b) - ys.sum() * logsumexp(Xs @ b)) for ys, Xs in parts) \
            + _log_f(b)

    def grad(b):
        g = _log_f_grad(b).copy()
        for ys, Xs in parts:
            w = np.exp(Xs @ b - logsumexp(Xs @ b))
            g += Xs.T @ ys - ys.sum() * (Xs.T @ w)
        return g

    return _maximise(fun, grad, X.shape[1])


# ------------------------------------------------------------------ frames
def runner_frame(seed: int, *, n_days: int = 3 * 365, runner: str = "r1",
                 base: float = 0.012) -> pd.DataFrame:
    """One runner: three exposures, onsets more likely after exposure ``a``, 14-day washout."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_days, freq="D").as_unit("ns")
    a = rng.random(n_days) < 0.15
    n_b = rng.poisson(0.6, n_days).astype(float)
    c = rng.normal(50.0, 10.0, n_days)
    a7 = pd.Series(a.astype(float)).rolling(7, min_periods=7).max().shift(1).fillna(0).to_numpy()
    prob = base * np.exp(1.0 * a7)
    onset = np.zeros(n_days, bool)
    in_episode = np.zeros(n_days, bool)
    at_risk = np.ones(n_days, bool)
    t = 10
    while t < n_days:
        if rng.random() < prob[t]:
            onset[t] = True
            in_episode[t:t + 3] = True
            at_risk[t + 1:t + 17] = False
            t += 17
        else:
            t += 1
    return pd.DataFrame({"runner_id": runner, "date": dates, "onset": onset,
                         "in_episode": in_episode, "at_risk": at_risk,
                         "a": a, "n_b": n_b, "c": c})


AGG = {"a": "any", "n_b": "sum", "c": "mean"}


def _log_ratios(result, terms):
    table = result.table.set_index("term")
    return table.loc[terms, "log_ratio"].to_numpy(dtype=float)


# ------------------------------------------------------- unconditional logistic
@pytest.mark.parametrize("exposures", [["a"], ["a", "n_b", "c"]])
def test_primary_analysis_is_the_penalised_logistic_maximum(exposures):
    frame = runner_frame(1)
    result = _quiet(kd.primary_analysis, frame, exposures, agg=AGG)
    assert result.penalty == "logF"
    used = result.settings["terms_used"]
    assert len(used) == len(exposures)
    d = result.design
    X = np.column_stack([np.ones(len(d)), d[used].to_numpy(dtype=float)])
    y = d["onset"].to_numpy(dtype=float)
    ref = ref_logistic(y, X, penalised=np.arange(1, X.shape[1]))
    np.testing.assert_allclose(_log_ratios(result, used), ref[1:], atol=TOL)
    # and the penalty matters here: the maximum-likelihood estimate is elsewhere
    ml = _quiet(kd.daily_model, frame, exposures, agg=AGG, penalty=None, cov_type="nonrobust")
    assert np.max(np.abs(_log_ratios(ml, used) - ref[1:])) > 10 * TOL


def test_prior_is_never_on_the_intercept_or_the_calendar_terms():
    rng = np.random.default_rng(7)
    n = 400
    cal = rng.normal(size=(n, 2))
    x = (rng.random((n, 2)) < 0.2).astype(float)
    eta = -2.5 + cal @ [0.4, -0.3] + x @ [1.2, 0.0]
    y = (rng.random(n) < expit(eta)).astype(float)
    X = pd.DataFrame(np.column_stack([np.ones(n), cal, x]),
                     columns=["const", "calendar_1", "calendar_2", "x1", "x2"])
    fit = _quiet(_fit_binomial, y, X, k=2, link="logit", penalty="logF", cov_type="nonrobust",
                 hac_lags=0, groups=None, cov_struct="independence")
    ref = ref_logistic(y, X.to_numpy(), penalised=np.array([3, 4]))
    np.testing.assert_allclose(fit.full, ref, atol=TOL)
    np.testing.assert_allclose(fit.params, ref[3:], atol=TOL)
    # the pseudo-rows: one event and one non-event per term, that term's column only
    Xa, ya = _logf_rows(2, 3, 5)
    np.testing.assert_array_equal(Xa, [[0, 0, 0, 1, 0], [0, 0, 0, 1, 0],
                                       [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]])
    np.testing.assert_array_equal(ya, [1, 0, 1, 0])


def test_gee_independence_gives_the_same_penalised_maximum():
    # several runners: GEE with an independence working correlation has the GLM's
    # estimating equations, so the same penalised maximum
    frames = [runner_frame(s, runner=f"r{s}", n_days=500, base=0.02) for s in (3, 4)]
    frame = pd.concat(frames, ignore_index=True)
    result = _quiet(kd.daily_model, frame, ["a", "n_b"], agg=AGG, penalty="logF")
    assert result.settings["method"] == "GEE"
    used = result.settings["terms_used"]
    d = result.design
    X = np.column_stack([np.ones(len(d)), d[used].to_numpy(dtype=float)])
    ref = ref_logistic(d["onset"].to_numpy(dtype=float), X, penalised=np.arange(1, X.shape[1]))
    np.testing.assert_allclose(_log_ratios(result, used), ref[1:], atol=TOL)


# ---------------------------------------------------------- conditional models
@pytest.mark.parametrize("exposures", [["a"], ["a", "n_b", "c"]])
def test_case_crossover_is_the_penalised_conditional_maximum(exposures):
    frame = runner_frame(2, n_days=4 * 365)
    result = _quiet(kd.case_crossover, frame, exposures, agg=AGG, penalty="logF",
                    stratum_days=84)
    used = result.settings["exposures_used"]
    d = result.design
    ref = ref_conditional_logistic(d["case"].to_numpy(dtype=float),
                                   d[used].to_numpy(dtype=float), d["stratum"].to_numpy())
    np.testing.assert_allclose(_log_ratios(result, used), ref, atol=TOL)


def test_case_series_is_the_penalised_conditional_poisson_maximum():
    frame = runner_frame(5)
    result = _quiet(kd.case_series, frame, ["a", "n_b"], agg=AGG, penalty="logF",
                    period_days=182)
    used = result.settings["terms_used"]
    d = result.design
    y = d["onset"].to_numpy(dtype=float)
    has_onset = d.groupby("period")["onset"].transform("sum").to_numpy() > 0
    ref = ref_conditional_poisson(y[has_onset], d.loc[has_onset, used].to_numpy(dtype=float),
                                  d.loc[has_onset, "period"].to_numpy())
    np.testing.assert_allclose(_log_ratios(result, used), ref, atol=TOL)


def test_several_cases_per_stratum_and_pseudo_strata_stay_apart():
    # strata with 1 or 2 cases among 3-5 rows; the pseudo-strata must never join
    # a real stratum (that would change the likelihood of both)
    from statsmodels.discrete.conditional_models import ConditionalLogit

    rng = np.random.default_rng(11)
    sizes = rng.integers(3, 6, size=25)
    strata = np.repeat(np.arange(25), sizes)
    X = np.column_stack([rng.random(strata.size) < 0.3, rng.normal(size=strata.size)]).astype(float)
    y = np.zeros(strata.size)
    for s, size in enumerate(sizes):
        rows = np.flatnonzero(strata == s)
        w = np.exp(X[rows] @ [1.0, 0.5])
        y[rng.choice(rows, size=1 + (size > 4), replace=False, p=w / w.sum())] = 1.0
    fit = _quiet(_fit_conditional, ConditionalLogit, y, X, strata, ["x1", "x2"], "logF")
    np.testing.assert_allclose(fit.params, ref_conditional_logistic(y, X, strata), atol=TOL)
    Xa, ya, ga = _logf_strata(2, int(strata.max()) + 1)
    assert ga.min() > strata.max()
    assert np.unique(ga).size == 4 and np.all(np.bincount(ga - ga.min()) == 2)
    # per pseudo-stratum: one case; the case holds e_j in the first, the referent in the second
    np.testing.assert_array_equal(ya, [1, 0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(Xa, [[1, 0], [0, 0], [0, 0], [1, 0],
                                       [0, 1], [0, 0], [0, 0], [0, 1]])


def test_one_pseudo_stratum_pair_is_the_log_f_density():
    # b - 2 log(1 + e^b), maximised at b = 0, and only there
    from statsmodels.discrete.conditional_models import ConditionalLogit

    Xa, ya, ga = _logf_strata(1, 0)
    model = ConditionalLogit(ya, Xa, groups=ga)
    for b in (-2.0, 0.0, 0.7, 3.0):
        assert model.loglike(np.array([b])) == pytest.approx(b - 2 * log1p(np.exp(b)), abs=1e-12)


# ------------------------------------------------------------------ recurrent Cox
def _risk_sets(strata: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Unit intervals: the risk set of event time k in a stratum is its rows with stop == k."""
    return pd.factorize(pd.MultiIndex.from_arrays([strata, stop]))[0]


def test_recurrent_cox_is_the_penalised_partial_likelihood_maximum():
    # Breslow ties: each risk set contributes sum_events x b - d log sum_risk e^(x b),
    # the conditional Poisson likelihood of the risk sets
    frame = runner_frame(6)
    result = _quiet(kd.recurrent_cox, frame, ["a", "n_b"], agg=AGG, penalty="logF",
                    ties="breslow")
    used = result.settings["terms_used"]
    d = result.design
    sets = _risk_sets(d["stratum"].to_numpy(), d["stop"].to_numpy())
    status = d["status"].to_numpy(dtype=float)
    keep = np.bincount(sets, weights=status)[sets] > 0
    assert result.settings["n_rows_in_risk_sets"] == int(keep.sum())
    ref = ref_conditional_poisson(status[keep], d.loc[keep, used].to_numpy(dtype=float),
                                  sets[keep])
    np.testing.assert_allclose(_log_ratios(result, used), ref, atol=TOL)


def test_cox_pseudo_strata_stay_apart_from_the_last_real_stratum():
    # events at time 1 in the highest real stratum: a pseudo-stratum (also at time 1)
    # given that stratum's number would join its risk set
    rng = np.random.default_rng(13)
    n = 300
    strata = rng.integers(0, 3, n)
    stop = rng.integers(1, 6, n).astype(float)
    X = np.column_stack([rng.random(n) < 0.3, rng.normal(size=n)]).astype(float)
    status = (rng.random(n) < 0.15 * np.exp(0.8 * X[:, 0])).astype(float)
    status[np.flatnonzero((strata == 2) & (stop == 1))[:2]] = 1.0
    fit = _quiet(_fit_cox, X, stop, status, strata, np.zeros(n, np.int64), names=["x1", "x2"],
                 ties="breslow", penalty="logF", clustered=False)
    sets = _risk_sets(strata, stop)
    keep = np.bincount(sets, weights=status)[sets] > 0
    ref = ref_conditional_poisson(status[keep], X[keep], sets[keep])
    np.testing.assert_allclose(fit.params, ref, atol=TOL)
