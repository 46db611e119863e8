"""Fitting engines: penalties (log-F(2,2) by data augmentation, ridge), conditional and binomial
fits, profile-likelihood bounds, and the tidy table every model ends with.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kneedata.models.design import _Terms, _warn_model
from kneedata.models.results import (
    MIN_EPISODES,
    MIN_INFORMATIVE,
    TABLE_COLUMNS,
    ModelFitError,
    ModelResult,
)

#: |log ratio| above which a maximum-likelihood estimate is taken as separated.
_LOG_RATIO_SEPARATED = 7.0


@dataclass
class _Fit:
    """What every fit hands to :func:`_finish`.

    ``params``/``bse`` are the term coefficients only; ``full`` is the whole
    parameter vector and ``first`` the index of the first term in it (1 after an
    intercept); ``loglike`` (of the unpenalised model, full parameters) allows
    profile-likelihood bounds for separated terms.
    """

    results: Any
    params: np.ndarray
    bse: np.ndarray
    converged: bool
    full: np.ndarray
    first: int = 0
    loglike: Callable[[np.ndarray], float] | None = None
    notes: list[str] = field(default_factory=list)


def _caught_notes(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """Short notes for library warnings that are not already flags."""
    out: list[str] = []
    for w in caught:
        name = w.category.__name__
        text = str(w.message).splitlines()[0]
        if any(k in name for k in ("Convergence", "Separation", "HessianInversion")) or any(
                k in text.lower() for k in ("converge", "separation", "overflow", "divide",
                                            "invalid value", "within-group variance")):
            continue  # told by the converged / separated flags and the status column
        msg = f"{name}: {text}"
        if msg not in out:
            out.append(msg)
    return out


def _logf_strata(k: int, g0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pseudo-strata that add a log-F(2,2) prior to each of ``k`` log ratios.

    Per coefficient two 2-row strata: (case x = e_j, referent 0) contributes
    ``b - log(1 + e^b)``, (case 0, referent e_j) ``-log(1 + e^b)``: together the
    log-F(2,2) log-density ``b - 2 log(1 + e^b)`` (Greenland & Mansournia 2015).
    Valid for conditional logistic, conditional Poisson and Cox likelihoods.
    """
    eye, zero = np.eye(k), np.zeros(k)
    X = np.vstack([np.vstack([eye[j], zero, zero, eye[j]]) for j in range(k)])
    y = np.tile([1.0, 0.0, 1.0, 0.0], k)
    groups = g0 + np.repeat(np.arange(2 * k), 2)
    return X, y, groups


def _fit_conditional(
    cls: Any, y: np.ndarray, X: np.ndarray, groups: np.ndarray, names: list[str],
    penalty: str | float | None, *, start: np.ndarray | None = None,
) -> _Fit:
    """ConditionalLogit / ConditionalPoisson fit, ML or penalised."""
    k = X.shape[1]
    base = cls(y, pd.DataFrame(X, columns=names), groups=groups)
    if penalty == "logF":
        Xa, ya, ga = _logf_strata(k, int(groups.max()) + 1)
        X, y, groups = np.vstack([X, Xa]), np.concatenate([y, ya]), np.concatenate([groups, ga])
        if start is not None:
            # start at the penalised optimum: BFGS stops on the *mean* score, which left
            # log ratios ~2e-4 short of the maximum when started at the unpenalised one
            penalised_start = _newton_start(y, X, groups)
            start = start if penalised_start is None else penalised_start
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = cls(y, pd.DataFrame(X, columns=names), groups=groups)
            if _is_ridge(penalty):
                fit = model.fit_regularized(alpha=float(penalty), L1_wt=0.0)  # type: ignore[arg-type]
                params = np.asarray(fit.params, dtype=float)
                return _Fit(fit, params, np.full(k, np.nan), True, params, 0, None,
                            _caught_notes(caught))
            try:
                fit = model.fit(start_params=start, method="bfgs", maxiter=500, disp=False)
            except (np.linalg.LinAlgError, ValueError) as err:
                if "covariance" not in str(err) and not isinstance(err, np.linalg.LinAlgError):
                    raise
                fit = model.fit(start_params=start, method="bfgs", maxiter=500, disp=False,
                                skip_hessian=True)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(
                f"{cls.__name__} failed ({type(err).__name__}: {err}); drop collinear or "
                "rare exposures, or use penalty='logF'"
            ) from err
    params = np.asarray(fit.params, dtype=float)
    bse = np.full(k, np.nan)
    if fit.normalized_cov_params is not None:
        with np.errstate(invalid="ignore"):
            bse = np.asarray(fit.bse, dtype=float)
    return _Fit(fit, params, bse, _converged(fit, caught), params, 0, base.loglike,
                _caught_notes(caught))


