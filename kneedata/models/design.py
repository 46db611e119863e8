"""Design helpers shared by the models: argument checks, the day index of a frame, exposure windows
and lags, the lagged design of the daily, case-series and Cox models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import DataQualityWarning, ModelWarning, warn_once
from kneedata.frame import (
    WINDOW_KIND_NAMES,
    validate_frame,
    window_aggregate,
    window_kind,
)
from kneedata.models.results import MIN_EPISODES_PER_EXPOSURE, ModelFitError
from kneedata.text import count

_EPOCH = np.datetime64("1970-01-01", "D")


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


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"models: alpha must be in (0, 1), got {alpha!r}")


def _check_penalty(penalty: str | float | None, who: str) -> None:
    if penalty is None or penalty == "logF":
        return
    if isinstance(penalty, (int, float)) and not isinstance(penalty, bool) and penalty > 0:
        return
    raise ValueError(f"{who}: penalty must be None, 'logF' or a number > 0, got {penalty!r}")


def _warn_data(messages: Iterable[str]) -> None:
    for m in messages:
        warn_once(m, DataQualityWarning)


def _warn_model(messages: Iterable[str]) -> None:
    for m in messages:
        warn_once(m, ModelWarning)


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


@dataclass
class _Terms:
    """The terms asked for, what became of them, and how they are labelled."""

    asked: list[str]
    used: list[str]
    exposure: dict[str, str]
    window: dict[str, str]
    dropped: dict[str, str]
    informative: dict[str, int]
    direction: dict[str, float]  # +1 / -1: one-variable separation seen in the data


def _few_episodes_notes(n_episodes: int, informative: Mapping[str, int],
                        used: Sequence[str]) -> list[str]:
    notes = [f"{e}: only {count(informative[e], 'informative episode')}" for e in used
             if informative[e] < MIN_EPISODES_PER_EXPOSURE]
    if n_episodes < MIN_EPISODES_PER_EXPOSURE * max(1, len(used)):
        notes.append(f"{n_episodes} episodes for {len(used)} term(s): fewer than "
                     f"{MIN_EPISODES_PER_EXPOSURE} per term; estimates are fragile")
    return notes


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
    notes = [f"{count(n_unknown, 'day at risk')} left out: a lag window is unknown "
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


def _usable_terms(rows: pd.DataFrame, terms: list[str], *,
                  intercept: bool) -> tuple[list[str], dict[str, str], list[str]]:
    """Terms left after dropping constant and collinear ones, why each was dropped, notes.

    ``intercept``: test collinearity against an intercept column (a logistic model);
    else on centred columns (a Cox model, whose baseline hazard absorbs constants).
    """
    notes = []
    dropped = {t: "no_variation" for t in terms if rows[t].nunique() < 2}
    if dropped:
        notes.append(f"dropped {list(dropped)}: constant over the at-risk days")
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
            dropped.update({t: "collinear" for t in collinear})
            used = [t for t in used if t not in collinear]
    return used, dropped, notes


def _separation_directions(rows: pd.DataFrame, terms: Sequence[str], event: str) -> dict[str, float]:
    """Terms whose values at events all lie at or beyond the extreme of the non-events.

    +1: every onset has the highest value (ratio infinite); -1: the lowest (ratio 0).
    For a 0/1 term: every onset exposed, or none (quasi-complete separation).
    """
    ev = rows[event].to_numpy(dtype=bool)
    out: dict[str, float] = {}
    if ev.all() or not ev.any():
        return out
    for t in terms:
        x = rows[t].to_numpy(dtype=float)
        if x[ev].min() >= x[~ev].max():
            out[t] = 1.0
        elif x[ev].max() <= x[~ev].min():
            out[t] = -1.0
    return out


@dataclass
class _LaggedDesign:
    """At-risk runner-days with lagged exposure windows, ready for a daily, SCCS or Cox fit."""

    rows: pd.DataFrame
    days: _Days
    lags: list[int]
    kinds: dict[str, str]
    terms: _Terms
    n_onsets: int
    notes: list[str]

    @property
    def used(self) -> list[str]:
        return self.terms.used


def _lagged_design(
    frame: pd.DataFrame,
    exposures: str | Iterable[str],
    *,
    lags: Iterable[int],
    gap_days: int,
    agg: Mapping[str, str] | None,
    alpha: float,
    penalty: str | float | None,
    who: str,
    intercept: bool,
) -> _LaggedDesign:
    """Validate, build the lagged at-risk rows and keep the usable terms.

    ``notes`` holds the data notes, the dropped terms and the few-onsets caveat;
    data notes are emitted as :class:`DataQualityWarning`, dropped terms as
    :class:`ModelWarning`.
    """
    names = _exposure_list(exposures)
    validate_frame(frame, names)
    _check_alpha(alpha)
    _check_penalty(penalty, who)
    lag_list = _check_lags(lags, who)
    _check_gap(gap_days, who)
    kinds = _kinds(frame, names, agg)
    rows, asked, term_exposure, term_window, data_notes, days = _lagged_rows(
        frame, names, lag_list, kinds, gap_days)
    n_onsets = int(rows["onset"].sum())
    _warn_data(data_notes)
    if n_onsets == 0:
        raise ModelFitError(f"{who}: no onset on an at-risk day with known exposures; "
                            "nothing to model")
    used, dropped, term_notes = _usable_terms(rows, asked, intercept=intercept)
    _warn_model(term_notes)
    if not used:
        raise ModelFitError(f"{who}: no usable term among {asked}", status="no_variation")
    onset = rows["onset"].to_numpy(dtype=bool)
    informative = {t: int(((rows[t].to_numpy() != 0) & onset).sum()) for t in asked}
    terms = _Terms(asked, used, term_exposure, term_window, dropped, informative,
                   _separation_directions(rows, used, "onset"))
    notes = data_notes + term_notes + _few_episodes_notes(n_onsets, informative, used)
    return _LaggedDesign(rows, days, lag_list, kinds, terms, n_onsets, notes)


def _calendar_basis(rows: pd.DataFrame, df: int) -> pd.DataFrame:
    """Natural cubic regression spline of calendar time (centred, ``df`` columns)."""
    import patsy

    day = (pd.to_datetime(rows["date"]) - pd.Timestamp("1970-01-01")).dt.days.to_numpy(float)
    basis = patsy.dmatrix(f"cr(day, df={df}, constraints='center') - 1", {"day": day},
                          return_type="dataframe")
    basis.columns = [f"calendar_{i + 1}" for i in range(basis.shape[1])]
    return basis.reset_index(drop=True)
