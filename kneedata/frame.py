"""The analysis frame: one row per runner-day, exposures next to outcomes.

:func:`analysis_frame` joins what the metrics computed from the watch (daily load,
load ratios, single-session spikes, gait, shoes) and what the runner logged
(routines, pain diary) onto a complete calendar of local days, and marks on each
day whether a pain episode started (``onset``) and whether the runner was at risk
of a new one (``at_risk``). Every model in :mod:`kneedata.models` reads this frame,
and :mod:`kneedata.simulate` writes frames in the same layout.

Same-day exposures, lags built by the models
--------------------------------------------
The frame holds **same-day** values only: ``spike_large`` is True on the day a run
with a large spike was run, ``n_strength`` counts the strength sessions *of that
day*, ``distance_km`` is that day's distance. Windows and lags ("any large spike in
days -7..-1", "strength sessions in the previous 7 days") are built by the models
from these daily values, with the aggregation rule of :func:`window_kind`:

- ``any``: flags (bool columns, ``spike_*``, ``new_shoe`` ...): 1 if the flag is set
  on any day of the window, 0 if it is set on none, unknown (NaN) if it is set on
  none and some day of the window is unknown.
- ``sum``: counts and additive daily quantities (``n_*``, ``distance_km``,
  ``duration_min``, ``descent_m``, ``trimp``, ``*_min`` of routines): the window
  total; unknown (NaN) if any day of the window is unknown.
- ``last``: rolling summaries that are already windows themselves (``acute_7d``,
  ``chronic_28d``, the ACWRs, ``ctl``/``atl``/``tsb``, ``monotony_7d``,
  ``weekly_change_*``, ``n_shoes_30d``): the value on the window's last day
  (``acute_7d`` on day ``t-1`` is exactly the load of days ``t-7..t-1``). In the
  daily models a lag ``L`` of such a column is its value on day ``t-L``.
- ``mean``: everything else (gait averages, shoe km and age, drop): the mean over
  the days of the window that have a value (gait only exists on running days);
  NaN if none.

Keeping the frame same-day means one frame serves every window length and gap,
and the hazard window of a case-crossover and the lags of a daily model are
defined in exactly one place (:func:`window_aggregate`).

Routines
--------
A routines log is taken as complete between its first and last entry: a day
without a logged strength session there had none (0); before the first and after
the last entry the counts are unknown (NaN).

Recovery
--------
With wellness data (:meth:`kneedata.Store.wellness`, carried by
:class:`kneedata.Derived`) or the diary's how-you-felt ratings, the frame holds the
recovery family of :func:`kneedata.metrics.recovery.recovery_daily`: short sleep
the night before, sleep and ratings against the runner's own past 28 days, HRV
below and resting HR above the runner's own past 60 days' band (past days only;
unknown without enough history). Without such data the columns are absent.

Outcome columns
---------------
``max_pain_0_10`` is the highest pain score logged that day (NaN: no entry);
``pain_day`` is ``max_pain_0_10 >= threshold``; ``diary_known`` says whether the
day's pain status is known (a diary entry exists that day, or the diary is declared
complete and the day lies between its first and last entry). From
:func:`kneedata.pain_episodes`: ``in_episode`` (onset..end_date, the symptomatic
span), ``episode_id``, ``onset``, ``n_prior_episodes``. ``at_risk`` is
``diary_known`` and not in ``[onset + 1, end_date + washout_days]`` of any episode
(no new onset can be declared there: a pain day would continue the episode), and
on an onset day additionally requires that the episode's onset is known
(``onset_known``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata._dates import local_days
from kneedata.errors import SchemaError
from kneedata.metrics.recovery import recovery_daily
from kneedata.pipeline import Derived, DeriveOptions, derive
from kneedata.schema import (
    DAILY_LOAD,
    FRAME,
    GAIT,
    SHOE_USAGE,
    WINDOW_RULES,
    validate_ranges,
)

__all__ = [
    "OUTCOME_COLUMNS",
    "ROUTINE_KINDS",
    "WINDOW_KINDS",
    "WINDOW_KIND_NAMES",
    "analysis_frame",
    "validate_frame",
    "window_aggregate",
    "window_kind",
]

#: Outcome and bookkeeping columns of the frame (everything else is an exposure).
OUTCOME_COLUMNS = (
    "runner_id",
    "date",
    "max_pain_0_10",
    "pain_day",
    "diary_known",
    "in_episode",
    "episode_id",
    "onset",
    "at_risk",
    "n_prior_episodes",
    "bio_onset",
)

#: Routine kinds of the routines table; each gives ``n_<kind>`` and ``<kind>_min``.
ROUTINE_KINDS = ("strength", "foam_rolling", "physio", "mobility", "other")

#: The window rules (see the module docstring).
WINDOW_KIND_NAMES = WINDOW_RULES

#: Window aggregation of the frame's exposure columns, from the glossary
#: (:data:`kneedata.schema.FRAME`, ``Column.window``; see the module docstring).
WINDOW_KINDS: dict[str, str] = {
    name: col.window for name, col in FRAME.items() if col.window is not None}

_DAILY_LOAD_COLUMNS = tuple(c for c in FRAME if c in DAILY_LOAD)
# per-run gait and shoe columns -> the day's value (glossary Column.per_day)
_GAIT_DAILY = {c: col.per_day for c, col in FRAME.items() if c in GAIT and col.per_day}
_SHOE_DAILY = {c: col.per_day for c, col in FRAME.items() if c in SHOE_USAGE and col.per_day}


def window_kind(column: str, dtype: Any = None) -> str:
    """How a same-day exposure is summarised over a window of days.

    Parameters
    ----------
    column
        Frame column name.
    dtype
        The column's dtype; a bool column not listed in :data:`WINDOW_KINDS` is a
        flag (``"any"``).

    Returns
    -------
    str
        ``"any"``, ``"sum"``, ``"mean"`` or ``"last"``: the explicit entry of
        :data:`WINDOW_KINDS`, else ``"any"`` for bool columns, ``"sum"`` for names
        starting with ``n_``, ``"mean"`` otherwise.
    """
    if column in WINDOW_KINDS:
        return WINDOW_KINDS[column]
    if dtype is not None and pd.api.types.is_bool_dtype(dtype):
        return "any"
    if column.startswith("n_"):
        return "sum"
    return "mean"


def window_aggregate(values: Any, kind: str, *, end_lag: int, length: int) -> np.ndarray:
    """Aggregate a daily series over the window ``[t - end_lag - length + 1, t - end_lag]``.

    Parameters
    ----------
    values
        One runner's daily values on consecutive days (NaN = unknown) [any unit].
    kind
        ``"any"``, ``"sum"``, ``"mean"`` or ``"last"`` (see :func:`window_kind`).
    end_lag
        Days between the window's last day and the index day ``t`` [d]; 1 means
        the window ends yesterday.
    length
        Window length [d].

    Returns
    -------
    numpy.ndarray
        ``out[t]`` for every day ``t``; NaN where the window starts before the
        first day or the rule of ``kind`` says unknown.

    Notes
    -----
    Computed from prefix sums, so the cost is O(n) whatever the window length.
    ``any`` = 1 if some known day is non-zero, 0 if all ``length`` days are known
    and zero, else NaN; ``sum`` = total if all days are known, else NaN;
    ``mean`` = mean over the known days (NaN if none); ``last`` = the value on
    the window's last day (NaN if unknown).
    """
    if kind not in WINDOW_KIND_NAMES:
        raise ValueError(f"window kind must be one of {WINDOW_KIND_NAMES}, got {kind!r}")
    if length < 1 or end_lag < 0:
        raise ValueError(
            f"window length must be >= 1 and end_lag >= 0, got length={length}, "
            f"end_lag={end_lag}"
        )
    v = np.asarray(values, dtype=float)
    n = v.size
    known = ~np.isnan(v)
    zero = np.zeros(1)
    cs_val = np.concatenate([zero, np.cumsum(np.where(known, v, 0.0))])
    cs_known = np.concatenate([zero, np.cumsum(known)])
    t = np.arange(n)
    hi = t - end_lag + 1
    lo = hi - length
    ok = lo >= 0
    hi_c = np.clip(hi, 0, n)
    lo_c = np.clip(lo, 0, n)
    n_known = cs_known[hi_c] - cs_known[lo_c]
    out = np.full(n, np.nan)
    if kind == "last":
        sel = ok & (hi >= 1)
        out[sel] = v[hi[sel] - 1]
        return out
    if kind == "any":
        cs_pos = np.concatenate([zero, np.cumsum(known & (v != 0))])
        n_pos = cs_pos[hi_c] - cs_pos[lo_c]
        out[ok & (n_pos > 0)] = 1.0
        out[ok & (n_pos == 0) & (n_known == length)] = 0.0
    else:
        total = cs_val[hi_c] - cs_val[lo_c]
        if kind == "sum":
            sel = ok & (n_known == length)
            out[sel] = total[sel]
        else:
            sel = ok & (n_known > 0)
            out[sel] = total[sel] / n_known[sel]
    return out


def validate_frame(frame: pd.DataFrame, exposures: Iterable[str] = (), *, what: str = "frame") -> None:
    """Check that a frame has the analysis-frame layout the models need.

    Raises
    ------
    SchemaError
        Naming the missing or mistyped columns and how to obtain a valid frame.
    """
    problems = []
    needed = ["date", "onset", "at_risk", "in_episode"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        problems.append(
            f"{what}: missing column(s) {missing}; found {list(frame.columns)[:15]}. "
            "Build the frame with kneedata.analysis_frame(...) or "
            "kneedata.simulate_runner_days(...)."
        )
    for name in exposures:
        if name not in frame.columns:
            problems.append(
                f"{what}: exposure {name!r} is not a column; exposures available: "
                f"{[c for c in frame.columns if c not in OUTCOME_COLUMNS][:25]}"
            )
        elif not (pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name])):
            problems.append(
                f"{what}: exposure {name!r} has dtype {frame[name].dtype}; it must be "
                "numeric or bool (turn categories into 0/1 flag columns)."
            )
    if "date" in frame.columns and not missing:
        if not pd.api.types.is_datetime64_any_dtype(frame["date"]):
            problems.append(
                f"{what}: column 'date' has dtype {frame['date'].dtype}; expected "
                "datetime64 local dates (pd.to_datetime(frame['date']))."
            )
        keys = ["runner_id", "date"] if "runner_id" in frame.columns else ["date"]
        n_dup = int(frame.duplicated(keys).sum())
        if n_dup:
            problems.append(
                f"{what}: {n_dup} duplicated {'/'.join(keys)} row(s); one row per "
                "runner-day is required (give each runner its own runner_id)."
            )
        for flag in ("onset", "at_risk", "in_episode"):
            if frame[flag].isna().any():
                problems.append(
                    f"{what}: column {flag!r} has {int(frame[flag].isna().sum())} missing "
                    "value(s); it must be True/False on every row."
                )
    if problems:
        raise SchemaError(problems[0] if len(problems) == 1 else
                          f"{len(problems)} problems: " + " | ".join(problems), problems)


# ---------------------------------------------------------------- building blocks
def _activity_dates(activities: pd.DataFrame) -> pd.Series:
    """Local date per activity (index aligned with ``activities``)."""
    if "local_date" not in activities.columns:
        raise SchemaError(
            "activities: no 'local_date' column; found "
            f"{list(activities.columns)[:15]}. Pass Store.activities() (or a frame "
            "with one row per activity and its local_date)."
        )
    return pd.Series(local_days(activities["local_date"], errors="coerce"), index=activities.index)


def _per_run_to_daily(
    per_run: pd.DataFrame,
    activities: pd.DataFrame,
    rules: Mapping[str, str],
    *,
    what: str,
) -> pd.DataFrame:
    """Aggregate a per-run table onto local dates with one rule per column."""
    table = per_run
    date_col = "date" if "date" in table.columns else (
        "local_date" if "local_date" in table.columns else None)
    if date_col is not None:
        dates = pd.Series(local_days(table[date_col], errors="coerce"), index=table.index)
    else:
        ids = table["activity_id"] if "activity_id" in table.columns else pd.Series(
            table.index, index=table.index
        )
        if "activity_id" not in activities.columns:
            raise SchemaError(
                f"{what}: cannot match runs to days: neither a 'local_date' column "
                "nor an 'activity_id' shared with the activities table."
            )
        lookup = pd.Series(
            _activity_dates(activities).to_numpy(), index=activities["activity_id"].astype(str)
        )
        lookup = lookup[~lookup.index.duplicated()]
        dates = pd.Series(lookup.reindex(ids.astype(str)).to_numpy(), index=table.index)
    out: dict[str, pd.Series] = {}
    keep = dates.notna().to_numpy()
    day = dates[keep]
    for column, rule in rules.items():
        if column not in table.columns:
            continue
        col = table.loc[keep, column]
        if rule == "any":
            vals = col.astype("boolean").fillna(False).astype(bool)
            out[column] = vals.groupby(day.to_numpy()).any()
        else:
            numbers: pd.Series = pd.to_numeric(col, errors="coerce").astype(float)
            grouped = numbers.groupby(day.to_numpy())
            if rule == "mean":
                out[column] = grouped.mean()
            elif rule == "sum":
                out[column] = grouped.sum(min_count=1)
            elif rule == "max":
                out[column] = grouped.max()
            elif rule == "absmax":
                frame = pd.DataFrame({"v": numbers.to_numpy(), "a": numbers.abs().to_numpy(),
                                      "d": day.to_numpy()})
                frame = frame.dropna(subset=["v"])
                idx = frame.groupby("d")["a"].idxmax()
                out[column] = pd.Series(frame.loc[idx, "v"].to_numpy(), index=idx.index)
    if not out:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date", dtype="datetime64[ns]"))
    daily = pd.DataFrame(out)
    daily.index = pd.DatetimeIndex(daily.index).as_unit("ns").rename("date")
    return daily


def _spikes_daily(spikes: pd.DataFrame, activities: pd.DataFrame) -> pd.DataFrame:
    """Per-run spikes -> daily flags ``spike_small/moderate/large`` and the max ratio."""
    table = spikes.copy()
    cat = table["spike_category"].astype(str) if "spike_category" in table.columns else None
    rules = {"spike_ratio_max": "max"}
    ratio: Any = table["spike_ratio"] if "spike_ratio" in table.columns else np.nan
    table["spike_ratio_max"] = pd.to_numeric(ratio, errors="coerce")
    for level in ("small", "moderate", "large"):
        table[f"spike_{level}"] = (cat == level) if cat is not None else False
        rules[f"spike_{level}"] = "any"
    if cat is not None:
        table["first_run"] = cat == "first_run"
        rules["first_run"] = "any"
    return _per_run_to_daily(table, activities, rules, what="session_spikes")


def _routines_daily(routines: pd.DataFrame) -> pd.DataFrame:
    """Routines table -> ``n_<kind>`` (sessions) and ``<kind>_min`` per day."""
    for column in ("date", "kind"):
        if column not in routines.columns:
            raise SchemaError(
                f"routines: no {column!r} column; found {list(routines.columns)}. "
                "Read the file with kneedata.read_routines(path)."
            )
    dates = local_days(routines["date"], errors="coerce")
    kinds = routines["kind"].astype(str).str.strip().str.lower()
    minutes = pd.to_numeric(routines.get("minutes", pd.Series(np.nan, index=routines.index)),
                            errors="coerce")
    out = {}
    for kind in ROUTINE_KINDS:
        name = "other_routine" if kind == "other" else kind
        sel = (kinds == kind).to_numpy()
        if kind == "other":
            sel = (~kinds.isin(ROUTINE_KINDS[:-1])).to_numpy()
        d = dates[sel]
        out[f"n_{name}"] = pd.Series(1.0, index=d).groupby(level=0).sum()
        out[f"{name}_min"] = pd.Series(minutes.to_numpy()[sel], index=d).groupby(level=0).sum()
    daily = pd.DataFrame(out)
    daily.index = pd.DatetimeIndex(daily.index).as_unit("ns").rename("date")
    return daily


def _diary_outcomes(days: pd.DatetimeIndex, derived: Derived) -> pd.DataFrame:
    """Pain and episode columns on the calendar ``days`` (from :func:`kneedata.episodes.diary_status`)."""
    from kneedata.episodes import diary_status

    diary, episodes, opts = derived.diary, derived.episodes, derived.options
    assert diary is not None and episodes is not None
    for column in ("date", "pain_0_10"):
        if column not in diary.columns:
            raise SchemaError(
                f"diary: no {column!r} column; found {list(diary.columns)}. Read the "
                "file with kneedata.read_pain_diary(path)."
            )
    status = diary_status(diary, threshold=opts.threshold, washout_days=opts.washout_days,
                          complete=opts.complete, start=days[0], end=days[-1],
                          episodes=episodes)
    status = status.reindex(days)
    onsets = np.sort(pd.DatetimeIndex(episodes["onset_date"]).as_unit("ns").to_numpy())
    prior = np.searchsorted(onsets, days.as_unit("ns").to_numpy(), side="left")
    max_pain = status["pain_0_10"].to_numpy(dtype=float)
    known = status["coverage_known"].fillna(False).to_numpy(dtype=bool)
    if opts.complete:
        max_pain = np.where(known & np.isnan(max_pain), 0.0, max_pain)
    return pd.DataFrame(
        {
            "max_pain_0_10": max_pain,
            "pain_day": status["pain_day"].fillna(False).to_numpy(dtype=bool),
            "diary_known": known,
            "in_episode": status["in_episode"].fillna(False).to_numpy(dtype=bool),
            "episode_id": status["episode_id"].astype("Int64").array,
            "onset": status["onset"].fillna(False).to_numpy(dtype=bool),
            "at_risk": status["at_risk"].fillna(False).to_numpy(dtype=bool),
            "n_prior_episodes": prior.astype(np.int64),
        },
        index=days,
    )


def _watch_daily(derived: Derived) -> pd.DataFrame | None:
    """Daily exposures from the watch: load, load metrics, spikes, gait, shoes."""
    metrics, runs = derived.load, derived.runs
    if metrics is None or derived.spikes is None:
        return None
    days = pd.DatetimeIndex(metrics.index).as_unit("ns").rename("date")
    out = pd.DataFrame(index=days)
    for c in metrics.columns:
        if c in ("weekly_change_cat", "missing_day"):
            continue
        if pd.api.types.is_numeric_dtype(metrics[c]) and not pd.api.types.is_bool_dtype(metrics[c]):
            out[c] = metrics[c].to_numpy(dtype=float)
    missing = (metrics["missing_day"].fillna(False).to_numpy(dtype=bool)
               if "missing_day" in metrics.columns else np.zeros(len(days), dtype=bool))
    for c in _DAILY_LOAD_COLUMNS:
        if c in out.columns:
            out.loc[missing, c] = np.nan
    if "weekly_change_cat" in metrics.columns:
        cat = pd.Series(metrics["weekly_change_cat"].to_numpy(), index=days)
        unknown = cat.isna().to_numpy()
        for name, level in (("weekly_change_10_30", "10-30%"), ("weekly_change_gt30", ">30%")):
            values: Any = np.where(unknown, None, cat.astype(str).to_numpy() == level)
            out[name] = pd.array(values, dtype="boolean")
    per_run: list[tuple[pd.DataFrame, Mapping[str, str]]] = [
        (_spikes_daily(derived.spikes, runs), {})]
    if derived.gait is not None and len(derived.gait):
        per_run.append((_per_run_to_daily(derived.gait, runs, _GAIT_DAILY, what="gait_metrics"),
                        _GAIT_DAILY))
    if derived.shoe_usage is not None:
        per_run.append((_per_run_to_daily(derived.shoe_usage, runs, _SHOE_DAILY,
                                          what="shoe_usage"), _SHOE_DAILY))
    for table, rules in per_run:
        table = table.reindex(days)
        for c in table.columns:
            if window_kind(c) == "any" and rules.get(c, "any") == "any":
                # a watch day without such a run is a known 'no'
                flag = table[c].astype("boolean").fillna(False).mask(missing)
                out[c] = flag.astype("boolean").array
            else:
                vals = table[c].to_numpy(dtype=float)
                if c == "downhill_time_s":
                    vals = np.where(np.isnan(vals) & ~missing, 0.0, vals)
                out[c] = vals
    return out


def frame_of(derived: Derived, *, runner_id: str = "runner") -> pd.DataFrame:
    """The analysis frame of one runner's derived tables (a pure function of them).

    Parameters
    ----------
    derived
        From :func:`kneedata.derive`, with a diary.
    runner_id
        Written in the ``runner_id`` column.

    Returns
    -------
    pandas.DataFrame
        As for :func:`analysis_frame`.
    """
    if derived.diary is None or derived.episodes is None:
        raise SchemaError("analysis_frame: no pain diary was given to derive(); the "
                          "frame's outcomes come from it (pass diary=...).")
    diary = derived.diary
    watch = _watch_daily(derived)
    spans = []
    if watch is not None:
        spans.append(watch.index)
    diary_days = local_days(diary["date"], errors="coerce").dropna() if "date" in diary.columns else pd.DatetimeIndex([])
    if len(diary_days):
        spans.append(diary_days)
    if not spans:
        raise SchemaError(
            f"analysis_frame: runner {runner_id!r} has neither runs nor diary entries; "
            "nothing to analyse."
        )
    first = min(x.min() for x in spans)
    last = max(x.max() for x in spans)
    days = pd.date_range(first, last, freq="D", name="date").as_unit("ns")
    frame = pd.DataFrame(index=days)
    if watch is not None:
        # days outside the watch span: exposures unknown (NaN / <NA>), not zero
        frame = frame.join(watch, how="left")
    routines = derived.routines
    if routines is not None and len(routines):
        rd = _routines_daily(routines)
        r_days = local_days(routines["date"], errors="coerce").dropna()
        inside = (days >= r_days.min()) & (days <= r_days.max())
        rd = rd.reindex(days).fillna(0.0)
        for c in rd.columns:
            frame[c] = np.where(inside, rd[c].to_numpy(dtype=float), np.nan)
    recovery = recovery_daily(derived.wellness, diary, days=days)
    for c in recovery.columns:  # the recovery family, where the runner has the data
        frame[c] = recovery[c].array
    frame = frame.join(_diary_outcomes(days, derived))
    frame = frame.reset_index()
    frame.insert(0, "runner_id", pd.Series(runner_id, index=frame.index, dtype="str"))
    validate_ranges(frame, FRAME, what=f"analysis frame of runner {runner_id!r}")
    return frame


def _is_source(obj: Any) -> bool:
    """One runner's source: derived tables, a store, an activities frame or tables."""
    return (isinstance(obj, (Derived, pd.DataFrame))
            or (isinstance(obj, Mapping) and isinstance(obj.get("activities"), pd.DataFrame))
            or (hasattr(obj, "activities") and hasattr(obj, "records_map")))