def _converged(fit: Any, caught: Sequence[warnings.WarningMessage]) -> bool:
    """Whether the optimiser converged: its own flag, or no ConvergenceWarning raised.

    ``ConditionalLogit``/``ConditionalPoisson`` and ``PHReg`` results drop the
    optimiser's ``mle_retvals`` (statsmodels 0.14-0.15), so the warning it raised
    is the only trace left.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    retvals = getattr(fit, "mle_retvals", None) or {}
    return bool(retvals.get("converged", True)) and bool(getattr(fit, "converged", True)) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught)


def _is_ridge(penalty: str | float | None) -> bool:
    return isinstance(penalty, (int, float)) and not isinstance(penalty, bool)


def _profile_limit(loglike: Callable[[np.ndarray], float], full: np.ndarray, j: int,
                   direction: float, alpha: float) -> float:
    """Finite end of the profile-likelihood interval of a coefficient whose MLE is infinite.

    The profile log-likelihood ``pl(b) = max over the other coefficients`` rises
    monotonically towards its supremum as ``b -> direction * inf``; the bound is
    where it is ``chi2_1(1 - alpha) / 2`` below that supremum (Heinze &
    Schemper 2002, doi:10.1002/sim.1047), approximated at ``|b| = 20``.
    """
    from scipy import optimize, stats

    start = np.clip(np.nan_to_num(full), -15, 15)
    others = [i for i in range(full.size) if i != j]

    def profile(b: float) -> float:
        p = start.copy()
        p[j] = b
        if not others:
            return float(loglike(p))

        def negative(o: np.ndarray) -> float:
            q = p.copy()
            q[others] = o
            value = float(loglike(q))
            return -value if np.isfinite(value) else 1e300

        return -float(optimize.minimize(negative, start[others], method="BFGS").fun)

    far, near = 20.0 * direction, -20.0 * direction
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        target = profile(far) - stats.chi2.ppf(1 - alpha, 1) / 2
        if not np.isfinite(target):
            return np.nan
        gap = lambda b: np.nan_to_num(profile(b) - target, nan=-1e300)  # noqa: E731
        if gap(near) >= 0:
            return near
        return float(optimize.brentq(gap, near, far, xtol=1e-3))


def _term_status(b: float, se: float, *, direction: float, n_inf: int, n_episodes: int,
                 converged: bool, need_se: bool) -> str:
    if n_episodes < MIN_EPISODES or n_inf < MIN_INFORMATIVE:
        return "too_few_episodes"
    if direction != 0 or not np.isfinite(b) or abs(b) > _LOG_RATIO_SEPARATED or (
            need_se and not np.isfinite(se)):
        return "separated"
    if not converged:
        return "not_converged"
    return "ok"


def _finish(model: str, fit: _Fit, terms: _Terms, *, ratio_kind: str, n_episodes: int,
            alpha: float, penalty: str | float | None, notes: list[str],
            design: pd.DataFrame, settings: dict[str, Any]) -> ModelResult:
    """Statuses, human-safe numbers and flags: the :class:`ModelResult` of a fit."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    separated = [t for i, t in enumerate(terms.used)
                 if terms.direction.get(t, 0.0) != 0 or not abs(fit.params[i]) <= _LOG_RATIO_SEPARATED]
    # an optimiser chasing a separated term to infinity stops without converging;
    # the other terms' estimates are then still the maximum-likelihood ones
    converged = fit.converged or bool(separated)
    for i, term in enumerate(terms.used):
        b, se = float(fit.params[i]), float(fit.bse[i])
        direction = terms.direction.get(term, 0.0)
        status = _term_status(b, se, direction=direction, n_inf=terms.informative.get(term, 0),
                              n_episodes=n_episodes, converged=converged,
                              need_se=not _is_ridge(penalty))
        log_ci = (b - z * se, b + z * se)
        if penalty is None and term in separated:
            sign = direction or float(np.sign(b)) or 1.0
            bound = np.nan
            if fit.loglike is not None and status == "separated":
                bound = _profile_limit(fit.loglike, fit.full, fit.first + i, sign, alpha)
            b, se = sign * np.inf, np.nan
            log_ci = (bound, np.inf) if sign > 0 else (-np.inf, bound)
        elif penalty is None and status == "not_converged":
            b, se, log_ci = np.nan, np.nan, (np.nan, np.nan)
        rows.append((term, b, se, *log_ci, status))
    for term in terms.dropped:
        rows.append((term, np.nan, np.nan, np.nan, np.nan, "no_variation"))
    order = {t: k for k, t in enumerate(terms.asked)}
    rows.sort(key=lambda r: order.get(r[0], len(order)))
    table = _table(rows, terms, ratio_kind=ratio_kind, n_episodes=n_episodes, multipletests=multipletests)
    if separated:
        notes.append(f"separated: {', '.join(separated)} (the data put the ratio at infinity "
                     "or 0)" + ("; shown: log-F penalised estimates" if penalty == "logF" else ""))
    if not fit.converged:
        notes.append("the fit did not converge")
    _warn_model(n for n in notes if n.startswith(("separated", "the fit did not")))
    notes = notes + fit.notes
    return ModelResult(model, fit.results, table, notes, design, settings, ratio_kind,
                       separated, dict(terms.dropped), penalty, fit.converged)


