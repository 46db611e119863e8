"""Plots of what the metrics and models computed (seaborn + matplotlib).

Every function takes its data first and every option keyword-only, draws on the
``ax`` it is given (or a new figure), and returns the :class:`~matplotlib.axes.Axes`
it drew on. Axis labels carry units taken from the glossary in
:mod:`kneedata.schema`. Nothing heavy is computed here: the inputs are the tables
that :mod:`kneedata.metrics` and :mod:`kneedata.models` return.

Functions
---------
timeline
    Daily distance as bars, pain-diary entries on a 0-10 twin axis, episodes shaded.
acute_chronic
    Acute and chronic load as lines and an acute:chronic ratio on a second axis,
    with the caveats that come with any such ratio.
cadence_speed
    Cadence against speed with the runner's own curve; runs in the weeks before an
    episode highlighted.
shoe_km
    Kilometres per shoe, and pain episodes per 100 km per shoe with intervals.
forest
    Odds ratios with confidence intervals on a log axis.
experiment
    Daily pain through an A/B experiment, blocks shaded, carry-over days marked,
    block means and adherence per block.
physio
    The pain-monitoring view of every run: pain during, after and the next morning
    against the 5/10 line, the runs that were too much, verdicts per week and the
    weekly trend.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kneedata._dates import local_days
from kneedata.errors import SchemaError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

__all__ = [
    "ACWR_CAVEAT",
    "acute_chronic",
    "axis_label",
    "before_episodes",
    "cadence_deviation",
    "cadence_speed",
    "diary_period",
    "experiment",
    "forest",
    "pace_minutes",
    "physio",
    "recovery",
    "shoe_km",
    "timeline",
]

#: Printed with every acute:chronic ratio (docs/design.md section 4).
ACWR_CAVEAT = (
    "Caveat: the ratio is mathematically coupled (the acute week is part of the "
    "chronic window unless uncoupled) and hides its numerator and denominator - "
    "read the two loads, not just the ratio. In 5,205 runners (Frandsen 2025) "
    "the ratio showed no link with injury; single-run spikes did."
)

def axis_label(name: str) -> str:
    """Axis label with unit for a column name, e.g. ``"cadence (steps/min)"``.

    The glossary's :func:`kneedata.schema.label` (unit from the glossary, else from
    the name's unit suffix).

    Parameters
    ----------
    name
        A column name of the glossary, e.g. ``"cadence_spm"``.

    Returns
    -------
    str

    Examples
    --------
    >>> axis_label("distance_m")
    'distance (m)'
    """
    from kneedata.schema import label

    return label(name)


# --- helpers ------------------------------------------------------------------------


def _check_argument(param: str, options: Iterable[Any], value: Any) -> None:
    """Raise the same worded ValueError for every bad option (as seaborn does)."""
    options = list(options)
    if value not in options:
        raise ValueError(
            f"The value for `{param}` must be one of {options}, but {value!r} was passed."
        )


def _require(frame: pd.DataFrame, columns: Iterable[str], *, what: str, fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: column(s) {missing} not found; the frame has "
            f"{list(frame.columns)[:12]}{' ...' if frame.shape[1] > 12 else ''}. {fix}"
        )


def _new_ax(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _daily_dates(daily: pd.DataFrame) -> pd.DatetimeIndex:
    if isinstance(daily.index, pd.DatetimeIndex):
        return local_days(daily.index)
    if "date" in daily.columns:
        return local_days(daily["date"])
    raise SchemaError(
        "daily frame: expected a DatetimeIndex named 'date' (or a 'date' column) of "
        f"local calendar days, found index {type(daily.index).__name__}. "
        "Pass the output of kneedata.daily_load / load_metrics."
    )


def _palette() -> list[Any]:
    import seaborn as sns

    return list(sns.color_palette("colorblind"))


def before_episodes(
    dates: Any, episodes: pd.DataFrame | None, *, days: int = 28
) -> np.ndarray:
    """Which dates fall in the ``days`` days before an episode onset.

    Parameters
    ----------
    dates
        Local calendar dates (anything :func:`pandas.to_datetime` reads).
    episodes
        Output of :func:`kneedata.pain_episodes` (``onset_date`` column).
    days
        Window length before each onset (onset day excluded) [d].

    Returns
    -------
    numpy.ndarray of bool, one per date: ``onset - days <= date < onset``.
    """
    d = local_days(dates).to_numpy()
    mask = np.zeros(len(d), dtype=bool)
    if episodes is None or len(episodes) == 0:
        return mask
    _require(episodes, ["onset_date"], what="episodes", fix="Pass kneedata.pain_episodes(diary).")
    window = np.timedelta64(int(days), "D")
    for onset in local_days(episodes["onset_date"]).to_numpy():
        mask |= (d >= onset - window) & (d < onset)
    return mask


# --- long histories: the diary period in focus, the rest as context -----------------

#: Above this many days a panel draws weekly bars, above the next monthly bars, so
#: no bar is narrower than about 2 px on an 11-inch figure (1 day over 14 years is
#: 0.2 px: the largest run vanished though the axis was scaled to it).
DAILY_BARS_MAX_DAYS = 450
WEEKLY_BARS_MAX_DAYS = 3000
#: The focus window: from this many days before the first diary entry ...
FOCUS_BEFORE_DAYS = 56
#: ... to this many days after the last entry or episode end [d].
FOCUS_AFTER_DAYS = 14


def diary_period(
    diary: pd.DataFrame | None, episodes: pd.DataFrame | None = None
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The days a figure focuses on: the diary period, with the weeks before it.

    Parameters
    ----------
    diary
        Output of :func:`kneedata.read_pain_diary` (``date``).
    episodes
        Output of :func:`kneedata.pain_episodes`; their end days extend the period.

    Returns
    -------
    tuple of pandas.Timestamp, or None
        ``(start, end)`` local days, or None without diary entries:
        ``FOCUS_BEFORE_DAYS`` (56) days before the first entry to
        ``FOCUS_AFTER_DAYS`` (14) days after the last entry or episode end.
    """
    if diary is None or not len(diary) or "date" not in diary.columns:
        return None
    days = local_days(diary["date"]).dropna()
    if not len(days):
        return None
    last = days.max()
    if episodes is not None and len(episodes) and "end_date" in episodes.columns:
        ends = local_days(episodes["end_date"]).dropna()
        if len(ends):
            last = max(last, ends.max())
    return (days.min() - pd.Timedelta(days=FOCUS_BEFORE_DAYS),
            last + pd.Timedelta(days=FOCUS_AFTER_DAYS))