def _one_runner(source: Any, diary: Any, *, shoes: Any, routines: Any, runner_id: str,
                options: DeriveOptions) -> pd.DataFrame:
    if isinstance(source, Derived):
        if diary is not None or shoes is not None or routines is not None:
            raise TypeError("analysis_frame: derived tables already hold the diary, shoes "
                            "and routines; pass them to kneedata.derive(...), not here.")
        return frame_of(source, runner_id=runner_id)
    if diary is None:
        raise TypeError("analysis_frame: a pain diary is needed (the outcomes come from it).")
    return frame_of(derive(source, diary, shoes=shoes, routines=routines, options=options),
                    runner_id=runner_id)


def analysis_frame(
    source: Any,
    diary: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    *,
    shoes: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    routines: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    runner_id: str | None = None,
    options: DeriveOptions | None = None,
    **option_fields: Any,
) -> pd.DataFrame:
    """One row per runner-day: same-day exposures and pain-episode outcomes.

    Parameters
    ----------
    source
        The tables of :func:`kneedata.derive` (:class:`kneedata.Derived`, which
        already hold the diary, shoes and routines): the frame is then a pure
        function of them. As a convenience, anything :func:`kneedata.derive`
        takes (a :class:`kneedata.Store`, an activities frame, a dict
        ``{"activities": ..., "records": ...}``), derived here with ``diary``,
        ``shoes``, ``routines`` and ``options``; or, for several runners, a dict
        mapping ``runner_id`` to one of those.
    diary
        Pain diary from :func:`kneedata.read_pain_diary` (or a dict by runner_id);
        not with a :class:`kneedata.Derived`.
    shoes, routines
        Optional shoes and routines tables (or dicts by runner_id).
    runner_id
        Id written in the ``runner_id`` column for a single runner (default
        ``"runner"``).
    options
        :class:`kneedata.DeriveOptions` for the convenience path.
    **option_fields
        Single fields of :class:`kneedata.DeriveOptions` (``threshold``,
        ``washout_days``, ``complete``, ``include``, ``height_m``,
        ``leg_length_m``, ``load_column``, ``missing_gap_days`` ...) replacing
        those of ``options``.

    Returns
    -------
    pandas.DataFrame
        Columns ``runner_id``, ``date`` (datetime64[ns] local days, every day of the
        union of the watch span and the diary span), the exposure columns of
        :data:`kneedata.schema.FRAME` that the inputs allow (daily load, load
        metrics, spike flags, gait, shoes, routines, the recovery family with
        wellness data or diary ratings) and the outcome columns
        (``max_pain_0_10``, ``pain_day``, ``diary_known``, ``in_episode``,
        ``episode_id``, ``onset``, ``at_risk``, ``n_prior_episodes``). Days outside
        the watch span have unknown (NaN) exposures, not zeros.

    Notes
    -----
    Exposures are same-day values; models build windows and lags from them with
    :func:`window_aggregate` (see the module docstring for the rules). The
    ``onset`` and ``at_risk`` definitions are those of docs/design.md section 5 and of
    :func:`kneedata.pain_episodes`. A day's date is the runner's local date as
    stored in ``activities.local_date`` (the timezone of the watch at the run).
    Several runners: pass dicts keyed by runner_id, or concatenate single-runner
    frames (each with its own ``runner_id``).
    """
    if isinstance(source, Derived) and (options is not None or option_fields):
        raise TypeError("analysis_frame: the derived tables were computed with their own "
                        "options; pass options to kneedata.derive(...), not here.")
    opts = DeriveOptions.from_kwargs(options, **option_fields)
    if isinstance(source, Mapping) and not _is_source(source):
        if diary is not None and not isinstance(diary, Mapping):
            raise TypeError(
                "analysis_frame: several runners were given (a dict of stores/tables); "
                "pass diary (and shoes/routines) as dicts keyed by the same runner ids."
            )
        frames = []
        for rid, one in source.items():
            if diary is not None and rid not in diary:
                raise SchemaError(f"analysis_frame: no diary for runner {rid!r}; diary keys: {list(diary)}")
            frames.append(_one_runner(
                one, diary[rid] if diary is not None else None,
                shoes=(shoes or {}).get(rid) if isinstance(shoes, Mapping) else shoes,
                routines=(routines or {}).get(rid) if isinstance(routines, Mapping) else routines,
                runner_id=str(rid), options=opts,
            ))
        return pd.concat(frames, ignore_index=True)
    if isinstance(diary, Mapping) or isinstance(shoes, Mapping) or isinstance(routines, Mapping):
        raise TypeError("analysis_frame: one runner's data with dict diary/shoes/routines; "
                        "pass DataFrames for a single runner.")
    if not _is_source(source):
        raise TypeError(
            "analysis_frame: source must be kneedata.Derived, a kneedata.Store, a dict "
            "{'activities': DataFrame, optional 'records'}, or a dict mapping "
            f"runner_id to one of those; got {type(source).__name__}."
        )
    return _one_runner(source, diary, shoes=shoes, routines=routines,
                       runner_id=runner_id or "runner", options=opts)