def _table(rows: list[tuple[Any, ...]], terms: _Terms, *, ratio_kind: str, n_episodes: int,
           multipletests: Any) -> pd.DataFrame:
    from scipy import stats

    term, b, se, lo, hi, status = (list(c) for c in zip(*rows, strict=True)) if rows else (
        [], [], [], [], [], [])
    b_arr, se_arr = np.asarray(b, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = 2 * stats.norm.sf(np.abs(b_arr / se_arr))
        table = pd.DataFrame({
            "term": pd.array(term, dtype="str"),
            "exposure": pd.array([terms.exposure[t] for t in term], dtype="str"),
            "window": pd.array([terms.window[t] for t in term], dtype="str"),
            "ratio_kind": pd.array([ratio_kind] * len(term), dtype="str"),
            "ratio": np.exp(b_arr),
            "ci_low": np.exp(np.asarray(lo, dtype=float)),
            "ci_high": np.exp(np.asarray(hi, dtype=float)),
            "log_ratio": b_arr,
            "std_error": se_arr,
            "p_value": p,
        })
    adjusted = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    table["n_episodes"] = np.int64(n_episodes)
    table["n_informative"] = np.array([terms.informative.get(t, 0) for t in term], dtype=np.int64)
    table["status"] = pd.array(status, dtype="str")
    table["estimable"] = (table["status"].eq("ok").to_numpy(dtype=bool)
                          & np.isfinite(table["ci_low"]) & np.isfinite(table["ci_high"]))
    return table[list(TABLE_COLUMNS)]


def _newton_start(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> np.ndarray | None:
    """Newton solution of the one-case-per-stratum conditional likelihood (start values).

    With one case per stratum the conditional likelihood is a softmax within each
    stratum, so Newton steps are cheap and vectorised; ``ConditionalLogit.fit`` then
    starts at (or next to) its optimum and only confirms it. ``None`` (start from
    0) if a stratum has several cases or Newton diverges (separation).
    """
    codes = pd.factorize(groups)[0]
    n_groups = codes.max() + 1
    if not np.array_equal(np.bincount(codes, weights=y, minlength=n_groups), np.ones(n_groups)):
        return None
    k = X.shape[1]
    beta = np.zeros(k)
    x_case = np.zeros((n_groups, k))
    x_case[codes[y == 1]] = X[y == 1]
    for _ in range(50):
        eta = X @ beta
        w = np.exp(eta - eta.max())
        s0 = np.bincount(codes, weights=w, minlength=n_groups)
        p = w / s0[codes]
        xbar = np.column_stack([np.bincount(codes, weights=p * X[:, j], minlength=n_groups)
                                for j in range(k)])
        grad = (x_case - xbar).sum(axis=0)
        dev = X - xbar[codes]
        hess = (dev * p[:, None]).T @ dev
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.abs(beta).max() > 15:
            return None
        if np.abs(step).max() < 1e-10:
            return beta
    return None


def _logf_rows(k: int, first: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-rows adding a log-F(2,2) prior to each term of an unconditional binomial model.

    Per term ``j`` two rows with that term 1 and every other column (intercept
    and calendar terms included) 0, one event and one non-event: their
    likelihood is ``expit(b) (1 - expit(b))``, the log-F(2,2) density for the
    logit link (Greenland & Mansournia 2015).
    """
    X = np.zeros((2 * k, width))
    for j in range(k):
        X[2 * j: 2 * j + 2, first + j] = 1.0
    return X, np.tile([1.0, 0.0], k)


def _fit_binomial(y: np.ndarray, X: pd.DataFrame, *, k: int, link: str, penalty: Any,
                  cov_type: str, hac_lags: int, groups: np.ndarray | None,
                  cov_struct: str) -> _Fit:
    """Logit/cloglog GLM (one runner) or GEE (several) of onset; terms are the last k columns."""
    import statsmodels.api as sm

    link_obj = sm.families.links.CLogLog() if link == "cloglog" else sm.families.links.Logit()
    family = sm.families.Binomial(link=link_obj)
    base = sm.GLM(y, X, family=family)
    first = X.shape[1] - k
    Xf, yf, gf = X.to_numpy(dtype=float), y, groups
    if penalty == "logF":
        Xa, ya = _logf_rows(k, first, X.shape[1])
        Xf, yf = np.vstack([Xf, Xa]), np.concatenate([y, ya])
        if groups is not None:
            gf = np.concatenate([groups, groups.max() + 1 + np.arange(2 * k)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if _is_ridge(penalty):
                weights = np.r_[np.zeros(first), np.full(k, float(penalty))]
                fit = sm.GLM(yf, Xf, family=family).fit_regularized(alpha=weights, L1_wt=0.0)
                params = np.asarray(fit.params, dtype=float)
                return _Fit(fit, params[first:], np.full(k, np.nan), True, params, first,
                            None, _caught_notes(caught))
            if groups is None:
                kwds = {"maxlags": hac_lags} if cov_type == "HAC" else None
                fit = sm.GLM(yf, Xf, family=family).fit(cov_type=cov_type, cov_kwds=kwds,
                                                       maxiter=200)
            else:
                structure = (sm.cov_struct.Independence() if cov_struct == "independence"
                             else sm.cov_struct.Exchangeable())
                fit = sm.GEE(yf, Xf, groups=gf, family=family, cov_struct=structure).fit(
                    maxiter=100)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(f"daily_model: the fit failed ({type(err).__name__}: {err}); "
                                "drop rare or collinear terms") from err
    params = np.asarray(fit.params, dtype=float)
    with np.errstate(invalid="ignore"):
        bse = np.asarray(fit.bse, dtype=float)
    converged = _converged(fit, caught)
    loglike = (lambda p: float(base.loglike(p, scale=1.0))) if groups is None else None
    return _Fit(fit, params[first:], bse[first:], converged, params, first, loglike,
                _caught_notes(caught))
