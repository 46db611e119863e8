"""The case-crossover design: each episode against referent windows of the same runner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.frame import (
    validate_frame,
)
from kneedata.models.design import (
    _EPOCH,
    _check_alpha,
    _check_penalty,
    _Days,
    _days,
    _drop_collinear,
    _exposure_list,
    _few_episodes_notes,
    _kinds,
    _Terms,
    _warn_data,
    _warn_model,
    _window_label,
)
from kneedata.models.engines import _finish, _fit_conditional, _newton_start
from kneedata.models.results import ModelFitError, ModelResult
from kneedata.text import count

__all__ = ["REFERENT_SCHEMES", "case_crossover"]


REFERENT_SCHEMES = ("time-stratified", "all", "unidirectional")


def _referent_days(
    t: int, dn: np.ndarray, *, hazard_days: int, referents: str, stratum_days: int,
    n_referents: int,
) -> np.ndarray:
    n = dn.size
    if referents == "unidirectional":
        cand = t - hazard_days * np.arange(1, n_referents + 1)
        return cand[cand >= 0]
    step = hazard_days if referents == "time-stratified" else 1
    k_max = stratum_days // step + 1
    cand = t + step * np.arange(-k_max, k_max + 1)
    cand = cand[(cand >= 0) & (cand < n) & (cand != t)]
    return cand[dn[cand] // stratum_days == dn[t] // stratum_days]


def _check_case_crossover(hazard_days: int, gap_days: int, referents: str, stratum_days: int,
                          n_referents: int, penalty: str | float | None, alpha: float) -> None:
    _check_alpha(alpha)
    for label, value, low in (("hazard_days", hazard_days, 1), ("gap_days", gap_days, 0),
                              ("stratum_days", stratum_days, 1), ("n_referents", n_referents, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"case_crossover: {label} must be an integer >= {low}, got {value!r}")
    if referents not in REFERENT_SCHEMES:
        raise ValueError(f"case_crossover: referents must be one of {REFERENT_SCHEMES}, "
                         f"got {referents!r}")
    if referents != "unidirectional" and stratum_days < 2 * hazard_days:
        raise ValueError(
            f"case_crossover: stratum_days={stratum_days} leaves no room for a referent "
            f"window of {hazard_days} days; use stratum_days >= {2 * hazard_days}"
        )
    _check_penalty(penalty, "case_crossover")


def _case_crossover_design(
    days: _Days, names: list[str], kinds: Mapping[str, str], *, hazard_days: int,
    gap_days: int, referents: str, stratum_days: int, n_referents: int,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per eligible case or referent window, and counts of what was left out."""
    end_lag = gap_days + 1
    span = gap_days + hazard_days  # days t-span .. t-1 must be free of episodes
    counts = {"not_at_risk": 0, "case_window": 0, "no_referent": 0, "ref_unknown": 0}
    onset, at_risk = days.flag("onset"), days.flag("at_risk")
    blocked = days.flag("in_episode") | days.filled
    n = len(onset)
    cs = np.concatenate([[0], np.cumsum(blocked)])
    t_idx = np.arange(n)
    clean = (days.pos >= span) & ((cs[t_idx] - cs[np.clip(t_idx - span, 0, n)]) == 0)
    W = np.column_stack([days.window(e, kinds[e], end_lag=end_lag, length=hazard_days)
                         for e in names])
    known = np.isfinite(W).all(axis=1)
    members: list[np.ndarray] = []
    for t in np.flatnonzero(onset):
        if not at_risk[t]:
            counts["not_at_risk"] += 1
            continue
        if not (clean[t] and known[t]):
            counts["case_window"] += 1
            continue
        cand = _referent_days(int(t), days.dn, hazard_days=hazard_days, referents=referents,
                              stratum_days=stratum_days, n_referents=n_referents)
        cand = cand[(days.code[cand] == days.code[t]) & at_risk[cand] & ~onset[cand] & clean[cand]]
        counts["ref_unknown"] += int((~known[cand]).sum())
        ref = cand[known[cand]]
        if ref.size == 0:
            counts["no_referent"] += 1
            continue
        members.append(np.concatenate([[t], ref]))
    sel = np.concatenate(members) if members else np.zeros(0, np.int64)
    sizes = np.array([m.size for m in members], dtype=np.int64)
    stratum = np.repeat(np.arange(len(members)), sizes)
    case = np.zeros(sel.size, np.int64)
    case[np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if members else []] = 1
    dates = _EPOCH + days.dn.astype("timedelta64[D]")
    as_ns = lambda d: pd.to_datetime(d).as_unit("ns")  # noqa: E731
    design = pd.DataFrame({
        "stratum": stratum,
        "runner_id": pd.array([days.ids[c] for c in days.code[sel]], dtype="str"),
        "onset_date": as_ns(dates[np.repeat([m[0] for m in members], sizes).astype(np.int64)]),
        "index_date": as_ns(dates[sel]),
        "window_start": as_ns(dates[sel] - np.timedelta64(span, "D")),
        "window_end": as_ns(dates[sel] - np.timedelta64(end_lag, "D")),
        "case": case,
        **{e: W[sel, j] for j, e in enumerate(names)},
    })
    return design, counts


