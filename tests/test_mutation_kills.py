"""Tests written to kill the mutants that survived ``benchmarks/mutation.py`` (docs/mutation.md).

Each pins a reported number the earlier tests left free: the standard errors, the
Wald intervals, the p-values and their Benjamini-Hochberg adjustment, the status
rules at their edges, and the profile-likelihood bound of a separated term. The
references are computed here from the likelihoods of ``tests/test_logf_reference.py``
(numerical Hessians by central differences), never by the code under test.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

import kneedata as kd
from kneedata.models import MIN_EPISODES, MIN_INFORMATIVE
from kneedata.models.engines import _LOG_RATIO_SEPARATED, _term_status

_SPEC = importlib.util.spec_from_file_location(  # the references, without a tests package
    "logf_reference", Path(__file__).with_name("test_logf_reference.py"))
_REF = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_REF)
AGG, runner_frame = _REF.AGG, _REF.runner_frame
ref_conditional_logistic, ref_logistic = _REF.ref_conditional_logistic, _REF.ref_logistic

Z95 = stats.norm.ppf(0.975)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _hessian(fun, b: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    k = b.size
    out = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            out[i, j] = (fun(b + e_i + e_j) - fun(b + e_i - e_j) - fun(b - e_i + e_j)
                         + fun(b - e_i - e_j)) / (4 * h * h)
    return out


def _conditional_loglike(y: np.ndarray, X: np.ndarray, strata: np.ndarray):
    """Conditional logistic log-likelihood of the strata with one case (vectorised)."""
    keep = np.isin(strata, np.unique(strata[y == 1]))
    one = np.bincount(np.unique(strata[keep], return_inverse=True)[1], weights=y[keep])
    assert np.all(one == 1)  # the case-crossover: one case per stratum
    codes = np.unique(strata[keep], return_inverse=True)[1]
    Xk, cases = X[keep], y[keep] == 1

    def loglike(b: np.ndarray) -> float:
        eta = Xk @ np.atleast_1d(b)
        top = eta.max()
        return float(eta[cases].sum()
                     - np.sum(np.log(np.bincount(codes, weights=np.exp(eta - top))) + top))

    return loglike


def _log_f(b: np.ndarray) -> float:
    return float(np.sum(b - 2.0 * np.logaddexp(0.0, b)))


def _check_wald(table, terms, b_ref, se_ref):
    """Estimate, standard error, 95 % interval, p-value and BH adjustment of each term."""
    t = table.set_index("term").loc[terms]
    np.testing.assert_allclose(t["log_ratio"], b_ref, atol=1e-4)
    np.testing.assert_allclose(t["std_error"], se_ref, rtol=2e-3)
    b, se = t["log_ratio"].to_numpy(float), t["std_error"].to_numpy(float)
    np.testing.assert_allclose(t["ratio"], np.exp(b), rtol=1e-12)
    np.testing.assert_allclose(t["ci_low"], np.exp(b - Z95 * se), rtol=1e-9)
    np.testing.assert_allclose(t["ci_high"], np.exp(b + Z95 * se), rtol=1e-9)
    p = 2 * stats.norm.sf(np.abs(b / se))
    np.testing.assert_allclose(t["p_value"], p, rtol=1e-9)
    order = np.argsort(p)
    m = len(p)
    bh = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(bh, 1.0)
    np.testing.assert_allclose(t["p_adjusted"], adjusted, rtol=1e-9)
    assert t["status"].eq("ok").all() and t["estimable"].all()


class TestModels:
    """engines.py: what the tables report, beyond the point estimates."""

    def test_primary_analysis_errors_intervals_and_p_values(self):
        frame = runner_frame(1)
        result = _quiet(kd.primary_analysis, frame, ["a", "n_b", "c"], agg=AGG)
        used = result.settings["terms_used"]
        d = result.design
        X = np.column_stack([np.ones(len(d)), d[used].to_numpy(dtype=float)])
        y = d["onset"].to_numpy(dtype=float)
        pen = np.arange(1, X.shape[1])
        ref = ref_logistic(y, X, penalised=pen)

        def loglike(b):
            eta = X @ b
            return float(np.sum(y * eta - np.logaddexp(0.0, eta))) + _log_f(b[pen])

        cov = np.linalg.inv(-_hessian(loglike, ref))
        _check_wald(result.table, used, ref[1:], np.sqrt(np.diag(cov))[1:])

    def test_case_crossover_errors_intervals_and_p_values(self):
        frame = runner_frame(2, n_days=4 * 365)
        for penalty in ("logF", None):
            result = _quiet(kd.case_crossover, frame, ["a", "n_b"], agg=AGG, penalty=penalty,
                            stratum_days=84)
            used = result.settings["exposures_used"]
            d = result.design
            y, X, s = (d["case"].to_numpy(float), d[used].to_numpy(float),
                       d["stratum"].to_numpy())
            plain = _conditional_loglike(y, X, s)

            def loglike(b, plain=plain, penalty=penalty):
                return plain(b) + (_log_f(b) if penalty else 0.0)

            if penalty:
                ref = ref_conditional_logistic(y, X, s)
            else:
                ref = optimize.minimize(lambda b: -loglike(b), np.zeros(len(used)),
                                        method="BFGS", options={"gtol": 1e-9}).x
            se = np.sqrt(np.diag(np.linalg.inv(-_hessian(loglike, ref))))
            _check_wald(result.table, used, ref, se)

    def test_a_separated_term_is_infinite_with_its_profile_likelihood_bound(self):
        # every onset after exposure a: the ML ratio is infinite, the lower bound
        # is where the (one-parameter) conditional log-likelihood is chi2/2 below its
        # supremum (Heinze & Schemper 2002)
        frame = runner_frame(2, n_days=4 * 365)
        frame["a"] = False
        onsets = np.flatnonzero(frame["onset"].to_numpy())
        for t in onsets:
            frame.loc[max(t - 3, 0), "a"] = True
        ml = _quiet(kd.case_crossover, frame, ["a"], agg=AGG, stratum_days=84)
        row = ml.table.iloc[0]
        assert row["status"] == "separated" and not row["estimable"]
        assert row["ratio"] == np.inf and row["ci_high"] == np.inf
        d = ml.design
        loglike = _conditional_loglike(d["case"].to_numpy(float), d[["a"]].to_numpy(float),
                                       d["stratum"].to_numpy())

        target = loglike(20.0) - stats.chi2.ppf(0.95, 1) / 2
        bound = optimize.brentq(lambda b: loglike(b) - target, -20.0, 20.0, xtol=1e-8)
        assert np.log(row["ci_low"]) == pytest.approx(bound, abs=2e-3)
        assert 1 < row["ci_low"] < np.inf
        pen = _quiet(kd.case_crossover, frame, ["a"], agg=AGG, stratum_days=84, penalty="logF")
        prow = pen.table.iloc[0]
        assert np.isfinite(prow["ratio"]) and prow["ratio"] > 1
        assert np.isfinite(prow["ci_low"]) and np.isfinite(prow["ci_high"])

    def test_a_protective_separated_term_is_zero_with_its_upper_bound(self):
        # no exposure in the week before any onset, exposure on most other days
        frame = runner_frame(2, n_days=4 * 365)
        exposed = np.ones(len(frame), bool)
        for t in np.flatnonzero(frame["onset"].to_numpy()):
            exposed[max(t - 7, 0):t] = False
        frame["a"] = exposed & (np.arange(len(frame)) % 3 > 0)
        ml = _quiet(kd.case_crossover, frame, ["a"], agg=AGG, stratum_days=84)
        row = ml.table.iloc[0]
        assert row["status"] == "separated"
        assert row["ratio"] == 0 and row["ci_low"] == 0 and 0 < row["ci_high"] < 1
        loglike = _conditional_loglike(ml.design["case"].to_numpy(float),
                                       ml.design[["a"]].to_numpy(float),
                                       ml.design["stratum"].to_numpy())
        target = loglike(-20.0) - stats.chi2.ppf(0.95, 1) / 2
        bound = optimize.brentq(lambda b: loglike(b) - target, -20.0, 20.0, xtol=1e-8)
        assert np.log(row["ci_high"]) == pytest.approx(bound, abs=2e-3)

    @pytest.mark.parametrize(("kwargs", "status"), [
        ({}, "ok"),
        ({"n_episodes": MIN_EPISODES - 1}, "too_few_episodes"),
        ({"n_inf": MIN_INFORMATIVE - 1}, "too_few_episodes"),
        ({"n_episodes": MIN_EPISODES - 1, "n_inf": 50}, "too_few_episodes"),
        ({"n_episodes": 50, "n_inf": MIN_INFORMATIVE - 1}, "too_few_episodes"),
        ({"direction": 1.0}, "separated"),
        ({"direction": -1.0}, "separated"),
        ({"b": np.inf}, "separated"),
        ({"b": _LOG_RATIO_SEPARATED}, "ok"),
        ({"b": -_LOG_RATIO_SEPARATED}, "ok"),
        ({"b": _LOG_RATIO_SEPARATED + 1e-9}, "separated"),
        ({"b": -_LOG_RATIO_SEPARATED - 1e-9}, "separated"),
        ({"se": np.nan}, "separated"),
        ({"se": np.nan, "need_se": False}, "ok"),
        ({"converged": False}, "not_converged"),
    ])
    def test_status_rules_at_their_edges(self, kwargs, status):
        args = {"b": 0.5, "se": 0.3, "direction": 0.0, "n_inf": MIN_INFORMATIVE,
                "n_episodes": MIN_EPISODES, "converged": True, "need_se": True, **kwargs}
        b, se = args.pop("b"), args.pop("se")
        assert _term_status(b, se, **args) == status
