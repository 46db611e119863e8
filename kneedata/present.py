"""How results are shown to a person: units, plain labels, numbers, notes.

Stored data stay SI (metres, seconds, m/s); this module converts only what is
shown. One :class:`Units` object says whether distances are kilometres or miles;
the report, the figures and the notebooks take it from ``units="km"|"mi"`` (the
CLI's ``--units``).

- :func:`units_of` checks a ``units=`` value and returns the :class:`Units`.
- :func:`plain_notes` shows warnings in a notebook as one plain line each
  (``note: ...``) instead of a stderr box naming the internal line that raised it.
- :func:`format_duration`, :func:`format_pace` write h:mm and m:ss.
- :func:`plain_label` gives a column's header in words with its unit,
  :func:`term_label` a model term (``spike_large_7d``) in words.
- :func:`display_frame` turns a table into what a person reads: distances in the
  chosen unit (:meth:`Units.column`, the one conversion), plain headers, 2-3
  significant figures.
- :func:`runs_table` lists the runs (date, distance, h:mm, pace, shoe, pain).
- :func:`diary_use_text` says how much of the diary the analysis could use.
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kneedata.text import format_number

__all__ = [
    "KM_PER_MILE",
    "UNIT_CHOICES",
    "Units",
    "format_duration",
    "format_pace",
    "display_frame",
    "diary_use_text",
    "plain_label",
    "plain_notes",
    "runs_table",
    "term_label",
    "units_of",
]

#: Kilometres in one international mile.
KM_PER_MILE = 1.609344

#: The values ``units=`` (and ``--units``) accept.
UNIT_CHOICES = ("km", "mi")


@dataclass(frozen=True)
class Units:
    """The distance unit things are shown in (``"km"`` or ``"mi"``); data stay SI.

    Examples
    --------
    >>> mi = units_of("mi")
    >>> round(mi.distance(16.09344), 3), mi.pace, mi.per_100
    (10.0, 'min/mi', 'per 100 mi')
    >>> round(mi.rate_per_100(1.0), 3)  # 1 episode per 100 km = 1.61 per 100 mi
    1.609
    """

    name: str = "km"

    @property
    def km_per_unit(self) -> float:
        """Kilometres in one unit (1 or 1.609344)."""
        return 1.0 if self.name == "km" else KM_PER_MILE

    @property
    def word(self) -> str:
        """``"km"`` or ``"mi"``: the unit as printed after a number."""
        return self.name

    @property
    def long_word(self) -> str:
        """``"kilometres"`` or ``"miles"``."""
        return "kilometres" if self.name == "km" else "miles"

    @property
    def pace(self) -> str:
        """The pace unit of the figures: ``"min/km"`` or ``"min/mi"``."""
        return f"min/{self.name}"

    @property
    def per_100(self) -> str:
        """``"per 100 km"`` or ``"per 100 mi"``."""
        return f"per 100 {self.name}"

    @property
    def suffix(self) -> str:
        """Column-name suffix of a distance in this unit: ``"_km"`` or ``"_mi"``."""
        return f"_{self.name}"

    def distance(self, km: Any) -> Any:
        """Kilometres converted to this unit (scalars, arrays and Series alike)."""
        return km / self.km_per_unit

    def rate_per_100(self, per_100km: Any) -> Any:
        """A rate per 100 km converted to a rate per 100 of this unit."""
        return per_100km * self.km_per_unit

    def column(self, name: str, values: Any) -> Any:
        """A stored column's values as shown: ``*_km`` distances and ``*per_100km*``
        rates in this unit, anything else unchanged (stored data stay SI/km).

        >>> units_of("mi").column("distance_km", 16.09344), units_of("mi").column("drop_mm", 8)
        (10.0, 8)
        """
        if "per_100km" in name:
            return self.rate_per_100(values)
        if name.endswith("_km") or "_km_" in name:
            return self.distance(values)
        return values


def units_of(units: str | Units | None) -> Units:
    """The :class:`Units` for ``"km"``/``"mi"`` (``None``: km).

    Raises
    ------
    ValueError
        Any other value, naming the valid ones.
    """
    if isinstance(units, Units):
        return units
    if units is None:
        return Units("km")
    text = str(units).strip().lower()
    aliases = {"km": "km", "kilometres": "km", "kilometers": "km", "mi": "mi",
               "mile": "mi", "miles": "mi", "min/km": "km", "min/mi": "mi"}
    if text not in aliases:
        raise ValueError(f"units={units!r} is not a distance unit; use 'km' or 'mi' "
                         "(--units km or --units mi on the command line).")
    return Units(aliases[text])


# --- numbers and times ---------------------------------------------------------------


def format_duration(seconds: Any) -> str:
    """Seconds as ``h:mm`` (``"0:42"``, ``"1:05"``); ``""`` when unknown.

    >>> format_duration(3925), format_duration(59), format_duration(float("nan"))
    ('1:05', '0:01', '')
    """
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(s) or s < 0:
        return ""
    minutes = int(round(s / 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


def format_pace(distance_m: Any, seconds: Any, units: str | Units = "km") -> str:
    """Pace ``m:ss`` per km or mile from a distance [m] and a time [s]; ``""`` when unknown.

    >>> format_pace(10000, 3000), format_pace(1609.344, 480, "mi"), format_pace(0, 60)
    ('5:00', '8:00', '')
    """
    u = units_of(units)
    try:
        d, t = float(distance_m), float(seconds)
    except (TypeError, ValueError):
        return ""
    if not (math.isfinite(d) and math.isfinite(t)) or d < 100 or t <= 0:
        return ""
    per_unit_s = t / (d / 1000.0 / u.km_per_unit)
    if per_unit_s > 60 * 60:  # slower than an hour per km/mile: not a run pace
        return ""
    total = int(round(per_unit_s))
    return f"{total // 60}:{total % 60:02d}"


def format_value(value: Any, digits: int = 3) -> str:
    """A number for a person (:func:`kneedata.text.format_number`); ``""`` for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return ""
    if x.is_integer() and abs(x) < 1e6:
        return f"{int(x):,}"
    text = format_number(x, digits)
    # 2.50 -> 2.5: no trailing zeros a person has to read past
    return text.rstrip("0").rstrip(".") if "." in text and text[-1].isdigit() else text


