"""One definition of a run: which activities count, from their sport and sub-sport.

Every part of kneedata that needs "the runs" (daily load, spikes, gait, shoes, the
analysis frame, the report, shoe assignment, duplicate matching, the readers'
step cadence) asks :func:`run_kind` or :func:`select_runs`, so an older Garmin
treadmill file (``sport="generic", sub_sport="treadmill"``) is a run everywhere
or nowhere.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from kneedata._dates import local_days
from kneedata.errors import DataQualityWarning, SchemaError

__all__ = ["OPT_IN_KINDS", "RUN_KINDS", "check_include", "run_kind", "run_mask", "runs_in_order",
           "select_runs"]

#: Kinds of run counted by default.
RUN_KINDS: tuple[str, ...] = ("road", "trail", "track", "treadmill", "virtual")
#: Foot activities counted only when asked for (``include=(*RUN_KINDS, "walking")``).
OPT_IN_KINDS: tuple[str, ...] = ("walking", "hiking")

#: Sport names (FIT and the words GPX/TCX writers use) that are running, with the
#: kind the name itself implies (None: decided by the sub-sport).
_RUNNING_SPORTS: dict[str, str | None] = {
    "running": None, "run": None, "jogging": None, "street_running": "road",
    "road_running": "road", "trail_running": "trail", "trail": "trail",
    "track_running": "track", "treadmill": "treadmill", "treadmill_running": "treadmill",
    "indoor_running": "treadmill", "virtual_run": "virtual", "virtual_running": "virtual",
    "ultra_run": None, "ultra_running": None,
}
_WALKING_SPORTS = frozenset({"walking", "walk", "casual_walking", "speed_walking",
                             "indoor_walking"})
_HIKING_SPORTS = frozenset({"hiking", "hike", "mountaineering", "snowshoeing"})
#: Sub-sports that name the kind of a run (and make a generic session a run).
_SUB_KINDS: dict[str, str] = {
    "treadmill": "treadmill", "indoor_running": "treadmill", "trail": "trail",
    "track": "track", "street": "road", "road": "road",
    "virtual_activity": "virtual", "virtual": "virtual",
}
_WALKING_SUBS = frozenset({"indoor_walking", "casual_walking", "speed_walking"})
#: Sports that say nothing by themselves (older Garmin files: generic + treadmill).
_UNSPECIFIC_SPORTS = frozenset({"generic", "fitness_equipment", "training", "all"})
#: Sub-sports of a generic session that are not enough to call it a run (they are
#: also cycling sub-sports).
_AMBIGUOUS_SUBS = frozenset({"road", "virtual_activity", "virtual"})


def _norm(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "generic"
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    return text or "generic"


def run_kind(sport: object, sub_sport: object = None) -> str | None:
    """The kind of foot activity a sport and sub-sport describe, or None.

    Returns one of :data:`RUN_KINDS` (``road``, ``trail``, ``track``,
    ``treadmill``, ``virtual``), ``walking``, ``hiking``, or None (cycling,
    swimming, strength, an unspecific session ...).

    Examples
    --------
    >>> run_kind("running", "trail"), run_kind("generic", "treadmill")
    ('trail', 'treadmill')
    >>> run_kind("Running"), run_kind("walking"), run_kind("cycling", "road")
    ('road', 'walking', None)
    """
    name, sub = _norm(sport), _norm(sub_sport)
    if name in _RUNNING_SPORTS:
        return _RUNNING_SPORTS[name] or _SUB_KINDS.get(sub, "road")
    if name in _WALKING_SPORTS:
        return "walking"
    if name in _HIKING_SPORTS:
        return "hiking"
    if name in _UNSPECIFIC_SPORTS:
        if sub in _WALKING_SUBS:
            return "walking"
        if sub in _SUB_KINDS and sub not in _AMBIGUOUS_SUBS:
            return _SUB_KINDS[sub]
    return None


def check_include(include: Iterable[str] | str) -> tuple[str, ...]:
    """``include`` as a tuple of known kinds of run; a ValueError names unknown ones.

    Examples
    --------
    >>> check_include("trail"), check_include(["road", "walking"])
    (('trail',), ('road', 'walking'))
    """
    wanted = (include,) if isinstance(include, str) else tuple(str(k) for k in include)
    known = (*RUN_KINDS, *OPT_IN_KINDS)
    unknown = [k for k in wanted if k not in known]
    if unknown or not wanted:
        raise ValueError(
            f"include={list(wanted)}: {unknown or 'nothing'} is not a kind of run; choose "
            f"from {list(known)} (walking and hiking are opt-in)."
        )
    return wanted


def select_runs(activities: pd.DataFrame, *,
                include: Iterable[str] | str = RUN_KINDS) -> pd.DataFrame:
    """The activities that are runs of the kinds asked for.

    Parameters
    ----------
    activities
        One row per activity with ``sport`` and, optionally, ``sub_sport`` (as
        from :meth:`kneedata.Store.activities`).
    include
        Kinds counted as runs: any of ``road``, ``trail``, ``track``,
        ``treadmill``, ``virtual`` (default: all five) and the opt-in
        ``walking``, ``hiking``.

    Returns
    -------
    pandas.DataFrame
        The selected rows, in their order, index and columns unchanged.

    Examples
    --------
    >>> acts = pd.DataFrame({"sport": ["running", "generic", "cycling", "walking"],
    ...                      "sub_sport": ["trail", "treadmill", "road", "generic"]})
    >>> select_runs(acts).index.tolist()
    [0, 1]
    >>> select_runs(acts, include=("road", "walking")).index.tolist()
    [3]
    """
    kinds = check_include(include)
    if "sport" not in activities.columns:
        raise SchemaError(
            f"select_runs: no 'sport' column; found {list(activities.columns)[:12]}. "
            "Pass Store.activities() or add the sport (and sub_sport) of each activity."
        )
    return activities.loc[run_mask(activities, kinds)]


def run_mask(activities: pd.DataFrame, kinds: Iterable[str]) -> np.ndarray:
    """Boolean array: which rows are runs of ``kinds`` (see :func:`run_kind`)."""
    wanted = frozenset(kinds)
    sport = activities["sport"].to_numpy(dtype=object)
    sub = (activities["sub_sport"].to_numpy(dtype=object) if "sub_sport" in activities.columns
           else np.full(len(activities), None, dtype=object))
    cache: dict[tuple[object, object], bool] = {}
    out = np.zeros(len(activities), dtype=bool)
    for i, key in enumerate(zip(sport, sub, strict=True)):
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = run_kind(*key) in wanted
        out[i] = hit
    return out


def runs_in_order(activities: pd.DataFrame, *,
                  include: Iterable[str] | str | None = RUN_KINDS) -> pd.DataFrame:
    """The runs (:func:`select_runs`) sorted by local date, then start time.

    Parameters
    ----------
    activities
        ``Store.activities()``: ``local_date``, ``sport``, optional ``sub_sport``
        and ``start_time_utc``.
    include
        Kinds of run (see :func:`select_runs`); ``None`` takes every row (the
        caller selected the runs already).

    Returns
    -------
    pandas.DataFrame
        Indexed like the selected rows of ``activities``, sorted: ``_date`` (local
        day, tz-naive datetime64), ``_start`` (UTC start or NaT) and ``_row``.
        Runs without a local date are left out with a :class:`DataQualityWarning`.
    """
    need = ["local_date"] if include is None else ["local_date", "sport"]
    missing = [c for c in need if c not in activities.columns]
    if missing:
        raise SchemaError(
            f"activities: missing column(s) {missing}; found {list(activities.columns)}. "
            "Pass the frame from Store.activities() or add the column(s)."
        )
    runs = activities if include is None else select_runs(activities, include=include)
    try:
        dates = local_days(runs["local_date"])
    except (TypeError, ValueError) as err:
        raise SchemaError(
            f"activities: column 'local_date' holds values that are not dates (first "
            f"values: {list(runs['local_date'].head(3))}); use datetime.date objects or "
            "datetime64 local dates."
        ) from err
    out = pd.DataFrame({"_date": dates.to_numpy(), "_row": np.arange(len(runs))}, index=runs.index)
    if "start_time_utc" in runs.columns:
        out["_start"] = pd.to_datetime(runs["start_time_utc"], utc=True, errors="coerce").to_numpy()
    else:
        out["_start"] = pd.NaT
    bad = out["_date"].isna().to_numpy()
    if bad.any():
        warnings.warn(
            f"activities: {int(bad.sum())} of {len(out)} selected activities have no "
            "local_date and were left out; re-import them so the store can date them.",
            DataQualityWarning,
            stacklevel=3,
        )
        out = out.loc[~bad]
    return out.sort_values(["_date", "_start", "_row"], kind="stable", na_position="last")
