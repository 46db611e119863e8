"""Models of what tends to come before a pain episode: case-crossover, daily, Cox.

All three read the analysis frame (:func:`kneedata.analysis_frame`, or a simulated
frame from :mod:`kneedata.simulate`) and return a :class:`ModelResult`: the
statsmodels result, a tidy table with one row per term (odds or hazard ratio,
95 % interval, p-value, Benjamini-Hochberg adjusted p-value, episodes used), the
caveats that apply, and the design the model was fitted on.

Windows
-------
Exposures in the frame are same-day values; the models summarise them over
windows of days before an *index day* ``t`` with :func:`kneedata.frame.window_aggregate`
(``any`` for flags, ``sum`` for counts and distances, ``mean`` for the rest;
:func:`kneedata.frame.window_kind`). The index day itself is never in its window.

- :func:`case_crossover`: the hazard window of an episode with onset on day ``t``
  is days ``t - gap_days - hazard_days .. t - gap_days - 1``; referent windows are
  the same days relative to each referent day.
- :func:`daily_model` and :func:`recurrent_cox`: lag ``L`` is the window
  ``t - L .. t - 1`` (``L = 1`` is yesterday, ``L = 7`` the previous 7 days); the
  term is named ``<exposure>_<L>d``.

What the results are
--------------------
Associations in one person's (or a cohort's) observational data, not causes and
not medical advice. See :data:`CAVEAT`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import DataQualityWarning, KneedataError
from kneedata.frame import (
    WINDOW_KIND_NAMES,
    validate_frame,
    window_aggregate,
    window_kind,
)

__all__ = [
    "CAVEAT",
    "ModelFitError",
    "ModelResult",
    "TABLE_COLUMNS",
    "case_crossover",
    "daily_model",
    "recurrent_cox",
]

#: Printed with every result.
CAVEAT = (
    "Associations in observational data, not causes and not medical advice: an odds "
    "ratio above 1 means the exposure was more common before pain onsets than at "
    "other times, which can also come from things that change together with it."
)

#: Columns of :attr:`ModelResult.table`, in order.
TABLE_COLUMNS = (
    "term", "exposure", "window", "ratio", "odds_ratio", "ci_low", "ci_high", "log_ratio",
    "std_error", "p_value", "p_adjusted", "n_episodes", "n_informative",
)

#: Episodes per exposure below which a warning is given (Peduzzi et al. 1996).
MIN_EPISODES_PER_EXPOSURE = 10

_EPOCH = np.datetime64("1970-01-01", "D")


class ModelFitError(KneedataError, RuntimeError):
    """A model could not be fitted at all (after dropping what could be dropped)."""


@dataclass
class ModelResult:
    """A fitted model, its tidy table and the caveats that apply.

    Attributes
    ----------
    model
        ``"case_crossover"``, ``"daily_model"`` or ``"recurrent_cox"``.
    results
        The statsmodels results object (``ConditionalLogit``, ``Logit``, ``GEE`` or
        ``PHReg`` fit); ``None`` for a penalised point-estimate fit.
    table
        One row per term, columns :data:`TABLE_COLUMNS`: ``term`` (name in the
        design), ``exposure`` (frame column), ``window`` (days relative to the
        index day and the window rule), ``ratio`` (``"odds ratio"`` or ``"hazard
        ratio"``), ``odds_ratio`` (the ratio, named for the forest plot; a hazard
        ratio for Cox), ``ci_low``, ``ci_high`` (``1 - alpha`` Wald interval),
        ``log_ratio``, ``std_error`` (of the log ratio), ``p_value`` (Wald),
        ``p_adjusted`` (Benjamini-Hochberg over all terms of the table),
        ``n_episodes`` (onsets used by the fit), ``n_informative`` (case-crossover:
        episodes whose windows differ in that exposure; others: onsets with the
        exposure non-zero).
    warnings
        Caveats that apply: few episodes per exposure, exposures dropped for
        lack of variation or collinearity, separation, non-convergence, data
        left out.
    design
        The rows the model was fitted on (exposure summaries, outcome, strata).
    settings
        The options used (windows, referent scheme, covariance, ...).
    """

    model: str
    results: Any
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    design: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_episodes(self) -> int:
        """Number of onsets (episodes) the model used."""
        return int(self.settings.get("n_episodes", 0))

    def summary_text(self) -> str:
        """A plain-text summary: the table, the caveats, and what it can not show."""
        lines = [f"{self.model}: {self.n_episodes} episodes"]
        for _, row in self.table.iterrows():
            lines.append(
                f"  {row['term']:<28} {row['ratio']} {row['odds_ratio']:.2f} "
                f"({row['ci_low']:.2f}-{row['ci_high']:.2f}), p={row['p_value']:.3g}, "
                f"BH-adjusted p={row['p_adjusted']:.3g}"
            )
        lines.extend(f"  ! {w}" for w in self.warnings)
        lines.append(CAVEAT)
        return "\n".join(lines)


# --------------------------------------------------------------------- helpers
def _exposure_list(exposures: str | Iterable[str]) -> list[str]:
    items = [exposures] if isinstance(exposures, str) else list(exposures)
    if not items:
        raise ValueError("models: give at least one exposure column")
    if len(set(items)) != len(items):
        raise ValueError(f"models: exposures listed twice: {items}")
    return items


def _kinds(frame: pd.DataFrame, exposures: Sequence[str], agg: Mapping[str, str] | None) -> dict[str, str]:
    out = {}
    for name in exposures:
        kind = (agg or {}).get(name) or window_kind(name, frame[name].dtype)
        if kind not in WINDOW_KIND_NAMES:
            raise ValueError(f"models: agg for {name!r} must be one of {WINDOW_KIND_NAMES}, got {kind!r}")
        out[name] = kind
    return out


@dataclass
class _Days:
    """All runners' days, sorted by runner and date, each runner on a complete calendar.

    Days absent from the frame inside a runner's span are added as unknown
    (exposures NaN, not at risk, ``filled`` True). Windows are computed on the
    concatenated arrays and masked where they would reach before a runner's first
    day, so no window ever mixes two runners.
    """

    data: pd.DataFrame
    code: np.ndarray
    ids: list[str]
    pos: np.ndarray
    dn: np.ndarray
    filled: np.ndarray

    def flag(self, name: str) -> np.ndarray:
        return self.data[name].to_numpy(dtype=bool)

    def values(self, name: str) -> np.ndarray:
        col = self.data[name]
        if col.dtype == bool:
            return col.to_numpy(dtype=float)
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_extension_array_dtype(col.dtype):
            return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)

    def window(self, name: str, kind: str, *, end_lag: int, length: int) -> np.ndarray:
        out = window_aggregate(self.values(name), kind, end_lag=end_lag, length=length)
        out[self.pos < end_lag + length - 1] = np.nan
        return out

    def prior(self) -> np.ndarray:
        if "n_prior_episodes" in self.data.columns:
            values = pd.to_numeric(self.data["n_prior_episodes"], errors="coerce").to_numpy(dtype=float)
            if not np.isnan(values).any():
                return values.astype(np.int64)
        onset = self.flag("onset").astype(np.int64)
        out = np.zeros(len(onset), dtype=np.int64)
        for c in range(len(self.ids)):
            sel = self.code == c
            out[sel] = np.cumsum(onset[sel]) - onset[sel]
        return out


def _days(frame: pd.DataFrame) -> _Days:
    n = len(frame)
    rid = (frame["runner_id"].astype(str).to_numpy() if "runner_id" in frame.columns
           else np.full(n, "runner", dtype=object))
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"])).normalize()
    dn = (dates.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    order = np.lexsort((dn, rid))
    codes, uniques = pd.factorize(rid[order], sort=True)
    ids = [str(u) for u in uniques]
    dn = dn[order]
    first = np.full(len(ids), np.iinfo(np.int64).max)
    last = np.full(len(ids), np.iinfo(np.int64).min)
    np.minimum.at(first, codes, dn)
    np.maximum.at(last, codes, dn)
    counts = np.bincount(codes, minlength=len(ids))
    data = frame.iloc[order].reset_index(drop=True)
    data["runner_id"] = pd.array(rid[order], dtype="str")
    data["date"] = dates[order].as_unit("ns")
    filled = np.zeros(len(data), dtype=bool)
    if np.any(counts != last - first + 1):
        full = pd.MultiIndex.from_arrays([
            np.repeat(ids, last - first + 1),
            np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last, strict=True)]),
        ], names=["runner_id", "_dn"])
        data = data.assign(_dn=dn).set_index(["runner_id", "_dn"]).reindex(full).reset_index()
        filled = data["date"].isna().to_numpy()
        dn = data["_dn"].to_numpy(dtype=np.int64)
        data["date"] = (_EPOCH + dn.astype("timedelta64[D]")).astype("datetime64[ns]")
        data = data.drop(columns="_dn")
        for name in ("onset", "at_risk", "in_episode"):
            data[name] = data[name].astype("boolean").fillna(False).astype(bool)
        codes = pd.factorize(data["runner_id"], sort=True)[0]
    pos = dn - first[codes]
    return _Days(data, np.asarray(codes), ids, pos, dn, filled)


def _window_label(end_lag: int, length: int, kind: str) -> str:
    first = -(end_lag + length - 1)
    last = -end_lag
    if kind == "last":
        return f"day {last} (value)"
    days = f"day {first}" if first == last else f"days {first}..{last}"
    return f"{days} ({kind})"


def _lag_window(lag: int, gap_days: int, kind: str) -> tuple[int, int]:
    """(end_lag, length) of lag ``lag``: days t-gap-lag .. t-gap-1; 'last': day t-gap-lag."""
    if kind == "last":
        return gap_days + lag, 1
    return gap_days + 1, lag


def _translate(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """statsmodels / numpy warnings raised during a fit, as plain-language caveats."""
    out = []
    seen = set()
    for w in caught:
        name = type(w.message).__name__ if isinstance(w.message, Warning) else w.category.__name__
        text = str(w.message).splitlines()[0]
        if "ConvergenceWarning" in name or "converge" in text.lower():
            msg = (f"the fit did not converge ({text}); estimates may be unreliable: "
                   "drop exposures or use penalty='logF'")
        elif "HessianInversion" in name or "Hessian" in text:
            msg = (f"the information matrix could not be inverted ({text}); standard "
                   "errors are unreliable, often from separation or collinear exposures")
        elif "PerfectSeparation" in name or "separation" in text.lower():
            msg = (f"perfect separation ({text}): an exposure predicts onset perfectly, "
                   "its odds ratio is infinite; use penalty='logF'")
        elif "overflow" in text.lower() or "divide" in text.lower() or "invalid value" in text.lower():
            msg = f"numerical problem during the fit ({name}: {text}), a sign of separation"
        elif "no within-group variance" in text:
            continue  # strata without a case are handled and reported by the caller
        else:
            msg = f"{name}: {text}"
        if msg not in seen:
            seen.add(msg)
            out.append(msg)
    return out


def _drop_collinear(X: np.ndarray, names: list[str], tol: float = 1e-8) -> list[str]:
    """Names to drop so that the columns of ``X`` are linearly independent (greedy)."""
    keep: list[int] = []
    drop = []
    for j in range(X.shape[1]):
        trial = X[:, keep + [j]]
        if np.linalg.matrix_rank(trial, tol=tol * max(1.0, float(np.abs(trial).max()))) == len(keep) + 1:
            keep.append(j)
        else:
            drop.append(names[j])
    return drop


def _tidy(
    params: np.ndarray,
    bse: np.ndarray,
    names: Sequence[str],
    *,
    exposures: Mapping[str, str],
    windows: Mapping[str, str],
    ratio: str,
    n_episodes: int,
    n_informative: Mapping[str, int],
    alpha: float,
) -> pd.DataFrame:
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    params = np.asarray(params, dtype=float)
    bse = np.asarray(bse, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        zstat = params / bse
        p = 2 * stats.norm.sf(np.abs(zstat))
        table = pd.DataFrame(
            {
                "term": list(names),
                "exposure": [exposures[n] for n in names],
                "window": [windows[n] for n in names],
                "ratio": ratio,
                "odds_ratio": np.exp(params),
                "ci_low": np.exp(params - z * bse),
                "ci_high": np.exp(params + z * bse),
                "log_ratio": params,
                "std_error": bse,
                "p_value": p,
            }
        )
    adjusted = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        adjusted[ok] = multipletests(p[ok], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    table["n_episodes"] = np.int64(n_episodes)
    table["n_informative"] = np.array([n_informative.get(n, 0) for n in names], dtype=np.int64)
    table["ratio"] = table["ratio"].astype("str")
    return table[list(TABLE_COLUMNS)]


def _emit(messages: Iterable[str]) -> None:
    for m in messages:
        warnings.warn(m, DataQualityWarning, stacklevel=3)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"models: alpha must be in (0, 1), got {alpha!r}")


# --------------------------------------------------------------- case-crossover
def _referent_days(
    t: int, dn: np.ndarray, *, hazard_days: int, referents: str, stratum_days: int,
    n_referents: int,
) -> np.ndarray:
    n = dn.size
    if referents == "time-stratified":
        stratum = dn[t] // stratum_days
        k_max = stratum_days // hazard_days + 1
        cand = t + hazard_days * np.arange(-k_max, k_max + 1)
        cand = cand[(cand >= 0) & (cand < n) & (cand != t)]
        return cand[dn[cand] // stratum_days == stratum]
    cand = t - hazard_days * np.arange(1, n_referents + 1)
    return cand[cand >= 0]


def case_crossover(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    hazard_days: int = 7,
    gap_days: int = 0,
    referents: str = "time-stratified",
    stratum_days: int = 28,
    n_referents: int = 3,
    penalty: str | float | None = None,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """What preceded *this* episode: a self-matched case-crossover analysis.

    Parameters
    ----------
    frame
        Analysis frame (:func:`kneedata.analysis_frame`), one or several runners.
    exposures
        Frame columns to compare between hazard and referent windows.
    hazard_days
        Length of the hazard window and of every referent window [d].
    gap_days
        Days left out between the hazard window and the onset [d], so that early
        symptoms that already changed the running do not count as exposure.
    referents
        ``"time-stratified"`` (default) or ``"unidirectional"``; see Notes.
    stratum_days
        Length of the fixed calendar strata of the time-stratified design [d].
    n_referents
        Number of referent windows of the unidirectional design.
    penalty
        ``None`` (maximum likelihood), ``"logF"`` (log-F(2,2) prior on every log
        odds ratio by data augmentation: shrinks towards OR 1, finite under
        separation, Wald intervals kept), or a number ``a`` > 0 (ridge penalty
        ``a * sum(beta**2) / 2`` per episode via ``ConditionalLogit.fit_regularized``:
        point estimates only, the table's intervals and p-values are NaN).
    agg
        Override the window rule per exposure, e.g. ``{"distance_km": "mean"}``.
    alpha
        1 - confidence level of the intervals.

    Returns
    -------
    ModelResult
        ``results`` is the ``ConditionalLogit`` fit; ``design`` has one row per
        window (``stratum``, ``runner_id``, ``onset_date``, ``index_date``,
        ``window_start``, ``window_end``, ``case`` and the exposure summaries).

    Notes
    -----
    *Strata.* Each onset is a stratum (runner x episode in a cohort). The case
    window for an onset on day ``t`` covers ``t - gap_days - hazard_days .. t -
    gap_days - 1``. A referent day ``u`` contributes the window at the same offsets
    before ``u``.

    *Time-stratified referents* (Lumley & Levy 2000; Janes et al. 2005): the
    calendar is cut into fixed blocks of ``stratum_days`` days counted from
    1970-01-01, and the referent days of an onset are the other days of its block
    that lie a whole number of ``hazard_days`` before or after it (with the
    defaults: the same weekday in the same 28-day block, so the referent windows
    tile the block without overlapping the hazard window or each other). Because
    the blocks and residues partition time, the referent set does not depend on
    which of its days the onset fell on, which avoids overlap bias. *Unidirectional
    referents*: the ``n_referents`` windows immediately before the hazard window
    (biased when exposure trends over time; kept for comparison).

    *Eligibility* (same rule for case and referent days): the index day must be
    at risk (``at_risk``; referents must also not be an onset); none of the days
    from the window's first day to the day before the index day may be inside an
    episode (``in_episode``) or outside the frame; and every exposure summary must
    be known. Referent windows after the onset therefore mostly fall out (the
    runner is in the episode or its washout), so the design is in practice
    bidirectional only across earlier pain-free time. An episode whose case window
    is ineligible, or which has no eligible referent, is left out and counted in
    ``warnings``.

    *Window summaries*: ``any`` for flags, ``sum`` for counts and additive
    quantities, ``mean`` for the rest (:func:`kneedata.frame.window_kind`).

    *Fit*: ``statsmodels.discrete.conditional_models.ConditionalLogit(case,
    exposures, groups=stratum)`` (no intercept: time-invariant traits of a runner
    cancel). Exposures that never differ between windows of any stratum, and
    exposures that are linear combinations of others, are dropped with a warning.
    Separation (an exposure present in every case window and more rarely in the
    referents, or a fitted |log OR| > 7) is reported; ``penalty="logF"``
    (Greenland & Mansournia 2015) gives finite, shrunken estimates. Episodes from
    one runner are treated as independent strata given the runner.

    References
    ----------
    Maclure M (1991). The case-crossover design. Am J Epidemiol 133:144-153.
    doi:10.1093/oxfordjournals.aje.a115853
    Lumley T, Levy D (2000). Bias in the case-crossover design. J Expo Anal Environ
    Epidemiol 10:479-486. doi:10.1038/sj.jea.7500116
    Janes H, Sheppard L, Lumley T (2005). Case-crossover analyses of air pollution
    exposure data: referent selection strategies and their implications for bias.
    Epidemiology 16:717-726. doi:10.1097/01.ede.0000181315.18836.9d
    Greenland S, Mansournia MA (2015). Penalization, bias reduction, and default
    priors in logistic and related categorical and survival regressions. Stat Med
    34:3133-3143. doi:10.1002/sim.6537
    """
    names = _exposure_list(exposures)
    validate_frame(frame, names)
    _check_alpha(alpha)
    for label, value, low in (("hazard_days", hazard_days, 1), ("gap_days", gap_days, 0),
                              ("stratum_days", stratum_days, 1), ("n_referents", n_referents, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"case_crossover: {label} must be an integer >= {low}, got {value!r}")
    if referents not in ("time-stratified", "unidirectional"):
        raise ValueError(
            f"case_crossover: referents must be 'time-stratified' or 'unidirectional', got {referents!r}"
        )
    if referents == "time-stratified" and stratum_days < 2 * hazard_days:
        raise ValueError(
            f"case_crossover: stratum_days={stratum_days} leaves no room for a referent "
            f"window of {hazard_days} days; use stratum_days >= {2 * hazard_days}"
        )
    if penalty is not None and penalty != "logF" and not (
        isinstance(penalty, (int, float)) and penalty > 0
    ):
        raise ValueError(f"case_crossover: penalty must be None, 'logF' or a number > 0, got {penalty!r}")
    kinds = _kinds(frame, names, agg)
    end_lag = gap_days + 1
    span = gap_days + hazard_days  # days t-span .. t-1 must be free of episodes
    notes: list[str] = []
    data_notes: list[str] = []
    counts = {"not_at_risk": 0, "case_window": 0, "no_referent": 0, "ref_unknown": 0}
    days = _days(frame)
    onset = days.flag("onset")
    at_risk = days.flag("at_risk")
    blocked = days.flag("in_episode") | days.filled
    n = len(onset)
    cs = np.concatenate([[0], np.cumsum(blocked)])
    t_idx = np.arange(n)
    clean = (days.pos >= span) & ((cs[t_idx] - cs[np.clip(t_idx - span, 0, n)]) == 0)
    W = np.column_stack([days.window(e, kinds[e], end_lag=end_lag, length=hazard_days)
                         for e in names])
    known = np.isfinite(W).all(axis=1)
    dates = _EPOCH + days.dn.astype("timedelta64[D]")
    idx_case: list[int] = []
    idx_all: list[int] = []
    strata: list[int] = []
    n_strata_built = 0
    for t in np.flatnonzero(onset):
        if not at_risk[t]:
            counts["not_at_risk"] += 1
            continue
        if not (clean[t] and known[t]):
            counts["case_window"] += 1
            continue
        cand = _referent_days(int(t), days.dn, hazard_days=hazard_days, referents=referents,
                              stratum_days=stratum_days, n_referents=n_referents)
        cand = cand[days.code[cand] == days.code[t]]
        ok = at_risk[cand] & ~onset[cand] & clean[cand]
        counts["ref_unknown"] += int((ok & ~known[cand]).sum())
        ref = cand[ok & known[cand]]
        if ref.size == 0:
            counts["no_referent"] += 1
            continue
        members = [int(t), *(int(r) for r in ref)]
        idx_all.extend(members)
        idx_case.extend([1] + [0] * ref.size)
        strata.extend([n_strata_built] * len(members))
        n_strata_built += 1
    sel = np.asarray(idx_all, dtype=np.int64)
    onset_of = np.repeat([m for m, c in zip(idx_all, idx_case, strict=True) if c == 1],
                         np.bincount(np.asarray(strata, dtype=np.int64)) if strata else [])
    design = pd.DataFrame({
        "stratum": np.asarray(strata, dtype=np.int64),
        "runner_id": pd.array([days.ids[c] for c in days.code[sel]], dtype="str"),
        "onset_date": pd.to_datetime(dates[onset_of.astype(np.int64)]).as_unit("ns"),
        "index_date": pd.to_datetime(dates[sel]).as_unit("ns"),
        "window_start": pd.to_datetime(dates[sel] - np.timedelta64(span, "D")).as_unit("ns"),
        "window_end": pd.to_datetime(dates[sel] - np.timedelta64(end_lag, "D")).as_unit("ns"),
        "case": np.asarray(idx_case, dtype=np.int64),
        **{e: W[sel, j] for j, e in enumerate(names)},
    })
    if counts["not_at_risk"]:
        data_notes.append(f"{counts['not_at_risk']} onset(s) left out: not at risk that day "
                          "(onset not known to follow a pain-free washout, or diary unknown)")
    if counts["case_window"]:
        data_notes.append(f"{counts['case_window']} episode(s) left out: their hazard window "
                          "overlaps an earlier episode, starts before the data, or has unknown "
                          "exposure")
    if counts["no_referent"]:
        hint = ""
        if referents == "time-stratified":
            hint = (f" (after an onset the runner is not at risk for weeks, so a "
                    f"{stratum_days}-day stratum often has no referent left; "
                    f"stratum_days={2 * stratum_days} keeps more episodes at the price of "
                    "more room for slow trends)")
        data_notes.append(f"{counts['no_referent']} episode(s) left out: no eligible referent "
                          f"window in their stratum{hint}")
    if counts["ref_unknown"]:
        data_notes.append(f"{counts['ref_unknown']} referent window(s) left out for unknown exposure")
    windows = {e: _window_label(end_lag, hazard_days, kinds[e]) for e in names}
    settings: dict[str, Any] = {
        "hazard_days": hazard_days, "gap_days": gap_days, "referents": referents,
        "stratum_days": stratum_days, "n_referents": n_referents, "penalty": penalty,
        "agg": kinds, "alpha": alpha, "n_episodes": int(design["stratum"].nunique()),
        "n_windows": len(design),
    }
    _emit(data_notes)
    n_strata = settings["n_episodes"]
    if n_strata == 0:
        raise ModelFitError(
            "case_crossover: no episode with an eligible hazard window and referent; "
            + ("; ".join(data_notes) or "the frame has no onsets")
            + ". Check the diary (onsets, at_risk) and the exposure coverage."
        )
    # within-stratum variation per exposure
    informative: dict[str, int] = {}
    for e in names:
        spread = design.groupby("stratum")[e].agg(lambda s: s.max() - s.min())
        informative[e] = int((spread > 0).sum())
    used = [e for e in names if informative[e] > 0]
    dropped = [e for e in names if informative[e] == 0]
    if dropped:
        notes.append(f"dropped {dropped}: no episode's windows differ in them (no within-episode "
                     "variation), so they carry no information")
    if used:
        demeaned = design[used] - design.groupby("stratum")[used].transform("mean")
        collinear = _drop_collinear(demeaned.to_numpy(dtype=float), used)
        if collinear:
            notes.append(f"dropped {collinear}: linear combinations of other exposures within episodes")
            used = [e for e in used if e not in collinear]
    _emit(notes)
    if not used:
        raise ModelFitError(
            f"case_crossover: none of {names} varies between the hazard and referent windows "
            f"of any of the {n_strata} episodes; nothing to estimate."
        )
    notes = data_notes + notes
    for e in used:
        if informative[e] < MIN_EPISODES_PER_EXPOSURE:
            notes.append(f"{e}: only {informative[e]} episode(s) with differing windows "
                         f"(< {MIN_EPISODES_PER_EXPOSURE}); the estimate is fragile")
    if n_strata < MIN_EPISODES_PER_EXPOSURE * len(used):
        notes.append(f"{n_strata} episodes for {len(used)} exposure(s): fewer than "
                     f"{MIN_EPISODES_PER_EXPOSURE} per exposure; consider fewer exposures or "
                     "penalty='logF'")
    for e in used:  # one-exposure separation: case window always the most (least) exposed
        grp = design.groupby("stratum")
        case_v = design.loc[design["case"] == 1].set_index("stratum")[e]
        ref_max = design.loc[design["case"] == 0].groupby("stratum")[e].max()
        ref_min = design.loc[design["case"] == 0].groupby("stratum")[e].min()
        varies = (grp[e].max() - grp[e].min()) > 0
        if (case_v[varies] >= ref_max[varies]).all() or (case_v[varies] <= ref_min[varies]).all():
            notes.append(f"{e}: separation: in every informative episode the hazard window is the "
                         "most (or least) exposed, so the maximum-likelihood odds ratio is infinite; "
                         "use penalty='logF'")
    y = design["case"].to_numpy(dtype=float)
    X = design[used].to_numpy(dtype=float)
    groups = design["stratum"].to_numpy()
    fit, params, bse, fit_notes = _fit_conditional_logit(y, X, groups, used, penalty)
    notes.extend(fit_notes)
    table = _tidy(params, bse, used, exposures={e: e for e in used}, windows=windows,
                  ratio="odds ratio", n_episodes=n_strata, n_informative=informative, alpha=alpha)
    settings["exposures_used"] = used
    return ModelResult("case_crossover", fit, table, notes, design, settings)


def _fit_conditional_logit(
    y: np.ndarray, X: np.ndarray, groups: np.ndarray, names: list[str], penalty: str | float | None
) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    from statsmodels.discrete.conditional_models import ConditionalLogit

    notes: list[str] = []
    k = X.shape[1]
    if penalty == "logF":
        # log-F(2,2) prior per coefficient = two pseudo-episodes per exposure:
        # (case x = e_j, referent 0) and (case 0, referent x = e_j)
        g0 = int(groups.max()) + 1
        eye = np.eye(k)
        Xa, ya, ga = [X], [y], [groups]
        for j in range(k):
            Xa.append(np.vstack([eye[j], np.zeros(k)]))
            ya.append(np.array([1.0, 0.0]))
            ga.append(np.array([g0, g0]))
            Xa.append(np.vstack([np.zeros(k), eye[j]]))
            ya.append(np.array([1.0, 0.0]))
            ga.append(np.array([g0 + 1, g0 + 1]))
            g0 += 2
        X, y, groups = np.vstack(Xa), np.concatenate(ya), np.concatenate(ga)
        notes.append("penalised by a log-F(2,2) prior on each log odds ratio (per unit of the "
                     "exposure summary): estimates are shrunk towards OR 1")
    exog = pd.DataFrame(X, columns=names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = ConditionalLogit(y, exog, groups=groups)
            if isinstance(penalty, (int, float)) and not isinstance(penalty, bool):
                fit = model.fit_regularized(alpha=float(penalty), L1_wt=0.0)
                params = np.asarray(fit.params, dtype=float)
                bse = np.full(k, np.nan)
                notes.append(f"ridge-penalised fit (alpha={penalty}): point estimates only, "
                             "no intervals or p-values")
                return fit, params, bse, notes + _translate(caught)
            start = _newton_start(y, X, groups)
            try:
                fit = model.fit(start_params=start, method="bfgs", maxiter=500, disp=False)
            except (np.linalg.LinAlgError, ValueError) as err:
                if "covariance" not in str(err) and not isinstance(err, np.linalg.LinAlgError):
                    raise
                fit = model.fit(start_params=start, method="bfgs", maxiter=500, disp=False,
                                skip_hessian=True)
                notes.append("the information matrix is singular (separation, or too few "
                             "informative episodes): no standard errors; use penalty='logF'")
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(
                f"case_crossover: ConditionalLogit failed ({type(err).__name__}: {err}); "
                "drop collinear or rare exposures, or use penalty='logF'"
            ) from err
    notes.extend(_translate(caught))
    params = np.asarray(fit.params, dtype=float)
    if fit.normalized_cov_params is None:
        bse = np.full(k, np.nan)
    else:
        with np.errstate(invalid="ignore"):
            bse = np.asarray(fit.bse, dtype=float)
    if not bool((getattr(fit, "mle_retvals", None) or {}).get("converged", True)) and not any(
            "converge" in n for n in notes):
        notes.append("ConditionalLogit did not converge; estimates may be unreliable")
    notes.extend(_large_coefficients(params, bse, names))
    return fit, params, bse, notes


def _separated_terms(rows: pd.DataFrame, terms: Sequence[str], event: str) -> list[str]:
    """Terms whose values at events all lie at or beyond the extreme of the non-events.

    For a 0/1 term this is "every event exposed" or "no event exposed"
    (quasi-complete separation: the maximum-likelihood ratio is infinite or 0).
    """
    ev = rows[event].to_numpy(dtype=bool)
    out = []
    for t in terms:
        x = rows[t].to_numpy(dtype=float)
        if ev.all() or not ev.any():
            continue
        if x[ev].min() >= x[~ev].max() or x[ev].max() <= x[~ev].min():
            out.append(f"{t}: separation: every onset has the {'highest' if x[ev].min() >= x[~ev].max() else 'lowest'} "
                       "value of this term, so its maximum-likelihood ratio is infinite (or 0); "
                       "drop it or collect more episodes")
    return out


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


def _large_coefficients(params: np.ndarray, bse: np.ndarray, names: Sequence[str]) -> list[str]:
    out = []
    for name, b, s in zip(names, params, bse, strict=True):
        if not np.isfinite(b) or abs(b) > 7 or (np.isfinite(s) and s > 5):
            out.append(f"{name}: log ratio {b:.2f} (SE {s:.2f}) is implausibly large: "
                       "separation or too few informative episodes; use a penalised fit or "
                       "drop the exposure")
    return out


# ------------------------------------------------------------------ daily rows
def _lagged_rows(
    frame: pd.DataFrame,
    names: Sequence[str],
    lags: Sequence[int],
    kinds: Mapping[str, str],
    gap_days: int = 0,
) -> tuple[pd.DataFrame, list[str], dict[str, str], dict[str, str], list[str], _Days]:
    """At-risk runner-days with ``<exposure>_<L>d`` window summaries (and all days).

    Returns the rows, the terms, each term's exposure and window label, notes on
    at-risk days left out, and all days.
    """
    terms = [f"{e}_{lag}d" for lag in lags for e in names]
    term_exposure = {f"{e}_{lag}d": e for lag in lags for e in names}
    term_window = {f"{e}_{lag}d": _window_label(*_lag_window(lag, gap_days, kinds[e]), kinds[e])
                   for lag in lags for e in names}
    days = _days(frame)
    cols: dict[str, Any] = {
        "runner_id": days.data["runner_id"].array,
        "date": days.data["date"].to_numpy(),
        "_row": np.arange(len(days.pos)),
    }
    for lag in lags:
        for e in names:
            end_lag, length = _lag_window(lag, gap_days, kinds[e])
            cols[f"{e}_{lag}d"] = days.window(e, kinds[e], end_lag=end_lag, length=length)
    cols["onset"] = days.flag("onset")
    cols["n_prior_episodes"] = days.prior()
    all_rows = pd.DataFrame(cols)
    at_risk = days.flag("at_risk")
    known = np.isfinite(all_rows[terms].to_numpy(dtype=float)).all(axis=1)
    n_unknown = int((at_risk & ~known).sum())
    notes = [f"{n_unknown} at-risk day(s) left out: a lag window is unknown "
             "(start of the record or missing data)"] if n_unknown else []
    rows = all_rows[at_risk & known].reset_index(drop=True)
    return rows, terms, term_exposure, term_window, notes, days


def _check_gap(gap_days: int, who: str) -> None:
    if int(gap_days) != gap_days or gap_days < 0:
        raise ValueError(f"{who}: gap_days must be an integer >= 0, got {gap_days!r}")


def _check_lags(lags: Iterable[int], who: str) -> list[int]:
    out = [int(x) for x in lags]
    if not out or any(x < 1 for x in out) or len(set(out)) != len(out):
        raise ValueError(f"{who}: lags must be distinct integers >= 1, got {lags!r}")
    return out


def _usable_terms(rows: pd.DataFrame, terms: list[str], *, intercept: bool) -> tuple[list[str], list[str]]:
    """Terms left after dropping constant and collinear ones, and notes naming the dropped.

    ``intercept``: test collinearity against an intercept column (a logistic model);
    else on centred columns (a Cox model, whose baseline hazard absorbs constants).
    """
    notes = []
    dropped = [t for t in terms if rows[t].nunique() < 2]
    if dropped:
        notes.append(f"dropped {dropped}: constant over the at-risk days")
    used = [t for t in terms if t not in dropped]
    if used:
        values = rows[used].to_numpy(dtype=float)
        if intercept:
            collinear = _drop_collinear(np.column_stack([np.ones(len(rows)), values]),
                                        ["const", *used])
        else:
            collinear = _drop_collinear(values - values.mean(axis=0), used)
        if collinear:
            notes.append(f"dropped {collinear}: linear combinations of other terms")
            used = [t for t in used if t not in collinear]
    return used, notes


def _few_onsets_note(n_onsets: int, used: list[str]) -> list[str]:
    if n_onsets < MIN_EPISODES_PER_EXPOSURE * len(used):
        return [f"{n_onsets} onsets for {len(used)} term(s): fewer than "
                f"{MIN_EPISODES_PER_EXPOSURE} per term; estimates are fragile"]
    return []


@dataclass
class _LaggedDesign:
    """At-risk runner-days with lagged exposure windows, ready for a daily or Cox fit."""

    rows: pd.DataFrame
    days: _Days
    lags: list[int]
    kinds: dict[str, str]
    used: list[str]
    term_exposure: dict[str, str]
    term_window: dict[str, str]
    n_onsets: int
    notes: list[str]

    def table(self, params: np.ndarray, bse: np.ndarray, *, ratio: str, alpha: float) -> pd.DataFrame:
        """The tidy ModelResult table of a fit on this design."""
        informative = {t: int(((self.rows[t] != 0) & self.rows["onset"]).sum()) for t in self.used}
        return _tidy(params, bse, self.used, exposures=self.term_exposure,
                     windows=self.term_window, ratio=ratio, n_episodes=self.n_onsets,
                     n_informative=informative, alpha=alpha)


def _lagged_design(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int],
    gap_days: int,
    agg: Mapping[str, str] | None,
    alpha: float,
    who: str,
    intercept: bool,
) -> _LaggedDesign:
    """Validate, build the lagged at-risk rows and keep the usable terms (daily and Cox models).

    ``notes`` holds the data notes, the dropped terms and the few-onsets warning;
    the data and term notes are also emitted as warnings.
    """
    names = _exposure_list(exposures)
    validate_frame(frame, names)
    _check_alpha(alpha)
    lag_list = _check_lags(lags, who)
    _check_gap(gap_days, who)
    kinds = _kinds(frame, names, agg)
    rows, terms, term_exposure, term_window, data_notes, days = _lagged_rows(
        frame, names, lag_list, kinds, gap_days)
    n_onsets = int(rows["onset"].sum())
    if n_onsets == 0:
        raise ModelFitError(f"{who}: no onset on an at-risk day with known exposures; "
                            "nothing to model")
    used, term_notes = _usable_terms(rows, terms, intercept=intercept)
    _emit(data_notes + term_notes)
    if not used:
        raise ModelFitError(f"{who}: no usable term among {terms}")
    notes = data_notes + term_notes + _few_onsets_note(n_onsets, used)
    return _LaggedDesign(rows, days, lag_list, kinds, used, term_exposure, term_window,
                         n_onsets, notes)


def daily_model(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int] = (1, 7),
    gap_days: int = 0,
    groups: str | None = None,
    cov_struct: str = "independence",
    maxlags: int | None = None,
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Logistic model of onset on runner-days at risk, with lagged exposure windows.

    Parameters
    ----------
    frame
        Analysis frame (one or several runners).
    exposures
        Frame columns; each gives one term per lag, ``<exposure>_<L>d``.
    lags
        Window lengths ``L`` [d]: the term summarises days ``t-L .. t-1``
        (1 = yesterday, 7 = the previous week); for ``last``-rule columns
        (rolling states such as ``acute_7d``) it is the value on day ``t-L``.
    gap_days
        Shift every window ``gap_days`` further back (days ``t-gap-L ..
        t-gap-1``), as in :func:`case_crossover`, against reverse causation.
    groups
        Cluster column for GEE, normally ``"runner_id"``. ``None``: GEE on
        ``runner_id`` if the frame holds several runners, else a single-runner
        logistic model with HAC errors.
    cov_struct
        GEE working correlation: ``"independence"`` (default; robust sandwich
        errors, consistent whatever the true correlation) or ``"exchangeable"``.
    maxlags
        HAC truncation lag for one runner [d]; default ``max(lags)``.
    agg
        Override the window rule per exposure.
    alpha
        1 - confidence level.

    Returns
    -------
    ModelResult
        ``results`` is a statsmodels ``Logit`` (one runner) or ``GEE`` result;
        ``design`` holds the at-risk days used.

    Notes
    -----
    ``logit P(onset_t | at risk) = b0 + sum_(e, L) b_(e,L) * W_(e,L)(t)`` over days
    at risk with every window known (the first ``max(lags)`` days of a runner and
    days with unknown exposure drop out, counted in ``warnings``). Odds ratios are
    ``exp(b)`` per unit of the window summary. One runner: ``Logit`` with
    ``cov_type="HAC"`` (Newey-West, ``maxlags`` default ``max(lags)``, because
    overlapping windows make neighbouring days' regressors and scores correlated
    up to ``max(lags) - 1`` days apart; rows are taken in date order, days not at
    risk are skipped). Several runners: ``GEE(family=Binomial())`` clustered on
    ``groups`` with robust errors; with fewer than 20 runners these are
    optimistic (warned). Exposures at several lags are correlated; interpret the
    terms jointly.

    References
    ----------
    Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity
    and autocorrelation consistent covariance matrix. Econometrica 55:703-708.
    doi:10.2307/1913610
    Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear
    models. Biometrika 73:13-22. doi:10.1093/biomet/73.1.13
    """
    import statsmodels.api as sm

    if cov_struct not in ("independence", "exchangeable"):
        raise ValueError(f"daily_model: cov_struct must be 'independence' or 'exchangeable', got {cov_struct!r}")
    if groups is not None and groups not in frame.columns and groups != "runner_id":
        raise ValueError(f"daily_model: groups={groups!r} is not a column of the frame")
    d = _lagged_design(frame, exposures, lags=lags, gap_days=gap_days, agg=agg, alpha=alpha,
                       who="daily_model", intercept=True)
    rows, used, lag_list, n_onsets, notes = d.rows, d.used, d.lags, d.n_onsets, d.notes
    if groups is None and rows["runner_id"].nunique() > 1:
        groups = "runner_id"
    notes.extend(_separated_terms(rows, used, "onset"))
    y = rows["onset"].to_numpy(dtype=float)
    X = sm.add_constant(rows[used].astype(float), has_constant="add")
    settings: dict[str, Any] = {"lags": lag_list, "gap_days": gap_days, "agg": d.kinds,
                                "alpha": alpha, "n_episodes": n_onsets, "n_days": len(rows)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if groups is None:
                hac_lags = max(lag_list) if maxlags is None else int(maxlags)
                fit = sm.Logit(y, X).fit(disp=False, maxiter=200, cov_type="HAC",
                                         cov_kwds={"maxlags": hac_lags})
                settings.update({"method": "Logit", "cov_type": "HAC", "maxlags": hac_lags})
            else:
                labels = d.days.data[groups].to_numpy()[rows["_row"].to_numpy()]
                codes = pd.factorize(labels)[0]
                structure = (sm.cov_struct.Independence() if cov_struct == "independence"
                             else sm.cov_struct.Exchangeable())
                fit = sm.GEE(y, X, groups=codes, family=sm.families.Binomial(),
                             cov_struct=structure).fit(maxiter=100)
                n_groups = int(np.unique(codes).size)
                settings.update({"method": "GEE", "groups": groups, "cov_struct": cov_struct,
                                 "n_groups": n_groups})
                if n_groups < 20:
                    notes.append(f"GEE with only {n_groups} runner(s): robust standard errors "
                                 "are too small with fewer than about 20 clusters")
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(
                f"daily_model: the fit failed ({type(err).__name__}: {err}); drop rare or "
                "collinear terms"
            ) from err
    notes.extend(_translate(caught))
    if (getattr(fit, "mle_retvals", None) or {}).get("converged", True) is False and not any(
            "converge" in n for n in notes):
        notes.append("the logistic fit did not converge; estimates may be unreliable")
    params = np.asarray(fit.params, dtype=float)[1:]
    bse = np.asarray(fit.bse, dtype=float)[1:]
    notes.extend(_large_coefficients(params, bse, used))
    table = d.table(params, bse, ratio="odds ratio", alpha=alpha)
    settings["terms_used"] = used
    design = rows[["runner_id", "date", "onset", "n_prior_episodes", *used]].reset_index(drop=True)
    return ModelResult("daily_model", fit, table, notes, design, settings)


# ------------------------------------------------------------- recurrent Cox
def _phreg_clustered(
    model: Any, fit: Any, X: np.ndarray, stop: np.ndarray, status: np.ndarray,
    strata: np.ndarray, groups: np.ndarray,
) -> Any:
    """PHReg results with the cluster-robust (sandwich) covariance.

    ``PHReg.fit(groups=...)`` is not used: with delayed entry its score residuals do
    not sum to the score (statsmodels 0.15) and rows outside every risk set come
    back NaN, which turns every standard error into NaN. Our rows are unit
    intervals ``(k - 1, k]`` on an integer time scale, so row ``i`` belongs to the
    risk set of one event time only (its own ``stop``), and its score residual is
    ``U_i = (x_i - xbar) (status_i - exp(eta_i) d / S0)`` with ``S0``, ``xbar``
    and ``d`` the risk-set sum of ``exp(eta)``, the weighted mean covariate and the
    number of events at that (stratum, time) (Breslow form; zero when no event
    occurs there). Covariance ``H^-1 (sum_g U_g U_g') H^-1`` with ``H`` the
    Hessian of the fitted partial likelihood (Lin & Wei 1989,
    doi:10.1080/01621459.1989.10478874).
    """
    from statsmodels.duration.hazard_regression import PHRegResults

    params = np.asarray(fit.params, dtype=float)
    eta = X @ params
    eta = eta - eta.max()
    w = np.exp(eta)
    key = pd.factorize(pd.MultiIndex.from_arrays([strata, stop]))[0]
    n_key = key.max() + 1
    s0 = np.bincount(key, weights=w, minlength=n_key)
    d = np.bincount(key, weights=status, minlength=n_key)
    s1 = np.column_stack([np.bincount(key, weights=w * X[:, j], minlength=n_key)
                          for j in range(X.shape[1])])
    xbar = s1 / s0[:, None]
    resid = (X - xbar[key]) * (status - w * d[key] / s0[key])[:, None]
    codes = pd.factorize(groups)[0]
    sums = np.zeros((codes.max() + 1, X.shape[1]))
    np.add.at(sums, codes, resid)
    hess_inv = np.linalg.inv(model.hessian(params))
    cov = hess_inv @ (sums.T @ sums) @ hess_inv
    model.groups = np.asarray(groups)
    return PHRegResults(model, params, cov, covariance_type="robust")


def recurrent_cox(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int] = (1, 7),
    gap_days: int = 0,
    time_scale: str = "gap",
    stratify: bool | None = None,
    max_stratum: int = 3,
    ties: str = "efron",
    agg: Mapping[str, str] | None = None,
    alpha: float = 0.05,
) -> ModelResult:
    """Counting-process Cox model of recurrent episodes (Prentice-Williams-Peterson).

    Parameters
    ----------
    frame
        Analysis frame (one or several runners).
    exposures
        Frame columns; one term per lag, ``<exposure>_<L>d`` (as in
        :func:`daily_model`).
    lags
        Window lengths [d] (days ``t-L .. t-1``; see :func:`daily_model`).
    gap_days
        Shift every window ``gap_days`` further back [d].
    time_scale
        ``"gap"``: days since the runner became at risk again (first day of the
        record, or the first day after an episode's washout); ``"total"``: days
        since the runner's first day.
    stratify
        Stratify by episode number (``n_prior_episodes``, capped at
        ``max_stratum``): each recurrence has its own baseline hazard. Default:
        True for several runners; False for one runner, whose episode-number
        strata would each hold a single at-risk period (every risk set of size
        one, no information).
    max_stratum
        Episode numbers >= this share one stratum.
    ties
        ``"efron"`` or ``"breslow"`` (days are discrete, so onsets of different
        runners tie).
    agg
        Override the window rule per exposure.
    alpha
        1 - confidence level.

    Returns
    -------
    ModelResult
        ``results`` is the ``PHReg`` fit; the table's ``odds_ratio`` column holds
        hazard ratios (``ratio`` says so). ``design`` has one row per at-risk day
        with ``start``, ``stop``, ``status`` and ``stratum``.

    Notes
    -----
    Each at-risk day ``t`` is an interval ``(start, stop] = (k - 1, k]`` on the
    chosen time scale with time-varying exposures ``W_(e,L)(t)`` and ``status`` =
    onset; fitted as ``PHReg(stop, X, status=status, entry=start,
    strata=stratum, ties=ties).fit(groups=runner_id)`` (robust sandwich errors
    clustered on runner) for several runners, and without clustering for one
    runner (its episodes are then treated as independent given the exposures,
    warned). Days not at risk (inside an episode or its washout, unknown diary)
    leave the risk set.

    References
    ----------
    Prentice RL, Williams BJ, Peterson AV (1981). On the regression analysis of
    multivariate failure time data. Biometrika 68:373-379. doi:10.1093/biomet/68.2.373
    Andersen PK, Gill RD (1982). Cox's regression model for counting processes: a
    large sample study. Ann Stat 10:1100-1120. doi:10.1214/aos/1176345976
    """
    from statsmodels.duration.hazard_regression import PHReg

    if time_scale not in ("gap", "total"):
        raise ValueError(f"recurrent_cox: time_scale must be 'gap' or 'total', got {time_scale!r}")
    if ties not in ("efron", "breslow"):
        raise ValueError(f"recurrent_cox: ties must be 'efron' or 'breslow', got {ties!r}")
    d = _lagged_design(frame, exposures, lags=lags, gap_days=gap_days, agg=agg, alpha=alpha,
                       who="recurrent_cox", intercept=False)
    rows, days, used, n_onsets, notes = d.rows, d.days, d.used, d.n_onsets, d.notes
    n_runners = rows["runner_id"].nunique()
    if stratify is None:
        stratify = n_runners > 1
    # time scale: day number since the runner's first day, or since the period start
    row = rows["_row"].to_numpy()
    day = days.dn[row]
    if time_scale == "total":
        origin = (days.dn - days.pos)[row]
    else:
        # first at-risk day of each (runner, episode number) period
        at = days.flag("at_risk")
        key = pd.MultiIndex.from_arrays([days.code[at], days.prior()[at]])
        period_start = pd.Series(days.dn[at]).groupby(key).min()
        origin = period_start.reindex(
            pd.MultiIndex.from_arrays([days.code[row], rows["n_prior_episodes"].to_numpy()])
        ).to_numpy(dtype=np.int64)
    stop = (day - origin + 1).astype(float)
    # PHReg counts a row as at risk at its entry time (entry <= t, statsmodels 0.15),
    # while the interval (k-1, k] is at risk only at t = k. With integer event
    # times, entry k - 0.5 gives exactly the counting-process risk sets.
    start = stop - 0.5
    stratum = np.minimum(rows["n_prior_episodes"].to_numpy(dtype=np.int64), max_stratum)
    if n_runners == 1:
        notes.append("one runner: episodes are treated as independent given the exposures "
                     "(no clustering possible)")
    notes.extend(_separated_terms(rows, used, "onset"))
    status_all = rows["onset"].to_numpy(dtype=float)
    strata_all = stratum if stratify else np.zeros(len(stop), np.int64)
    # A unit interval (k-1, k] is in the risk set of event time k only; rows whose
    # (stratum, k) holds no event never enter the partial likelihood (nor the score
    # residuals), so they are left out of the fit: same estimates, much less work.
    risk_key = pd.factorize(pd.MultiIndex.from_arrays([strata_all, stop]))[0]
    keep = np.bincount(risk_key, weights=status_all)[risk_key] > 0
    X = rows.loc[keep, used].astype(float).reset_index(drop=True)
    status = status_all[keep]
    codes = pd.factorize(rows["runner_id"])[0][keep]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = PHReg(stop[keep], X, status=status, entry=start[keep],
                          strata=strata_all[keep] if stratify else None, ties=ties)
            fit = model.fit()
            if n_runners > 1:
                fit = _phreg_clustered(model, fit, X.to_numpy(), stop[keep], status,
                                       strata_all[keep], codes)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as err:
            raise ModelFitError(
                f"recurrent_cox: PHReg failed ({type(err).__name__}: {err}); drop rare or "
                "collinear terms"
            ) from err
    notes.extend(_translate(caught))
    params = np.asarray(fit.params, dtype=float)
    bse = np.asarray(fit.bse, dtype=float)
    notes.extend(_large_coefficients(params, bse, used))
    table = d.table(params, bse, ratio="hazard ratio", alpha=alpha)
    design = rows[["runner_id", "date", *used]].copy()
    design["start"] = start
    design["stop"] = stop
    design["status"] = status_all.astype(np.int64)
    design["stratum"] = stratum if stratify else 0
    settings: dict[str, Any] = {
        "lags": d.lags, "gap_days": gap_days, "agg": d.kinds, "alpha": alpha,
        "time_scale": time_scale,
        "stratify": bool(stratify), "max_stratum": max_stratum, "ties": ties,
        "n_episodes": n_onsets, "n_days": len(rows), "n_runners": int(n_runners),
        "n_rows_in_risk_sets": int(keep.sum()),
        "terms_used": used,
    }
    return ModelResult("recurrent_cox", fit, table, notes, design.reset_index(drop=True), settings)