def format_frame(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Every numeric cell of ``frame`` as text for a person; dates as YYYY-MM-DD."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[col] = values.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_bool_dtype(values):
            out[col] = [format_value(v) if not pd.isna(v) else "" for v in values]
        elif str(col).endswith("_pct") or "%)" in str(col):  # a percentage: one decimal
            out[col] = [f"{round(float(v), 1) + 0.0:,.1f}" if pd.notna(v) else ""
                        for v in pd.to_numeric(values, errors="coerce")]
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out[col] = [format_value(v, digits) for v in values]
        else:
            out[col] = values.map(lambda v: "" if v is None or (isinstance(v, float)
                                                                and math.isnan(v)) else str(v))
    return out


# --- labels -------------------------------------------------------------------------

#: Plain-word headers of the columns the report and notebooks show; ``{d}`` is the
#: distance unit (km or mi). Columns not listed fall back to the glossary's
#: :func:`kneedata.schema.label`.
_LABELS = {
    "shoe_id": "shoe",
    "name": "name",
    "drop_mm": "drop (mm)",
    "n_runs": "runs",
    "distance_km": "distance ({d})",
    "n_episodes": "pain episodes",
    "episodes_per_100km": "episodes per 100 {d}",
    "episodes_per_100km_low": "95 % interval, low",
    "episodes_per_100km_high": "95 % interval, high",
    "longest_prev_30d_km": "longest run of the 30 days before ({d})",
    "spike_ratio": "times the longest",
    "cadence_moving_spm": "cadence (steps/min)",
    "step_length_m": "step length (m)",
    "cadence_deviation_pct": "cadence vs your usual (%)",
    "step_length_deviation_pct": "step length vs your usual (%)",
    "speed_moving_m_s": "speed while moving (m/s)",
    "spike_large": "run over twice the longest of the 30 days before",
    "spike_large_7d": "run over twice the longest of the 30 days before, in the 7 days before",
    "n_strength": "strength sessions",
    "local_date": "date",
    "date": "date",
    "spike_category": "spike",
    "path": "file",
    "reason": "why",
    "term": "what was compared",
    "pain_before": "pain before",
    "pain_during": "pain during",
    "pain_after": "pain after",
    "pain_next_morning": "pain next morning",
    "change_24h": "next morning minus before (points)",
    "weekly_change_gt30": "a week over 30 % longer than the week before",
    "cadence_moving_spm_7d": "cadence of the 7 days before (steps/min)",
    "activity_id": "run",
    "week_start": "week from",
    "n_mornings": "mornings logged",
    "morning_pain_0_10": "morning pain (0-10)",
    "max_pain_0_10": "highest pain (0-10)",
    "change_0_10": "morning pain vs the week before (points)",
    "creeping_up": "creeping up",
    "n_acceptable": "runs acceptable",
    "n_too_much": "runs too much",
    "n_unknown": "runs not known",
    "month": "month",
    "runs": "runs",
    "section": "analysis",
    "estimate": "ratio",
    "ci_low": "95 % interval, low",
    "ci_high": "95 % interval, high",
    "agrees_with_lead": "same way as the main answer",
    "direction": "effect looked for",
    "detectable_odds_ratio": "smallest ratio seen in 80 % of histories like yours",
    "power_at_2": "power for a ratio of 2",
    "power_at_3": "power for a ratio of 3",
    "power_at_2_se": "its simulation error (2)",
    "power_at_3_se": "its simulation error (3)",
    "episodes_for_or_2": "episodes for 80 % power at 2",
    "episodes_for_or_3": "episodes for 80 % power at 3",
}


def plain_label(name: str, units: str | Units = "km") -> str:
    """A column's header in plain words with its unit (distances in ``units``).

    >>> plain_label("episodes_per_100km", "mi"), plain_label("cadence_spm")
    ('episodes per 100 mi', 'cadence (steps/min)')
    """
    u = units_of(units)
    if name in _LABELS:
        return _LABELS[name].format(d=u.word)
    from kneedata.schema import label

    text = label(name)
    return text.replace("100km", "100 km").replace("km", u.word) if u.name != "km" else text


def term_label(term: str, units: str | Units = "km") -> str:
    """A model term in words: ``spike_large_7d`` -> "run over twice ..., in the 7 days before".

    >>> term_label("n_strength_7d")
    'strength sessions, in the 7 days before'
    """
    import re

    if term in _LABELS:
        return plain_label(term, units)
    found = re.fullmatch(r"(.+)_(\d+)d", term)
    if found and found.group(1) in _LABELS:
        return f"{plain_label(found.group(1), units)}, in the {found.group(2)} days before"
    return plain_label(term, units)


def display_frame(frame: pd.DataFrame, units: str | Units = "km", *,
                  digits: int = 3) -> pd.DataFrame:
    """A table as a person reads it: values in ``units`` (:meth:`Units.column`), every
    number as text (:func:`format_value`), column names as plain headers
    (:func:`plain_label`; headers that already have spaces are kept)."""
    u = units_of(units)
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_numeric_dtype(shown[col]) and not pd.api.types.is_bool_dtype(shown[col]):
            shown[col] = u.column(str(col), shown[col])
    pairs = [str(c) for c in shown.columns
             if f"{c}_low" in shown.columns and f"{c}_high" in shown.columns]
    shown = format_frame(shown, digits)
    for col in pairs:  # one "0.056 to 1.7" column instead of two: narrower tables
        lo, hi = shown.pop(f"{col}_low"), shown.pop(f"{col}_high")
        where = list(shown.columns).index(col) + 1
        shown.insert(where, "95 % interval",
                     [f"{a} to {b}" if a and b else "" for a, b in zip(lo, hi, strict=True)])
    shown = shown.reset_index(drop=True)  # row labels mean nothing to a reader
    return shown.rename(columns={c: plain_label(str(c), u) if " " not in str(c) else c
                                 for c in shown.columns})


# --- notes in notebooks --------------------------------------------------------------


def _show_plainly(message: Any, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    del filename, lineno, file, line  # the internal line that raised it means nothing here
    word = "note" if issubclass(category, UserWarning) else category.__name__
    print(f"{word}: {message}", file=sys.stdout, flush=True)


def plain_notes() -> None:
    """Show warnings as plain text lines (``note: ...``), each distinct one once.

    Jupyter shows a warning as a pink stderr box that names the package line that
    raised it (``pipeline.py:269``); a runner needs the message only. Call once at
    the top of a notebook.
    """
    warnings.showwarning = _show_plainly
    warnings.simplefilter("default")  # each distinct message once per place
    warnings.filterwarnings("ignore", category=DeprecationWarning)


# --- form ---------------------------------------------------------------------------


def _day(value: Any) -> str:
    stamp = pd.Timestamp(value) if value is not None else pd.NaT
    return "?" if pd.isna(stamp) else stamp.strftime("%d %b %Y")


def usual_cadence_text(line: dict[str, Any], *, min_runs: int | None = None,
                       diary_start: Any = None) -> str:
    """The runner's usual-cadence line in words, with the runs and the window it came from.

    ``line`` is ``gait_metrics(...).attrs['cadence_speed_line']``; ``min_runs`` the
    runs a trustworthy line needs (``DeriveOptions.min_baseline_runs``); with
    ``diary_start``, a line that ended before the diary began says so.
    """
    from kneedata.metrics.baseline import MIN_BASELINE_RUNS

    need = MIN_BASELINE_RUNS if min_runs is None else int(min_runs)
    slope = float(line.get("slope_spm_per_m_s", math.nan))
    n = int(line.get("n_runs", 0) or 0)
    if not math.isfinite(slope):
        return (f"Your own cadence-speed line needs runs with cadence and speed; {n} were "
                "found, so there is no usual cadence to compare with.")
    window = line.get("window_days", "?")
    text = (f"Your usual cadence: about {float(line['intercept_spm']):.0f} + {slope:.1f} x "
            f"speed (m/s) steps/min, fitted on {n} run{'s' if n != 1 else ''} from "
            f"{_day(line.get('from_date'))} to {_day(line.get('to_date'))} (your runs of the "
            f"last {window} days with a watch file).")
    if n < need:
        text += (f" That is fewer than the {need} runs a usual line needs, so read it as a "
                 "rough guide only.")
    to_date = line.get("to_date")
    end = pd.Timestamp(to_date) if to_date is not None else pd.NaT
    if diary_start is not None and not pd.isna(end) and end < pd.Timestamp(diary_start):
        years = (pd.Timestamp(diary_start) - end).days / 365.25
        gap = f"{years:.1f} years" if years >= 1 else f"{(pd.Timestamp(diary_start) - end).days} days"
        text += f" Those runs ended {gap} before your pain diary starts."
    return text


def deviation_blank_reason(gait: pd.DataFrame) -> str | None:
    """Why ``cadence_deviation_pct`` is blank for every run, or ``None`` when it is not."""
    dev = gait.get("cadence_deviation_pct")
    if dev is not None and pd.to_numeric(dev, errors="coerce").notna().any():
        return None
    need = gait.attrs.get("min_baseline_runs")
    window = gait.attrs.get("baseline_days")
    most = pd.to_numeric(gait.get("n_baseline_runs", pd.Series(dtype=float)),
                         errors="coerce").max()
    had = "" if pd.isna(most) else f" (at most {int(most)} did)"
    if need and window:
        return (f"'vs usual' is blank: a run is compared with your usual only when at least "
                f"{need} earlier runs with cadence fall in the {window} days before it{had}. "
                "More runs recorded with a watch fill it in.")
    return "'vs usual' is blank: no run had enough earlier runs to compare with."


def monthly_form(gait: pd.DataFrame, diary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Medians of cadence, step length and cadence vs usual per month with runs.

    With a diary, only the months the diary spans (a 2019-2020 diary does not list
    every month since 2011); months without a run are left out.
    """
    dates = pd.to_datetime(gait["date"])
    keep = pd.Series(True, index=gait.index)
    if diary is not None and len(diary):
        d = pd.to_datetime(diary["date"])
        first, last = d.min().to_period("M"), d.max().to_period("M")
        months = dates.dt.to_period("M")
        keep = (months >= first) & (months <= last)
    g = gait.loc[keep].assign(month=dates[keep].dt.strftime("%Y-%m"))
    if g.empty:
        return pd.DataFrame(columns=["month", "runs", "cadence (steps/min)", "step length (m)",
                                     "cadence vs your usual (%)"])
    out = g.groupby("month").agg(
        runs=("cadence_moving_spm", "size"),
        cadence=("cadence_moving_spm", "median"),
        step=("step_length_m", "median"),
        dev=("cadence_deviation_pct", "median"),
    ).reset_index()
    return out.rename(columns={"cadence": "cadence (steps/min)", "step": "step length (m)",
                               "dev": "cadence vs your usual (%)"})


# --- runs and the diary ---------------------------------------------------------------

#: Runs the "Your runs" table lists at most (the most recent ones).
RUNS_SHOWN = 40


def _runs_to_show(runs: pd.DataFrame, diary: pd.DataFrame | None,
                  most: int) -> tuple[pd.DataFrame, str]:
    """The runs of the diary's span (else all), the most recent ``most``; and a note."""
    dates = pd.to_datetime(runs["local_date"].astype(str), errors="coerce")
    keep = pd.Series(True, index=runs.index)
    span = ""
    if diary is not None and len(diary):
        d = pd.to_datetime(diary["date"])
        keep = (dates >= d.min()) & (dates <= d.max())
        span = f" of your diary's span ({_day(d.min())} to {_day(d.max())})"
        if not keep.any():
            keep[:] = True
            span = ""
    chosen = runs.loc[keep].assign(_date=dates[keep]).sort_values("_date")
    total = len(chosen)
    note = f"All {total} runs{span}." if total <= most else (
        f"The most recent {most} of the {total:,} runs{span}; `kneedata activities "
        "--store DIR` lists every one.")
    return chosen.tail(most), note


def runs_table(runs: pd.DataFrame, responses: pd.DataFrame | None = None,
               units: str | Units = "km", *, diary: pd.DataFrame | None = None,
               most: int = RUNS_SHOWN) -> tuple[pd.DataFrame, str]:
    """The runner's runs as a person reads them, and which runs are listed.

    Parameters
    ----------
    runs
        :attr:`kneedata.Derived.runs` (``local_date``, ``distance_m``,
        ``moving_time_s`` or ``timer_time_s``, optional ``shoe_id``).
    responses
        :func:`kneedata.run_responses` (``activity_id``, ``pain_before``,
        ``pain_after``, ``pain_next_morning``), optional.
    units
        ``"km"`` or ``"mi"`` for the distance and the pace.
    diary
        With a diary, only its span is listed.
    most
        At most this many runs, the most recent.

    Returns
    -------
    (table, note)
        Columns date, distance, time (h:mm), pace (m:ss per km or mile), shoe
        (with shoes), pain before/after/next morning (with a diary); the note
        says which runs are listed.
    """
    u = units_of(units)
    shown, note = _runs_to_show(runs, diary, most)
    seconds = shown.get("moving_time_s", pd.Series(np.nan, index=shown.index))
    if "timer_time_s" in shown:
        seconds = seconds.fillna(shown["timer_time_s"])
    metres = pd.to_numeric(shown["distance_m"], errors="coerce")
    out = pd.DataFrame({
        "date": shown["_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        f"distance ({u.word})": [format_value(v, 3) for v in u.distance(metres / 1000.0)],
        "time (h:mm)": [format_duration(s) for s in seconds],
        f"pace (min/{u.word})": [format_pace(d, s, u) for d, s in zip(metres, seconds,
                                                                       strict=True)],
    })
    if "shoe_id" in shown:
        out["shoe"] = shown["shoe_id"].map(lambda v: "" if pd.isna(v) else str(v)).to_numpy()
    if responses is not None and len(responses) and "activity_id" in shown:
        pain = responses.drop_duplicates("activity_id").set_index("activity_id")
        for col in ("pain_before", "pain_after", "pain_next_morning"):
            if col in pain:
                values = shown["activity_id"].map(pain[col])
                out[plain_label(col)] = [format_value(v, 2) for v in values]
    return out, note


def diary_use_text(frame: pd.DataFrame, *, n_analysed: int | None = None,
                   complete: bool = False) -> str:
    """How much of the diary the analysis could use, and what would help.

    ``frame`` is :func:`kneedata.analysis_frame` (``date``, ``diary_known``);
    ``n_analysed`` the days the main analysis compared (its ``settings['n_days']``).

    >>> f = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=100),
    ...                   "diary_known": [i % 4 == 0 for i in range(100)]})
    >>> diary_use_text(f, n_analysed=20)[:60]
    'Your diary gave a known pain status on 25 of the 100 days fr'
    """
    dates = pd.to_datetime(frame["date"])
    known = int(frame["diary_known"].fillna(False).astype(bool).sum()) \
        if "diary_known" in frame else 0
    text = (f"Your diary gave a known pain status on {known:,} of the {len(frame):,} days "
            f"from {_day(dates.min())} to {_day(dates.max())} (a day counts when it has an "
            "entry" + (", or lies inside your complete diary" if complete else "") + ")")
    text += (f"; the main analysis compared {n_analysed:,} of them." if n_analysed
             else ".")
    if len(frame) and known < 0.5 * len(frame):
        text += (" What would help: a line a day, with 0 on pain-free days too (a runner's "
                 "diary is mostly zeros), or --complete-diary (complete=True) if every day "
                 "you did not write down was free of pain.")
    return text