def _case_crossover_data_notes(counts: Mapping[str, int], referents: str,
                               stratum_days: int) -> list[str]:
    notes = []
    if counts["not_at_risk"]:
        notes.append(f"{counts['not_at_risk']} onset(s) left out: not at risk that day "
                     "(onset not known to follow a pain-free washout, or diary unknown)")
    if counts["case_window"]:
        notes.append(f"{count(counts['case_window'], 'episode')} left out: their hazard window "
                     "overlaps an earlier episode, starts before the data, or has unknown "
                     "exposure")
    if counts["no_referent"]:
        hint = (f" (after an onset the runner is not at risk for weeks, so a {stratum_days}-day "
                "stratum often has no referent left)" if referents != "unidirectional" else "")
        notes.append(f"{count(counts['no_referent'], 'episode')} left out: no eligible referent "
                     f"window in their stratum{hint}")
    if counts["ref_unknown"]:
        notes.append(f"{counts['ref_unknown']} referent window(s) left out for unknown exposure")
    return notes


def _case_crossover_terms(design: pd.DataFrame, names: list[str],
                          windows: dict[str, str]) -> tuple[_Terms, list[str]]:
    """Informative episodes, dropped exposures and one-variable separation per exposure."""
    grp = design.groupby("stratum")
    spread = {e: grp[e].max() - grp[e].min() for e in names}
    informative = {e: int((spread[e] > 0).sum()) for e in names}
    dropped = {e: "no_variation" for e in names if informative[e] == 0}
    used = [e for e in names if e not in dropped]
    notes = [f"dropped {list(dropped)}: no within-episode variation"] if dropped else []
    if used:
        demeaned = design[used] - grp[used].transform("mean")
        collinear = _drop_collinear(demeaned.to_numpy(dtype=float), used)
        if collinear:
            notes.append(f"dropped {collinear}: linear combinations of other exposures "
                         "within episodes")
            dropped.update({e: "collinear" for e in collinear})
            used = [e for e in used if e not in collinear]
    direction = {}
    cases, refs = design[design["case"] == 1].set_index("stratum"), design[design["case"] == 0]
    for e in used:
        varies = spread[e] > 0
        case_v = cases[e][varies]
        if (case_v >= refs.groupby("stratum")[e].max()[varies]).all():
            direction[e] = 1.0
        elif (case_v <= refs.groupby("stratum")[e].min()[varies]).all():
            direction[e] = -1.0
    terms = _Terms(list(names), used, {e: e for e in names}, windows, dropped, informative,
                   direction)
    return terms, notes


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

    A sensitivity analysis for one runner (see :func:`kneedata.primary_analysis`).
    Measured in the single-runner study (README; 3 years, ~15 episodes, true OR
    1/2/3/6, 100 re-draws): the default 28-day strata keep 1-3 referents per
    episode, separate in 38-55 % of runners and cover the truth in 41-71 %;
    ``stratum_days=84``: coverage 89-93 %, power 25 % at OR 3 and 46 % at OR 6;
    ``stratum_days=84, referents="all", penalty="logF"``: coverage 93-98 %, power
    22 % / 51 %.

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
        ``"time-stratified"`` (default), ``"all"`` or ``"unidirectional"``; see Notes.
    stratum_days
        Length of the fixed calendar strata [d].
    n_referents
        Number of referent windows of the unidirectional design.
    penalty
        ``None`` (maximum likelihood), ``"logF"`` (log-F(2,2) prior on every log
        odds ratio by data augmentation: shrinks towards OR 1, finite under
        separation, Wald intervals kept), or a number ``a`` > 0 (ridge penalty
        via ``ConditionalLogit.fit_regularized``: point estimates only).
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
    gap_days - 1``; a referent day ``u`` contributes the window at the same offsets.
    *Time-stratified referents* (Lumley & Levy 2000; Janes et al. 2005): fixed
    calendar blocks of ``stratum_days`` days counted from 1970-01-01; referents
    are the other days of the block a whole number of ``hazard_days`` away (the
    same weekday), so the referent set does not depend on the onset day.
    ``"all"``: every eligible day of the block (overlapping windows; Navidi 1998's
    full-stratum idea with fixed blocks). *Unidirectional*: the ``n_referents``
    windows just before the hazard window (biased under trends; for comparison).
    *Eligibility* (case and referents alike): the index day at risk (referents
    not an onset), no day from the window's first day to the day before the index
    day inside an episode or outside the frame, every exposure summary known.
    *Fit*: ``ConditionalLogit(case, exposures, groups=stratum)``; exposures that
    never differ within a stratum or are collinear are dropped (status
    ``no_variation``). Separation (case window always the most or least exposed,
    or ``|log OR| > 7``) gives status ``separated``: infinity with the finite
    profile-likelihood bound, or with ``penalty="logF"`` the shrunken estimate.

    References
    ----------
    Maclure M (1991). The case-crossover design. Am J Epidemiol 133:144-153.
    doi:10.1093/oxfordjournals.aje.a115853
    Mittleman MA, Maclure M, Robins JM (1995). Control sampling strategies for
    case-crossover studies. Am J Epidemiol 142:91-98.
    doi:10.1093/oxfordjournals.aje.a117550
    Navidi W (1998). Bidirectional case-crossover designs for exposures with time
    trends. Biometrics 54:596-605. doi:10.2307/3109766
    Lumley T, Levy D (2000). Bias in the case-crossover design. J Expo Anal Environ
    Epidemiol 10:479-486. doi:10.1038/sj.jea.7500116
    Janes H, Sheppard L, Lumley T (2005). Case-crossover analyses of air pollution
    exposure data. Epidemiology 16:717-726. doi:10.1097/01.ede.0000181315.18836.9d
    Greenland S, Mansournia MA (2015). Penalization, bias reduction, and default
    priors in logistic and related categorical and survival regressions. Stat Med
    34:3133-3143. doi:10.1002/sim.6537
    """
    from statsmodels.discrete.conditional_models import ConditionalLogit

    names = _exposure_list(exposures)
    validate_frame(frame, names)
    _check_case_crossover(hazard_days, gap_days, referents, stratum_days, n_referents,
                          penalty, alpha)
    kinds = _kinds(frame, names, agg)
    design, counts = _case_crossover_design(
        _days(frame), names, kinds, hazard_days=hazard_days, gap_days=gap_days,
        referents=referents, stratum_days=stratum_days, n_referents=n_referents)
    data_notes = _case_crossover_data_notes(counts, referents, stratum_days)
    _warn_data(data_notes)
    n_strata = int(design["stratum"].nunique())
    settings: dict[str, Any] = {
        "hazard_days": hazard_days, "gap_days": gap_days, "referents": referents,
        "stratum_days": stratum_days, "n_referents": n_referents, "penalty": penalty,
        "agg": kinds, "alpha": alpha, "n_episodes": n_strata, "n_windows": len(design),
    }
    if n_strata == 0:
        raise ModelFitError(
            "case_crossover: no episode with an eligible hazard window and referent; "
            + ("; ".join(data_notes) or "the frame has no onsets")
            + ". Check the diary (onsets, at_risk) and the exposure coverage."
        )
    windows = {e: _window_label(gap_days + 1, hazard_days, kinds[e]) for e in names}
    terms, term_notes = _case_crossover_terms(design, names, windows)
    _warn_model(term_notes)
    if not terms.used:
        raise ModelFitError(
            f"case_crossover: none of {names} varies between the hazard and referent windows "
            f"of any of the {n_strata} episodes; nothing to estimate."
        )
    y = design["case"].to_numpy(dtype=float)
    X = design[terms.used].to_numpy(dtype=float)
    groups = design["stratum"].to_numpy()
    fit = _fit_conditional(ConditionalLogit, y, X, groups, terms.used, penalty,
                           start=_newton_start(y, X, groups))
    notes = data_notes + term_notes + _few_episodes_notes(n_strata, terms.informative, terms.used)
    if penalty == "logF":
        notes.append("log-F(2,2) penalised: estimates shrunk towards 1")
    settings["exposures_used"] = terms.used
    return _finish("case_crossover", fit, terms, ratio_kind="odds", n_episodes=n_strata,
                   alpha=alpha, penalty=penalty, notes=notes, design=design, settings=settings)