def _binned(dates: pd.DatetimeIndex, values: np.ndarray) -> tuple[pd.Series, str, str]:
    """Sum daily values into bars no narrower than ~2 px: (sums by bin start, freq, label word)."""
    series = pd.Series(values, index=dates).sort_index()
    span_days = (dates.max() - dates.min()).days + 1 if len(dates) else 0
    if span_days <= DAILY_BARS_MAX_DAYS:
        return series, "D", "day"
    if span_days <= WEEKLY_BARS_MAX_DAYS:
        return series.resample("W-MON", label="left", closed="left").sum(min_count=1), "W", "week"
    return series.resample("MS").sum(min_count=1), "MS", "month"


def _draw_bars(ax: Axes, dates: pd.DatetimeIndex, values: np.ndarray, *, color: Any,
               label: str) -> tuple[str, str]:
    """Bars of ``values`` binned for the span; returns their label and the bin ("day", ...)."""
    sums, freq, word = _binned(dates, values)
    if word != "day":
        label = label.replace(" (", f" per {word} (", 1)
    starts = sums.index
    if freq == "D":
        centres, widths = starts, np.ones(len(starts))
    else:
        widths = (pd.DatetimeIndex(starts).days_in_month.to_numpy(dtype="float64")
                  if freq == "MS" else np.full(len(starts), 7.0))
        centres = starts + pd.to_timedelta(widths / 2, unit="D")
    # an edge in the bar's own colour keeps a bar of a few px wide from vanishing
    ax.bar(centres, sums.to_numpy(dtype=float), width=widths, color=color, edgecolor=color,
           linewidth=0.3, label=label)
    return label, word


def _focus_layout(figsize: tuple[float, float]) -> tuple[Axes, Axes]:
    """A figure with a short context panel (whole history) above the focus panel."""
    import matplotlib.pyplot as plt

    fig, (context, main) = plt.subplots(
        2, 1, figsize=(figsize[0], figsize[1] * 1.35), layout="constrained",
        gridspec_kw={"height_ratios": [1, 3]})
    return context, main


def _mark_focus(context: Axes, focus: tuple[pd.Timestamp, pd.Timestamp], *,
                title: str) -> None:
    import matplotlib.dates as mdates

    context.axvspan(float(mdates.date2num(focus[0])), float(mdates.date2num(focus[1])),
                    color="0.5", alpha=0.15, linewidth=0)
    context.set_title(title, fontsize="small", loc="left")
    context.tick_params(labelsize="small")


def _set_focus_xlim(ax: Axes, focus: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    import matplotlib.dates as mdates

    half_day = pd.Timedelta(hours=12)
    ax.set_xlim(float(mdates.date2num(focus[0] - half_day)),
                float(mdates.date2num(focus[1] + half_day)))


def _focus_of(dates: pd.DatetimeIndex, focus: tuple[pd.Timestamp, pd.Timestamp] | None,
              ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The focus clipped to the data; None when it would show (nearly) everything."""
    if focus is None or not len(dates):
        return None
    start, end = max(focus[0], dates.min()), min(focus[1], dates.max())
    if start > end or (start - dates.min()).days + (dates.max() - end).days < 28:
        return None
    return start, end


# --- timeline -----------------------------------------------------------------------


def timeline(
    daily: pd.DataFrame,
    *,
    episodes: pd.DataFrame | None = None,
    diary: pd.DataFrame | None = None,
    column: str = "distance_km",
    units: str = "km",
    ax: Axes | None = None,
) -> Axes:
    """Distance as bars, pain entries on a 0-10 twin axis, episodes shaded.

    Parameters
    ----------
    daily
        One row per local day, DatetimeIndex ``date`` (output of
        :func:`kneedata.daily_load` or :func:`kneedata.load_metrics`).
    episodes
        Output of :func:`kneedata.pain_episodes` (``onset_date``, ``end_date``):
        each episode is shaded from onset to end day inclusive; an episode whose
        end is unknown is shaded to the last day of ``daily``.
    diary
        Output of :func:`kneedata.read_pain_diary` (``date``, ``pain_0_10``):
        every entry is a point on the right-hand axis (0-10).
    column
        Daily column drawn as bars [km].
    units
        ``"km"`` or ``"mi"``: the distance unit shown (:func:`kneedata.present.units_of`;
        the data stay in km).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the bars; the pain axis is its twin (``ax.figure.axes``).

    Notes
    -----
    A long history is not squeezed into one axis: on a new figure with a diary
    covering only part of it, the main panel shows the diary period
    (:func:`diary_period`) and a short panel above it the whole history, the
    diary period greyed. Bars are daily up to ``DAILY_BARS_MAX_DAYS`` (450) days
    in a panel, weekly sums up to ``WEEKLY_BARS_MAX_DAYS`` (3000), monthly sums
    beyond, so no bar is narrower than about 2 px (1-day bars over 14 years
    are 0.2 px: the longest run vanished).
    """
    _require(daily, [column], what="timeline daily frame",
             fix="Pass kneedata.daily_load(activities).")
    from kneedata.present import plain_label, units_of

    u = units_of(units)
    dates = _daily_dates(daily)
    colors = _palette()
    values = u.column(column, pd.to_numeric(daily[column], errors="coerce").to_numpy(dtype=float))
    bar_label = plain_label(column, u)
    focus = _focus_of(dates, diary_period(diary, episodes)) if ax is None else None
    if focus is not None:
        context, ax = _focus_layout((11, 3.8))
        context_label, _ = _draw_bars(context, dates, values, color=colors[0],
                                      label=bar_label)
        context.set_ylabel(context_label, fontsize="small")
        _shade_episodes(context, episodes, dates, color=colors[3])
        _mark_focus(context, focus, title="whole history (grey: the period below)")
        keep = np.asarray((dates >= focus[0]) & (dates <= focus[1]))
        dates, values = dates[keep], values[keep]
    else:
        ax = _new_ax(ax, (11, 3.8))
    ylabel, word = _draw_bars(ax, dates, values, color=colors[0], label=bar_label)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("date (local)")
    ax.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    span = _shade_episodes(ax, episodes, dates, color=colors[3])
    if span is not None:
        handles.append(span)
        labels.append("pain episode")
    if focus is not None:
        _set_focus_xlim(ax, focus)
    if diary is not None and len(diary):
        handles.append(_draw_pain(ax, diary, colors))
        labels.append("pain entry (grey: no pain)")
    if handles:
        ax.legend(handles, labels, loc="upper left", fontsize="small", frameon=False)
    ax.set_title(f"Running and knee pain, {word} by {word}")
    return ax


def _shade_episodes(ax: Axes, episodes: pd.DataFrame | None, dates: pd.DatetimeIndex, *,
                    color: Any) -> Any:
    """Shade each episode (onset to end day; open ones to the last day); returns the first span."""
    if episodes is None or not len(episodes):
        return None
    import matplotlib.dates as mdates

    _require(episodes, ["onset_date", "end_date"], what="episodes",
             fix="Pass kneedata.pain_episodes(diary).")
    last = dates.max() if len(dates) else None
    first_span = None
    half_day = pd.Timedelta(hours=12)
    for start, end in zip(local_days(episodes["onset_date"]), local_days(episodes["end_date"]),
                          strict=True):
        stop = end if not pd.isna(end) else last
        if stop is None or pd.isna(stop):
            stop = start
        span = ax.axvspan(float(mdates.date2num(start - half_day)),
                          float(mdates.date2num(stop + half_day)),
                          color=color, alpha=0.18, linewidth=0,
                          label="pain episode" if first_span is None else None)
        first_span = first_span if first_span is not None else span
    return first_span


def _draw_pain(ax: Axes, diary: pd.DataFrame, colors: list[Any]) -> Any:
    """Pain entries on a 0-10 twin axis of ``ax``; returns the legend handle."""
    from matplotlib.lines import Line2D

    _require(diary, ["date", "pain_0_10"], what="pain diary",
             fix="Pass kneedata.read_pain_diary(path).")
    pain_ax = ax.twinx()
    pain = pd.to_numeric(diary["pain_0_10"], errors="coerce").to_numpy(dtype=float)
    # pain-free entries small and grey so that the pain stands out
    painful = np.nan_to_num(pain, nan=0.0) > 0
    pain_ax.scatter(local_days(diary["date"]), pain, s=np.where(painful, 16, 5),
                    c=[colors[1] if p else "0.6" for p in painful], zorder=3,
                    label="pain entry")
    pain_ax.set_ylim(-0.3, 10.3)
    pain_ax.set_yticks(range(0, 11, 2))
    pain_ax.set_ylabel(axis_label("pain_0_10"))
    return Line2D([], [], linestyle="", marker="o", markersize=4, color=colors[1])


# --- acute vs chronic ---------------------------------------------------------------


#: The two loads behind each ratio: (numerator, denominator, time unit, legend texts).
_RATIO_PARTS = {
    "acwr_uncoupled": ("acute_7d", "chronic_prev_21d", "week",
                       "acute: last 7 days", "chronic: weekly mean of days -27..-7"),
    "acwr_coupled": ("acute_7d", "chronic_28d", "week",
                     "acute: last 7 days", "chronic: weekly mean of the last 28 days"),
    "acwr_ewma": ("ewma_acute_7d", "ewma_chronic_28d", "day",
                  "acute: EWMA, 7 days", "chronic: EWMA, 28 days"),
}


def acute_chronic(
    load: pd.DataFrame,
    *,
    ratio: str = "acwr_uncoupled",
    diary: pd.DataFrame | None = None,
    units: str = "km",
    ax: Axes | None = None,
) -> Axes:
    """Acute and chronic load as lines, their ratio on a second axis, and its caveat.

    Parameters
    ----------
    load
        Output of :func:`kneedata.load_metrics` (DatetimeIndex ``date``).
    ratio
        ``"acwr_uncoupled"`` (acute_7d / chronic_prev_21d), ``"acwr_coupled"``
        (acute_7d / chronic_28d) or ``"acwr_ewma"`` (ewma_acute_7d /
        ewma_chronic_28d). The two lines drawn are always that ratio's own
        numerator and denominator.
    diary
        Output of :func:`kneedata.read_pain_diary`: when it covers only part of a
        long history (and ``ax`` is omitted), the main panel shows the diary period
        (:func:`diary_period`) and a short panel above it the whole history as weekly
        means of the two loads, the diary period greyed.
    units
        ``"km"`` or ``"mi"``: a distance load is shown in this unit (data stay in km).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the two loads [load unit per week, or per day for the
        EWMA]; the ratio (with a reference line at 1) is on its twin.

    Notes
    -----
    The title carries :data:`ACWR_CAVEAT`: the coupled ratio contains the acute
    week in its denominator (coupled = 4R/(R+3) of the uncoupled R), and any ratio
    hides whether the numerator rose or the denominator fell, so both loads are
    drawn next to it.

    References
    ----------
    Lolli L, et al. Mathematical coupling causes spurious correlation within the
    conventional acute-to-chronic workload ratio calculations. Br J Sports Med
    2019;53:921-922. doi:10.1136/bjsports-2017-098110
    Impellizzeri FM, et al. Acute:chronic workload ratio: conceptual issues and
    fundamental pitfalls. Int J Sports Physiol Perform 2020;15:907-913.
    doi:10.1123/ijspp.2019-0864
    """
    _check_argument("ratio", list(_RATIO_PARTS), ratio)
    acute, chronic, per, acute_text, chronic_text = _RATIO_PARTS[ratio]
    _require(load, [acute, chronic, ratio], what="acute_chronic load frame",
             fix="Pass kneedata.load_metrics(kneedata.daily_load(activities)).")
    from kneedata.present import plain_label, units_of

    u = units_of(units)
    dates = _daily_dates(load)
    load_column = str(load.attrs.get("load_column", "distance_km"))
    base = plain_label(load_column, u)
    unit = base[base.rfind("(") + 1:-1] if base.endswith(")") else load_column
    scale = float(u.column(load_column, 1.0))  # the ratio itself has no unit
    colors = _palette()
    focus = _focus_of(dates, diary_period(diary)) if ax is None else None
    rows = np.ones(len(dates), dtype=bool)
    if focus is not None:
        context, ax = _focus_layout((11, 4.2))
        weekly = pd.DataFrame({"a": load[acute].to_numpy(dtype=float) * scale,
                               "c": load[chronic].to_numpy(dtype=float) * scale},
                              index=dates).resample("W-MON").mean()
        context.plot(weekly.index, weekly["a"], color=colors[0], linewidth=0.8)
        context.plot(weekly.index, weekly["c"], color=colors[2], linewidth=0.8)
        context.set_ylim(bottom=0)
        context.set_ylabel(f"load ({unit}/{per})", fontsize="small")
        _mark_focus(context, focus, title="whole history, weekly means (grey: the period below)")
        rows = np.asarray((dates >= focus[0]) & (dates <= focus[1]))
    else:
        ax = _new_ax(ax, (11, 4.2))
    if focus is not None:
        _set_focus_xlim(ax, focus)
    shown = dates[rows]
    ax.plot(shown, load[acute].to_numpy(dtype=float)[rows] * scale, color=colors[0],
            label=acute_text)
    ax.plot(shown, load[chronic].to_numpy(dtype=float)[rows] * scale, color=colors[2],
            label=chronic_text)
    ax.set_ylabel(f"load ({unit}/{per})")
    ax.set_xlabel("date (local)")
    ax.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    ratio_ax = ax.twinx()
    (line,) = ratio_ax.plot(shown, load[ratio].to_numpy(dtype=float)[rows], color=colors[3],
                            linestyle="--", linewidth=1,
                            label=f"ratio {ratio.replace('_', ' ')}")
    ratio_ax.axhline(1.0, color=colors[3], linewidth=0.5, alpha=0.6)
    ratio_ax.set_ylabel(f"{ratio.replace('_', ' ')} (ratio)")
    ratio_ax.set_ylim(bottom=0)
    handles.append(line)
    labels.append(line.get_label())
    ax.legend(handles, labels, loc="upper left", fontsize="small", frameon=False)
    ax.set_title("Acute vs chronic load\n" + textwrap.fill(ACWR_CAVEAT, 125), fontsize=9,
                 loc="left")
    return ax


# --- cadence vs speed ---------------------------------------------------------------

#: Metres in the distance unit of a pace.
PACE_UNITS = {"min/km": 1000.0, "min/mi": 1609.344}
#: Samples slower than this are not drawn on a pace axis (16:40 min/km) [m/s].
_SLOWEST_PACE_M_S = 1.0


def pace_minutes(speed_m_s: Any, unit: str = "min/km") -> np.ndarray:
    """Pace in decimal minutes per km (or mile) from speed [m/s]; NaN below 1 m/s.

    Parameters
    ----------
    speed_m_s
        Speed [m/s]: a number or an array.
    unit
        ``"min/km"`` or ``"min/mi"``.

    Returns
    -------
    numpy.ndarray
        Pace [min per km or mile], decimal minutes.

    Raises
    ------
    ValueError
        Another unit.

    Examples
    --------
    >>> pace_minutes([3.0, 4.0]).round(3).tolist()  # 5:33 and 4:10 min/km
    [5.556, 4.167]
    >>> float(pace_minutes(4.0, "min/mi").round(2))  # 6:42 min/mi
    6.71
    """
    if unit not in PACE_UNITS:
        raise ValueError(f"pace unit {unit!r} is not one of {list(PACE_UNITS)}; pass "
                         "'min/km' or 'min/mi' (or pace=None for speed in m/s).")
    v = np.asarray(speed_m_s, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v >= _SLOWEST_PACE_M_S, PACE_UNITS[unit] / v / 60.0, np.nan)


def _minutes_seconds(value: float, _pos: Any = None) -> str:
    """Tick text for decimal minutes: 5.5 -> '5:30'."""
    total = int(round(value * 60))
    return f"{total // 60}:{total % 60:02d}"


_SPEED_COLUMNS = ("speed_m_s", "speed_moving_m_s", "avg_speed_moving_m_s", "avg_speed_m_s")
_CADENCE_COLUMNS = ("cadence_spm", "cadence_moving_spm", "avg_cadence_spm")
_DATE_COLUMNS = ("local_date", "date")


def _first_present(frame: pd.DataFrame, candidates: Iterable[str], what: str) -> str:
    candidates = list(candidates)
    for name in candidates:
        if name in frame.columns:
            return name
    raise SchemaError(
        f"cadence_speed: no {what} column; looked for {candidates}, the frame has "
        f"{list(frame.columns)[:12]}. Pass records (speed_m_s, cadence_spm) or "
        f"kneedata.gait_metrics(records, activities) output, or name the column with x=/y=."
    )


def cadence_speed(
    samples_or_runs: pd.DataFrame,
    *,
    curve: pd.DataFrame | Callable[[np.ndarray], np.ndarray] | None = None,
    highlight: pd.DataFrame | np.ndarray | pd.Series | None = None,
    highlight_days: int = 28,
    x: str | None = None,
    y: str | None = None,
    pace: str | None = "min/km",
    ax: Axes | None = None,
) -> Axes:
    """Cadence against pace (or speed), the runner's own line, runs before episodes highlighted.

    Parameters
    ----------
    samples_or_runs
        Records (``speed_m_s``, ``cadence_spm``) or one row per run
        (:func:`kneedata.gait_metrics`: a moving speed and ``cadence_moving_spm``).
    curve
        The runner's own speed-cadence curve: a frame whose first two columns are
        speed [m/s] and cadence [steps/min] (drawn as a line, sorted by speed), or a
        callable mapping speed [m/s] to cadence [steps/min] (evaluated over the
        speeds present).
    highlight
        Which points to highlight: a boolean mask (one per row), or an episodes
        frame (``onset_date``), in which case rows whose ``local_date`` falls in the
        ``highlight_days`` days before an onset are highlighted.
    highlight_days
        Window before each onset when ``highlight`` is an episodes frame [d].
    x, y
        Column names for speed and cadence when they are not the usual ones.
    pace
        ``"min/km"`` (default) or ``"min/mi"``: the x axis is pace in the runner's
        unit, written m:ss, faster to the right; ``None`` draws speed [m/s].
        Samples slower than 1 m/s are left off a pace axis.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Collections: first the other points, then the highlighted ones (if any).
    """
    data = samples_or_runs
    xcol = x or _first_present(data, _SPEED_COLUMNS, "speed")
    ycol = y or _first_present(data, _CADENCE_COLUMNS, "cadence")
    _require(data, [xcol, ycol], what="cadence_speed", fix="Name existing columns with x=/y=.")
    xs = pd.to_numeric(data[xcol], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(data[ycol], errors="coerce").to_numpy(dtype=float)

    if highlight is None:
        mask = np.zeros(len(data), dtype=bool)
    elif isinstance(highlight, pd.DataFrame):
        datecol = _first_present(data, _DATE_COLUMNS, "date")
        mask = before_episodes(data[datecol], highlight, days=highlight_days)
    else:
        if isinstance(highlight, pd.Series):
            highlight = highlight.reindex(data.index, fill_value=False)
        mask = np.asarray(highlight, dtype=bool)
        if mask.shape != (len(data),):
            raise ValueError(
                f"cadence_speed: highlight has {mask.size} values but the data has "
                f"{len(data)} rows; pass one boolean per row or an episodes frame."
            )

    ax = _new_ax(ax, (6.5, 4.5))
    colors = _palette()
    many = len(data) > 2000
    size = 4 if many else 18
    alpha = 0.25 if many else 0.7
    if pace is not None and pace not in PACE_UNITS:
        raise ValueError(f"cadence_speed: pace={pace!r}; use 'min/km', 'min/mi' or None.")
    px = _x_values(xs, pace)
    ax.scatter(px[~mask], ys[~mask], s=size, alpha=alpha, color=colors[0], linewidth=0,
               rasterized=many, label="runs" if not many else "samples")
    if mask.any():
        label = (f"{highlight_days} days before an episode"
                 if isinstance(highlight, pd.DataFrame) else "highlighted")
        ax.scatter(px[mask], ys[mask], s=size * 1.6, alpha=min(1.0, alpha + 0.2),
                   color=colors[3], linewidth=0, rasterized=many, label=label)

    if curve is not None:
        if callable(curve) and not isinstance(curve, pd.DataFrame):
            finite = xs[np.isfinite(xs)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (2.0, 5.0)
            grid = np.linspace(lo, hi, 100)
            cx, cy = grid, np.asarray(curve(grid), dtype=float)
        else:
            if curve.shape[1] < 2:
                raise SchemaError(
                    "cadence_speed: curve needs two columns, speed [m/s] then cadence "
                    f"[steps/min]; found {list(curve.columns)}."
                )
            ordered = curve.sort_values(curve.columns[0])
            cx = ordered.iloc[:, 0].to_numpy(dtype=float)
            cy = ordered.iloc[:, 1].to_numpy(dtype=float)
        ax.plot(_x_values(cx, pace), cy, color="black", linewidth=1.5,
                label="your usual cadence at each " + ("pace" if pace else "speed"))
    _pace_axis(ax, pace)
    ax.set_ylabel("cadence (steps per minute)")
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    ax.set_title("Cadence against " + ("pace" if pace else "speed"))
    return ax


def _x_values(speed_m_s: np.ndarray, pace: str | None) -> np.ndarray:
    return speed_m_s if pace is None else pace_minutes(speed_m_s, pace)


def _pace_axis(ax: Axes, pace: str | None) -> None:
    """x label in words; a pace axis gets m:ss ticks with faster paces to the right."""
    if pace is None:
        ax.set_xlabel("speed (metres per second)")
        return
    from matplotlib.ticker import FuncFormatter

    word = "km" if pace == "min/km" else "mile"
    ax.set_xlabel(f"pace (minutes per {word}; faster to the right)")
    ax.xaxis.set_major_formatter(FuncFormatter(_minutes_seconds))
    if not ax.xaxis_inverted():
        ax.invert_xaxis()


def cadence_deviation(gait: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Each run's cadence against the runner's usual at its speed [%], over time.

    Never an empty plot: when no run has a usual line to compare with (too few
    earlier runs in the trailing window), the runs' cadence itself is drawn and the
    title says why the comparison is missing.

    Parameters
    ----------
    gait
        :func:`kneedata.gait_metrics` output (``date``, ``cadence_deviation_pct``,
        ``cadence_moving_spm``, ``n_baseline_runs``).
    ax
        Axes to draw on; a new figure when omitted.
    """
    _require(gait, ["date", "cadence_moving_spm"], what="cadence_deviation gait table",
             fix="Pass kneedata.gait_metrics(records, activities).")
    ax = _new_ax(ax, (10, 3.5))
    dates = pd.to_datetime(gait["date"])
    dev = (pd.to_numeric(gait["cadence_deviation_pct"], errors="coerce")
           if "cadence_deviation_pct" in gait else pd.Series(np.nan, index=gait.index))
    colors = _palette()
    if dev.notna().any():
        keep = dev.notna().to_numpy()
        ax.scatter(dates[keep], dev[keep], s=18, color=colors[0])
        ax.axhline(0, color="grey", lw=1)
        ax.set_ylabel("cadence against your usual\nat that speed (%)")
        ax.set_title(f"Cadence against your usual at the same speed ({int(keep.sum())} runs)")
        if len(dates[keep]) and dates[keep].min() == dates[keep].max():
            day = dates[keep].min()
            import matplotlib.dates as mdates

            ax.set_xlim(float(mdates.date2num(day - pd.Timedelta(days=15))),
                        float(mdates.date2num(day + pd.Timedelta(days=15))))
    else:
        cad = pd.to_numeric(gait["cadence_moving_spm"], errors="coerce")
        keep = cad.notna().to_numpy()
        ax.scatter(dates[keep], cad[keep], s=18, color=colors[0])
        ax.set_ylabel("cadence while moving\n(steps/min)")
        need = int(gait.attrs.get("min_baseline_runs", 0)) or None
        window = gait.attrs.get("baseline_days")
        why = (f"no run had {need} earlier runs with cadence in the {window} days before it"
               if need and window else "no run had enough earlier runs with cadence")
        ax.set_title(textwrap.fill(f"Cadence of each run (no comparison with your usual: {why})",
                                   110), fontsize=10)
        if not keep.any():
            ax.text(0.5, 0.5, "no run with cadence", transform=ax.transAxes, ha="center")
    ax.set_xlabel("date (local)")
    return ax


# --- shoes --------------------------------------------------------------------------


def shoe_km(
    summary: pd.DataFrame,
    *,
    km: str = "distance_km",
    rate: str = "episodes_per_100km",
    ci: tuple[str, str] = ("episodes_per_100km_low", "episodes_per_100km_high"),
    name: str | None = None,
    units: str = "km",
    ax: Axes | None = None,
) -> Axes:
    """Kilometres per shoe (bars) and pain episodes per 100 km per shoe (points + CI).

    Parameters
    ----------
    summary
        One row per shoe (:func:`kneedata.shoe_summary`).
    km
        Column with the kilometres run in each shoe [km].
    rate
        Column with pain-episode onsets per 100 km in that shoe [1/100 km]; left
        out when the column is absent.
    ci
        Columns with the lower and upper confidence limits of ``rate``.
    name
        Column naming the shoe (default ``name`` if present, else ``shoe_id``).
    units
        ``"km"`` or ``"mi"``: distances and rates shown per km or per mile (data stay in km).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Horizontal bars for km (bottom axis); the rate is drawn on a twin
        (``twiny``) Axes sharing the shoe rows.
    """
    from kneedata.present import plain_label, units_of

    u = units_of(units)
    _require(summary, [km], what="shoe_km summary", fix="Pass kneedata.shoe_summary(...).")
    if name is None:
        name = "name" if "name" in summary.columns else "shoe_id"
    raw = summary[name] if name in summary.columns else pd.Series(summary.index)
    labels = [str(v) if not pd.isna(v) and str(v).strip() else "unassigned" for v in raw]
    rows = np.arange(len(summary))
    ax = _new_ax(ax, (8, 0.45 * len(summary) + 1.6))
    colors = _palette()
    ax.barh(rows, u.column(km, summary[km].to_numpy(dtype=float)), color=colors[0], alpha=0.8,
            height=0.6, label=plain_label(km, u))
    ax.set_yticks(rows, labels)
    ax.invert_yaxis()
    ax.set_xlabel(plain_label(km, u))
    ax.set_title(f"{u.long_word.capitalize()} and pain episodes per shoe")
    if rate in summary.columns:
        r = u.column(rate, summary[rate].to_numpy(dtype=float))
        rate_ax = ax.twiny()
        if ci[0] in summary.columns and ci[1] in summary.columns:
            lo = u.column(ci[0], summary[ci[0]].to_numpy(dtype=float))
            hi = u.column(ci[1], summary[ci[1]].to_numpy(dtype=float))
            err = np.vstack([np.clip(r - lo, 0, None), np.clip(hi - r, 0, None)])
        else:
            err = None
        rate_ax.errorbar(r, rows, xerr=err, fmt="o", color=colors[3], capsize=3,
                         label=f"episodes {u.per_100} (95% CI)")
        rate_ax.set_xlabel(f"pain episodes {u.per_100} (95% CI)", color=colors[3])
        rate_ax.set_xlim(left=0)
        rate_ax.tick_params(axis="x", colors=colors[3])
    return ax


# --- forest -------------------------------------------------------------------------


def forest(
    table: pd.DataFrame, *, title: str = "What preceded pain",
    ax: Axes | None = None,
) -> Axes:
    """Ratios (odds, hazard or rate) with confidence intervals on a log axis, line at 1.

    Parameters
    ----------
    table
        :attr:`kneedata.ModelResult.table`: ``term``, ``ratio``, ``ci_low``,
        ``ci_high`` and ``n_episodes`` (``ratio_kind``, ``estimable`` and
        ``status`` optional: a term marked not estimable is labelled with its
        status and drawn without a point).
    title
        Title; the number of episodes is appended as ``(n = ... episodes)``.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One point and one interval per term (top to bottom in table order); terms
        that could not be estimated are labelled ``(not estimable)``. Interval ends
        beyond the axis are drawn to the edge with an arrow.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    _require(table, ["term", "ratio", "ci_low", "ci_high"], what="forest table",
             fix="Pass ModelResult.table from a kneedata model (e.g. kneedata.primary_analysis).")
    odds = table["ratio"].to_numpy(dtype=float)
    lo = table["ci_low"].to_numpy(dtype=float)
    hi = table["ci_high"].to_numpy(dtype=float)
    ok = np.isfinite(odds) & (odds > 0)
    if "estimable" in table.columns:
        ok &= table["estimable"].to_numpy(dtype=bool)
    status = (table["status"].astype(str).str.replace("_", " ") if "status" in table.columns
              else pd.Series("", index=table.index))
    terms = [str(t) + ("" if good else f" (not estimable{': ' + why if why and why != 'ok' else ''})")
             for t, good, why in zip(table["term"], ok, status, strict=True)]
    rows = np.arange(len(table))
    ax = _new_ax(ax, (7, 0.45 * len(table) + 1.6))
    colors = _palette()

    finite = np.concatenate([odds[ok], lo[np.isfinite(lo) & (lo > 0)], hi[np.isfinite(hi)]])
    low_lim = min(0.5, float(finite.min()) / 1.5) if finite.size else 0.1
    high_lim = max(2.0, float(finite.max()) * 1.5) if finite.size else 10.0
    low_lim, high_lim = max(low_lim, 1e-3), min(high_lim, 1e3)
    lo_draw = np.where(np.isfinite(lo) & (lo > 0), lo, low_lim).clip(low_lim, high_lim)
    hi_draw = np.where(np.isfinite(hi), hi, high_lim).clip(low_lim, high_lim)

    ax.axvline(1.0, color="grey", linewidth=1, linestyle="--", zorder=1)
    ax.hlines(rows[ok], lo_draw[ok], hi_draw[ok], color=colors[0], linewidth=2, zorder=2)
    ax.scatter(odds[ok], rows[ok], color=colors[0], s=36, zorder=3, marker="s")
    for row in rows[ok]:
        if hi_draw[row] >= high_lim and (not np.isfinite(hi[row]) or hi[row] > high_lim):
            ax.annotate("", xy=(high_lim, row), xytext=(high_lim / 1.4, row),
                        arrowprops={"arrowstyle": "->", "color": colors[0]})
        if lo_draw[row] <= low_lim and (not np.isfinite(lo[row]) or lo[row] < low_lim):
            ax.annotate("", xy=(low_lim, row), xytext=(low_lim * 1.4, row),
                        arrowprops={"arrowstyle": "->", "color": colors[0]})
    ax.set_xscale("log")
    ax.set_xlim(low_lim, high_lim)
    nice = [v * 10.0**e for e in range(-3, 4) for v in (1, 2, 5)]
    ax.set_xticks([v for v in nice if low_lim <= v <= high_lim])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(rows, terms)
    ax.set_ylim(len(table) - 0.5, -0.5)
    kind = (str(table["ratio_kind"].iloc[0]) if "ratio_kind" in table.columns and len(table)
            else "odds")
    ax.set_xlabel(f"{kind} ratio (95% CI, log scale; 1 = no association)")
    if "n_episodes" in table.columns and table["n_episodes"].notna().any():
        n = pd.to_numeric(table["n_episodes"], errors="coerce").dropna().astype(int)
        n_text = str(n.iloc[0]) if n.nunique() == 1 else f"{n.min()}-{n.max()}"
        title += f" (n = {n_text} episodes)"
    ax.set_title(title)
    return ax


def _shade_blocks(ax: Axes, blocks: pd.DataFrame, carryover_days: int,
                  colors: dict[str, Any]) -> None:
    day = pd.Timedelta(days=1)
    for first, last, condition in zip(blocks["start"], blocks["end"],
                                      blocks["condition"], strict=True):
        start: Any = pd.Timestamp(first)
        end: Any = pd.Timestamp(last) + day
        ax.axvspan(start, end, color=colors[str(condition)], alpha=0.18, linewidth=0)
        if carryover_days:
            ax.axvspan(start, start + carryover_days * day, facecolor="none",
                       edgecolor="0.55", hatch="//", linewidth=0)
        ax.text(start + (end - start) / 2, 1.0, str(condition), ha="center",
                va="bottom", transform=ax.get_xaxis_transform(), fontsize=9)


def experiment(
    days: pd.DataFrame,
    *,
    blocks: pd.DataFrame | None = None,
    outcome: str = "pain_0_10",
    ax: Axes | None = None,
) -> Axes:
    """Daily pain through an A/B experiment: blocks shaded, carry-over hatched.

    Parameters
    ----------
    days
        ``result.design`` of :func:`kneedata.analyse_experiment`: one row per day
        with ``date``, ``block``, ``condition``, ``carryover``, ``used`` and the
        outcome. Analysed days are filled points, carry-over days open points; days
        without a diary entry are gaps (never drawn as 0).
    blocks
        ``result.settings["blocks"]``: each block's analysed mean is a horizontal
        line; its ``adherence`` is drawn on a twin axis, poor adherence marked x.
    outcome
        The outcome column [0-10].
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The pain axes; the adherence axis is its twin (``ax.figure.axes``).
    """
    _require(days, ["date", "block", "condition", "carryover", "used", outcome],
             what="experiment days", fix="Pass analyse_experiment(...).design.")
    ax = _new_ax(ax, (11, 3.8))
    palette = _palette()
    colors = {"A": palette[7], "B": palette[2]}
    spans = days.groupby("block", sort=False).agg(
        start=("date", "min"), end=("date", "max"), condition=("condition", "first"))
    carry = int(days.loc[days["carryover"], "day_in_block"].max()) if (
        "day_in_block" in days and days["carryover"].any()) else 0
    _shade_blocks(ax, spans, carry, colors)
    dates = pd.DatetimeIndex(days["date"])
    values = pd.to_numeric(days[outcome], errors="coerce")
    ax.plot(dates, values, color="0.6", linewidth=0.8)   # NaN days stay gaps
    used = days["used"].to_numpy(dtype=bool)
    ax.plot(dates[used], values[used], "o", color="0.15", markersize=3.5,
            label="analysed day")
    skipped = days["carryover"].to_numpy(dtype=bool) & values.notna().to_numpy()
    ax.plot(dates[skipped], values[skipped], "o", markerfacecolor="white",
            markeredgecolor="0.35", markersize=3.5, label="carry-over day (left out)")
    if blocks is not None and f"mean_{outcome}" in blocks:
        lefts: Any = (spans["start"] + pd.Timedelta(days=carry)).tolist()
        rights: Any = (spans["end"] + pd.Timedelta(days=1)).tolist()
        for mean, left, right, condition in zip(blocks[f"mean_{outcome}"], lefts, rights,
                                                spans["condition"], strict=True):
            ax.hlines(mean, left, right, color=colors[str(condition)], linewidth=2.5)
    ax.set_ylim(-0.3, 10.3)
    ax.set_ylabel(axis_label(outcome))
    ax.set_xlabel("date (local)")
    if blocks is not None and "adherence" in blocks and blocks["adherence"].notna().any():
        _adherence_axis(ax, blocks, spans)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return ax


def _adherence_axis(ax: Axes, blocks: pd.DataFrame, spans: pd.DataFrame) -> None:
    twin = ax.twinx()
    middle = spans["start"] + (spans["end"] - spans["start"]) / 2
    twin.plot(middle.to_numpy(), blocks["adherence"].to_numpy(dtype=float), "s",
              color=_palette()[3], markersize=6, label="adherence")
    poor = blocks["adherence_ok"].eq(False).fillna(False).to_numpy(dtype=bool)
    if poor.any():
        twin.plot(middle.to_numpy()[poor], blocks["adherence"].to_numpy(dtype=float)[poor],
                  "x", color="red", markersize=10, mew=2, label="poor adherence")
    twin.set_ylabel(axis_label(str(blocks["adherence_unit"].iloc[0])))
    twin.legend(loc="upper right", fontsize=8, frameon=False)


#: What the pain-monitoring model accepts during a run [0-10] (Thomeé 1997).
PHYSIO_LINE = 5.0
_PHYSIO_TIMES = (("pain_during", "during the run", "o"), ("pain_after", "after", "s"),
                 ("pain_next_morning", "next morning", "^"))
_VERDICT_COLORS = {"acceptable": 2, "too_much": 3, "unknown": 7}


def physio(
    responses: pd.DataFrame, *, weekly: pd.DataFrame | None = None,
    line: float = PHYSIO_LINE, title: str | None = None,
    figsize: tuple[float, float] = (10, 6.5),
) -> Axes:
    """Every run as a physio reads it (the pain-monitoring model).

    Parameters
    ----------
    responses
        :func:`kneedata.run_responses`: ``date``, ``pain_during``, ``pain_after``,
        ``pain_next_morning`` [0-10] and ``verdict`` (``acceptable``, ``too_much``,
        ``unknown``) per run.
    weekly
        :func:`kneedata.weekly_pain` (``week_start``, ``n_acceptable``,
        ``n_too_much``, ``n_unknown``, ``morning_pain_0_10``): the bottom panel's
        verdict counts and the weekly mean waking score (every morning, not only
        after runs). Without it both come from ``responses`` (the trend is then the
        median next-morning score after runs).
    line
        The acceptable-pain line drawn across the top panel [0-10].
    title
        Title of the top panel (a default naming the runs counted).
    figsize
        Size of the figure [in].

    Returns
    -------
    matplotlib.axes.Axes
        The top panel: pain during, after and the next morning of each run over
        time, the line at ``line``, runs that were ``too_much`` ringed. Below it
        (same figure): verdict counts per week (stacked bars) with the weekly median
        next-morning pain on a second axis (the week-to-week trend).
    """
    import matplotlib.pyplot as plt

    _require(responses, ["date", "verdict", *(c for c, _, _ in _PHYSIO_TIMES)],
             what="run responses", fix="Pass kneedata.run_responses(derived).")
    colors = _palette()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=figsize, layout="constrained",
                                      sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    dates = local_days(responses["date"])
    for i, (column, label, marker) in enumerate(_PHYSIO_TIMES):
        values = pd.to_numeric(responses[column], errors="coerce").to_numpy(dtype=float)
        shown = np.isfinite(values)
        top.scatter(dates[shown], values[shown], s=16, marker=marker, color=colors[i],
                    alpha=0.75, label=f"{label} ({int(shown.sum())})", zorder=3)
    too_much = responses["verdict"].astype(str).eq("too_much").to_numpy()
    if too_much.any():
        worst = responses.loc[too_much, [c for c, _, _ in _PHYSIO_TIMES]].apply(
            pd.to_numeric, errors="coerce").max(axis=1).to_numpy(dtype=float)
        top.scatter(dates[too_much], worst, s=110, facecolors="none",
                    edgecolors=colors[_VERDICT_COLORS["too_much"]], linewidths=1.5,
                    label=f"too much ({int(too_much.sum())} runs)", zorder=4)
    top.axhline(line, color="grey", linestyle="--", linewidth=1, zorder=1)
    top.annotate(f"{line:g}/10: acceptable during a run", xy=(0.0, line),
                 xycoords=("axes fraction", "data"), xytext=(4, 3),
                 textcoords="offset points", fontsize="small", color="0.35")
    top.set_ylim(-0.3, 10.3)
    top.set_ylabel(axis_label("pain_0_10"))
    top.legend(loc="upper right", fontsize="small", ncols=2)
    top.set_title(title or f"Pain around each run ({len(responses)} runs)")

    if weekly is None:
        week = dates.to_period("W-SUN").start_time
        counts = (pd.crosstab(week, responses["verdict"].astype(str).to_numpy())
                  .reindex(columns=list(_VERDICT_COLORS), fill_value=0))
        level = pd.Series(pd.to_numeric(responses["pain_next_morning"], errors="coerce")
                          .to_numpy(dtype=float), index=week).groupby(level=0).median()
        level_label = "weekly median next-morning pain after runs"
    else:
        _require(weekly, ["week_start", "n_acceptable", "n_too_much", "n_unknown",
                          "morning_pain_0_10"], what="weekly pain",
                 fix="Pass kneedata.weekly_pain(derived).")
        index = local_days(weekly["week_start"])
        counts = pd.DataFrame({v: pd.to_numeric(weekly[f"n_{v}"], errors="coerce")
                               .fillna(0).to_numpy() for v in _VERDICT_COLORS}, index=index)
        level = pd.Series(pd.to_numeric(weekly["morning_pain_0_10"], errors="coerce")
                          .to_numpy(dtype=float), index=index)
        level_label = "weekly mean waking pain"
    bottom_edge = np.zeros(len(counts))
    for verdict, color in _VERDICT_COLORS.items():
        values = counts[verdict].to_numpy(dtype=float)
        bottom.bar(counts.index, values, width=6, bottom=bottom_edge, align="edge",
                   color=colors[color], label=verdict.replace("_", " "))
        bottom_edge += values
    bottom.set_ylabel("runs per week")
    bottom.legend(loc="upper left", fontsize="small", ncols=3)
    trend = bottom.twinx()
    trend.plot(pd.DatetimeIndex(level.index).shift(3, freq="D"), level.to_numpy(),
               color="0.2", linewidth=1.2, marker=".", label=level_label)
    trend.set_ylim(0, 10)
    trend.set_ylabel("waking pain (0-10)")
    trend.legend(loc="upper right", fontsize="small")
    bottom.set_title("Verdicts per week and the week-to-week trend", fontsize="small",
                     loc="left")
    return top


#: The panels of :func:`recovery`: measure -> (title, the side of the band that flags).
_RECOVERY_PANELS = {
    "sleep_duration_h": ("sleep the night before (h)", "below"),
    "hrv_rmssd_ms": ("HRV, RMSSD (ms)", "below"),
    "hrv_sdnn_ms": ("HRV, SDNN (ms)", "below"),
    "resting_hr_bpm": ("resting HR (beats/min)", "above"),
}


def recovery(
    bands: Mapping[str, pd.DataFrame], *, daily: pd.DataFrame | None = None,
    diary: pd.DataFrame | None = None, short_sleep_h: float = 7.0,
    figsize: tuple[float, float] | None = None,
) -> Axes:
    """Sleep, HRV and resting HR against the runner's own band, over weekly load and pain.

    Parameters
    ----------
    bands
        :func:`kneedata.metrics.recovery.recovery_bands`: measure -> frame by date
        with ``value``, ``low``, ``high``; one panel per measure present (RMSSD and
        SDNN apart, never on one axis).
    daily
        :func:`kneedata.daily_load` (``distance_km``): weekly km in the bottom panel.
    diary
        The pain diary (``date``, ``pain_0_10``): the week's highest pain on the
        bottom panel's second axis.
    short_sleep_h
        The short-sleep line on the sleep panel [h].
    figsize
        Size of the figure [in]; default 10 wide, 1.9 high per panel.

    Returns
    -------
    matplotlib.axes.Axes
        The top panel. Each measure panel: the daily values, the band of the
        previous days (shaded; computed from past days only) and the days
        outside it marked; the bottom panel: weekly km (bars) and the week's
        highest pain (line).
    """
    import matplotlib.pyplot as plt

    shown = [m for m in _RECOVERY_PANELS if m in bands and len(bands[m])]
    if not shown:
        raise ValueError("plots.recovery: no sleep, HRV or resting HR to draw; pass "
                         "kneedata.metrics.recovery.recovery_bands(store.wellness()).")
    n = len(shown) + 1
    fig, axes = plt.subplots(n, 1, figsize=figsize or (10, 1.9 * n + 0.6), sharex=True,
                             layout="constrained")
    colors = _palette()
    for ax, measure in zip(axes, shown, strict=False):
        _recovery_panel(ax, bands[measure], measure, colors)
        if measure == "sleep_duration_h":
            ax.axhline(short_sleep_h, color="grey", linestyle="--", linewidth=1)
    _load_pain_panel(axes[-1], daily, diary, colors)
    axes[0].set_title("Recovery against your own band (shaded: previous days' mean +- 1 SD)")
    return axes[0]


def _recovery_panel(ax: Axes, band: pd.DataFrame, measure: str, colors: list[Any]) -> None:
    title, side = _RECOVERY_PANELS[measure]
    dates = pd.DatetimeIndex(band.index)
    value = band["value"].to_numpy(dtype=float)
    low, high = band["low"].to_numpy(dtype=float), band["high"].to_numpy(dtype=float)
    ax.fill_between(dates, low, high, color=colors[0], alpha=0.2, linewidth=0,
                    label="your band")
    ax.plot(dates, value, color=colors[0], linewidth=0.8, marker=".", markersize=3,
            label=title.split(" (")[0])
    out = (value < low) if side == "below" else (value > high)
    ax.scatter(dates[out], value[out], color=colors[3], s=14, zorder=3,
               label=f"{side} the band ({int(out.sum())} days)")
    ax.set_ylabel(title, fontsize="small")
    ax.legend(loc="upper left", fontsize="x-small", ncols=3)


def _load_pain_panel(ax: Axes, daily: pd.DataFrame | None, diary: pd.DataFrame | None,
                     colors: list[Any]) -> None:
    if daily is not None and "distance_km" in daily.columns:
        km = pd.Series(pd.to_numeric(daily["distance_km"], errors="coerce").to_numpy(
            dtype=float), index=_daily_dates(daily)).resample("W-MON", label="left",
                                                              closed="left").sum()
        ax.bar(km.index, km.to_numpy(), width=6, align="edge", color=colors[2],
               label="km per week")
    ax.set_ylabel("km per week", fontsize="small")
    if diary is not None and {"date", "pain_0_10"} <= set(diary.columns):
        pain = pd.Series(pd.to_numeric(diary["pain_0_10"], errors="coerce").to_numpy(
            dtype=float), index=local_days(diary["date"])).resample(
            "W-MON", label="left", closed="left").max()
        twin = ax.twinx()
        twin.plot(pd.DatetimeIndex(pain.index).shift(3, freq="D"), pain.to_numpy(), color="0.2",
                  linewidth=1.2, marker=".", label="highest pain of the week")
        twin.set_ylim(0, 10.3)
        twin.set_ylabel("pain (0-10)", fontsize="small")
        twin.legend(loc="upper right", fontsize="x-small")
    ax.legend(loc="upper left", fontsize="x-small")
