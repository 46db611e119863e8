"""How the knee answered each run: the pain-monitoring model, run by run.

Runner's knee is often an ache that comes and goes for months rather than a string
of separate episodes. Physiotherapists then judge each run by the **pain-monitoring
model** (Thomeé 1997, Phys Ther 77:1690, for patellofemoral pain; Silbernagel 2007,
Am J Sports Med 35:897): pain *during* a run may reach 5/10, pain *after* it should
settle by the *next morning*, and pain should not creep up from week to week. A
clinically important change is about 1.2-2 points on 0-10 (Piva 2009, J Rehabil
Med 41:129). See ``docs/run-response.md``.

- :func:`run_responses`: one row per run with the scores before, during, after and
  on the next morning, the 24-hour change, whether the knee settled, the verdict
  (``acceptable`` / ``too_much`` / ``unknown``) and the pain-monitoring zone.
- :func:`weekly_pain`: the week-to-week rule (waking pain not creeping up) and the
  verdict counts of each week.
- :func:`run_features`: the run's own properties (spike, distance against the
  runner's usual, descent, speed-matched cadence, shoe, trail/treadmill), the
  exposures of :func:`kneedata.run_response_model`.

Scores come from the diary entries linked to each run by
:func:`kneedata.io.diary.link_entries`; an entry that could not be linked (several
runs that day and no time to decide) is never guessed onto a run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kneedata import schema
from kneedata.io.diary import (
    LINK_TOLERANCE_MIN,
    clock_minutes,
    link_entries,
    local_start_minutes,
)
from kneedata.runs import run_kind, runs_in_order

__all__ = [
    "HIGH_SHOE_KM",
    "MAX_PAIN",
    "SETTLE_POINTS",
    "USUAL_DAYS",
    "VERDICTS",
    "ZONES",
    "run_features",
    "run_responses",
    "weekly_pain",
]

#: Pain allowed during and after a run by the pain-monitoring model [0-10].
MAX_PAIN = 5.0
#: The next morning is "settled" when it is at most this much above before [points].
SETTLE_POINTS = 1.0
#: Values of ``verdict``.
VERDICTS = ("acceptable", "too_much", "unknown")
#: Zones of the pain-monitoring model (Thomeé 1997): upper bound of each [0-10].
ZONES = (("safe", 2.0), ("acceptable", 5.0), ("high_risk", 10.0))
#: Days of earlier runs that make the runner's usual distance [d].
USUAL_DAYS = 28
#: Earlier runs needed in that window for a usual distance.
MIN_USUAL_RUNS = 3
#: A shoe with at least this many km before the run is a high-km shoe [km].
HIGH_SHOE_KM = 800.0


def _check_thresholds(max_pain: float, settle_points: float) -> None:
    if not 0 < max_pain <= 10:
        raise ValueError(f"max_pain={max_pain!r} must be a pain score above 0 and at most "
                         f"10 (default {MAX_PAIN:g}, the pain-monitoring model).")
    if not 0 <= settle_points <= 10:
        raise ValueError(f"settle_points={settle_points!r} must be 0-10 points (default "
                         f"{SETTLE_POINTS:g}).")


def _ordered_runs(derived: Any) -> pd.DataFrame:
    """The runs in order with ``_date`` and ``_start_min`` (local clock minutes)."""
    runs = derived.runs
    if runs is None or not len(runs):
        return pd.DataFrame({"activity_id": pd.Series(dtype="str"),
                             "kd_day": pd.Series(dtype="datetime64[ns]"),
                             "kd_start_min": pd.Series(dtype="float64")})
    order = runs_in_order(runs, include=None)
    out = runs.loc[order.index].copy()
    out["kd_day"] = order["_date"].to_numpy()
    out["kd_start_min"] = local_start_minutes(out).to_numpy()
    out["activity_id"] = out["activity_id"].astype("str")
    return out.reset_index(drop=True)


def _highest(entries: pd.DataFrame, key: str) -> dict[Any, float]:
    if entries.empty:
        return {}
    return entries.groupby(key)["pain_0_10"].max().to_dict()


def _mornings(diary: pd.DataFrame) -> dict[pd.Timestamp, list[tuple[float, float]]]:
    """Local day -> [(clock minutes or NaN, score)] of the waking entries."""
    woke = diary[diary["timing"] == "next_morning"]
    out: dict[pd.Timestamp, list[tuple[float, float]]] = {}
    for day, clock, pain in zip(woke["_day"], woke["time"], woke["pain_0_10"], strict=True):
        out.setdefault(day, []).append((clock_minutes(clock), float(pain)))
    return out


def _morning_before(scores: list[tuple[float, float]], start_min: float) -> float:
    """Highest waking score of the day not typed later than the run's start."""
    fit = [p for t, p in scores
           if math.isnan(t) or math.isnan(start_min) or t <= start_min + LINK_TOLERANCE_MIN]
    return max(fit) if fit else math.nan


def _zone(score: float) -> Any:
    if math.isnan(score):
        return None
    return next(name for name, high in ZONES if score <= high)


def _linked_diary(derived: Any, runs: pd.DataFrame) -> pd.DataFrame:
    diary = derived.diary
    columns = ["date", "time", "pain_0_10", "timing", "activity_id"]
    if diary is None or not len(diary):
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame["pain_0_10"] = frame["pain_0_10"].astype("float64")
    else:
        frame = diary.copy()
        for c in columns:
            if c not in frame.columns:
                frame[c] = None
    linked = link_entries(frame, runs)
    linked["_day"] = pd.to_datetime(linked["date"]).dt.normalize()
    return linked


def run_responses(derived: Any, *, max_pain: float = MAX_PAIN,
                  settle_points: float = SETTLE_POINTS) -> pd.DataFrame:
    """How the knee answered each run, by the pain-monitoring model.

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of the runner (its ``runs`` and ``diary``).
    max_pain
        Highest acceptable pain during and after a run [0-10] (5 in Thomeé 1997
        and Silbernagel 2007).
    settle_points
        The knee has settled when the next morning is at most this many points
        above before the run [points] (default 1).

    Returns
    -------
    pandas.DataFrame
        One row per run in order (columns of :data:`kneedata.schema.RUN_RESPONSES`):
        ``activity_id``, ``date``, ``n_runs_day``, ``pain_before`` (the highest
        ``before`` entry linked to the run, else that day's waking score typed no
        later than the run's start), ``before_source``, ``pain_during``,
        ``pain_after`` (highest linked entries; an entry with the run's id and no
        timing counts as after), ``pain_next_morning`` (the waking score of the
        next day), ``change_24h`` (next morning minus before), ``settled``,
        ``verdict``, ``zone``, ``n_entries``, ``note``.

    Notes
    -----
    ``verdict`` is ``too_much`` when a known score during or after the run is
    above ``max_pain`` or the knee had not settled by the next morning;
    ``acceptable`` when it settled and no known score was above ``max_pain`` (a
    score not written down is not held against the run); ``unknown`` otherwise
    (before or next morning missing). ``zone`` is the zone of the worst of during,
    after and next morning: ``safe`` (0-2), ``acceptable`` (above 2 to 5),
    ``high_risk`` (above 5) (Thomeé 1997). With two runs on one day both get the
    same next morning (``n_runs_day`` 2): the morning follows both.

    Show verdicts as counts; infer on the scores (:func:`kneedata.run_response_model`),
    never on the binary verdict.
    """
    _check_thresholds(max_pain, settle_points)
    runs = _ordered_runs(derived)
    diary = _linked_diary(derived, runs)
    linked = diary[diary["linked_activity_id"].notna()]
    timing = linked["timing"]
    before = _highest(linked[timing == "before"], "linked_activity_id")
    during = _highest(linked[timing == "during"], "linked_activity_id")
    after = _highest(linked[(timing == "after")
                            | (timing.isna() & (linked["link"] == "given"))],
                     "linked_activity_id")
    n_linked = linked.groupby("linked_activity_id").size().to_dict()
    mornings = _mornings(diary)
    unlinked = diary[diary["link"].isin(["ambiguous", "time_mismatch"])]
    notes_by_day = unlinked.groupby("_day").size().to_dict()
    per_day = runs.groupby("kd_day").size().to_dict() if len(runs) else {}
    rows = []
    for aid, day, start_min in zip(runs["activity_id"], runs["kd_day"], runs["kd_start_min"],
                                   strict=True):
        day = pd.Timestamp(day)
        pre = before.get(aid, math.nan)
        source = "before" if not math.isnan(pre) else None
        if source is None:
            pre = _morning_before(mornings.get(day, []), float(start_min))
            source = "morning" if not math.isnan(pre) else None
        nxt = max((p for _, p in mornings.get(day + pd.Timedelta(days=1), [])),
                  default=math.nan)
        dur, aft = during.get(aid, math.nan), after.get(aid, math.nan)
        change = nxt - pre
        settled = None if math.isnan(change) else bool(change <= settle_points)
        over = any(not math.isnan(v) and v > max_pain for v in (dur, aft))
        verdict = ("too_much" if over or settled is False
                   else "acceptable" if settled else "unknown")
        worst = np.nanmax([dur, aft, nxt]) if not all(
            math.isnan(v) for v in (dur, aft, nxt)) else math.nan
        n_unlinked = int(notes_by_day.get(day, 0))
        note = (f"{n_unlinked} entr{'y' if n_unlinked == 1 else 'ies'} that day could not "
                "be linked to one run (see link_entries)") if n_unlinked else None
        rows.append({"activity_id": aid, "date": day, "n_runs_day": int(per_day[day]),
                     "pain_before": pre, "before_source": source, "pain_during": dur,
                     "pain_after": aft, "pain_next_morning": nxt, "change_24h": change,
                     "settled": settled, "verdict": verdict, "zone": _zone(float(worst)),
                     "n_entries": int(n_linked.get(aid, 0)), "note": note})
    return _typed(rows, schema.RUN_RESPONSES)


def _typed(rows: list[dict[Any, Any]], table: dict[str, schema.Column]) -> pd.DataFrame:
    if not rows:
        return schema.empty_frame(table)
    frame = pd.DataFrame(rows, columns=list(table))
    for name, col in table.items():
        values = pd.to_datetime(frame[name]) if col.dtype.startswith("datetime64") else frame[name]
        frame[name] = values.astype(col.dtype)  # type: ignore[call-overload]
    return frame


def weekly_pain(derived: Any, *, tolerance: float = SETTLE_POINTS,
                max_pain: float = MAX_PAIN, settle_points: float = SETTLE_POINTS
                ) -> pd.DataFrame:
    """The week-to-week rule: waking pain should not creep up (Silbernagel 2007).

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of the runner.
    tolerance
        A week's mean waking score more than this above the previous week's with
        waking scores is ``creeping_up`` [points] (default 1).
    max_pain, settle_points
        As in :func:`run_responses` (for the verdict counts).

    Returns
    -------
    pandas.DataFrame
        One row per week (Monday to Sunday) from the first to the last diary or run
        week (columns of :data:`kneedata.schema.WEEKLY_PAIN`): ``week_start``,
        ``n_mornings``, ``morning_pain_0_10`` (mean waking score), ``max_pain_0_10``
        (highest entry of any timing), ``change_0_10`` (against the last earlier
        week with waking scores), ``creeping_up``, ``n_runs``, ``n_acceptable``,
        ``n_too_much``, ``n_unknown``.
    """
    if not 0 <= tolerance <= 10:
        raise ValueError(f"tolerance={tolerance!r} must be 0-10 points (default 1).")
    responses = run_responses(derived, max_pain=max_pain, settle_points=settle_points)
    diary = derived.diary if derived.diary is not None else pd.DataFrame(
        {"date": pd.Series(dtype="datetime64[ns]"), "pain_0_10": pd.Series(dtype="float64"),
         "timing": pd.Series(dtype="str")})
    days = pd.to_datetime(diary["date"]).dt.normalize()
    spans = [d for d in (days, responses["date"]) if len(d)]
    if not spans:
        return schema.empty_frame(schema.WEEKLY_PAIN)

    def monday(values: pd.Series) -> pd.Series:
        values = pd.to_datetime(values)
        return values - pd.to_timedelta(values.dt.day_of_week, unit="D")

    first = min(monday(s).min() for s in spans)
    last = max(monday(s).max() for s in spans)
    weeks = pd.date_range(first, last, freq="7D", name="week_start")
    timing = diary["timing"] if "timing" in diary.columns else pd.Series(None, index=diary.index)
    woke = diary.assign(week=monday(days))[(timing == "next_morning").to_numpy()]
    morning = woke.groupby("week")["pain_0_10"].agg(["mean", "size"]).reindex(weeks)
    highest = diary.assign(week=monday(days)).groupby("week")["pain_0_10"].max().reindex(weeks)
    verdicts = (responses.assign(week=monday(responses["date"]))
                .groupby(["week", "verdict"]).size().unstack(fill_value=0)
                .reindex(index=weeks, columns=list(VERDICTS), fill_value=0))
    level = morning["mean"]
    change = level - level.ffill().shift(1)
    creeping = change.gt(tolerance).astype("boolean").mask(change.isna())
    out = pd.DataFrame({
        "week_start": weeks,
        "n_mornings": morning["size"].fillna(0).to_numpy(),
        "morning_pain_0_10": level.to_numpy(),
        "max_pain_0_10": highest.to_numpy(),
        "change_0_10": change.to_numpy(),
        "creeping_up": creeping.to_numpy(),
        "n_runs": verdicts.sum(axis=1).to_numpy(),
        "n_acceptable": verdicts["acceptable"].to_numpy(),
        "n_too_much": verdicts["too_much"].to_numpy(),
        "n_unknown": verdicts["unknown"].to_numpy(),
    })
    return _typed(out.to_dict("records"), schema.WEEKLY_PAIN)


def _by_id(table: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    if table is None or "activity_id" not in getattr(table, "columns", ()):
        return pd.DataFrame(columns=columns)
    present = [c for c in columns if c in table.columns]
    frame = table.assign(activity_id=table["activity_id"].astype("str"))
    return frame.drop_duplicates("activity_id").set_index("activity_id")[present]


def _usual_distance(days: np.ndarray, km: np.ndarray, window: int) -> np.ndarray:
    """Median distance of the runs in the ``window`` days before each run's day."""
    day = (days.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(int)
    out = np.full(len(day), np.nan)
    for i, d in enumerate(day):
        lo, hi = np.searchsorted(day, d - window, "left"), np.searchsorted(day, d, "left")
        prev = km[lo:hi]
        prev = prev[~np.isnan(prev)]
        if len(prev) >= MIN_USUAL_RUNS:
            out[i] = float(np.median(prev))
    return out


def run_features(derived: Any, *, usual_days: int = USUAL_DAYS,
                 high_shoe_km: float = HIGH_SHOE_KM) -> pd.DataFrame:
    """Each run's own properties: the exposures of :func:`kneedata.run_response_model`.

    Parameters
    ----------
    derived
        :func:`kneedata.derive` of the runner (``runs``; ``spikes``, ``gait`` and
        ``shoe_usage`` when present).
    usual_days
        The runner's usual distance is the median of the runs in the
        ``usual_days`` days before the run's day [d] (needs 3 runs).
    high_shoe_km
        A shoe with at least this many km before the run is a high-km shoe [km].

    Returns
    -------
    pandas.DataFrame
        One row per run in the order of :func:`run_responses` (columns of
        :data:`kneedata.schema.RUN_FEATURES`). A property the data lack is NaN /
        <NA> (no records: no cadence; no shoes table: no shoe flags).
    """
    if int(usual_days) != usual_days or usual_days < 7:
        raise ValueError(f"usual_days={usual_days!r} must be a whole number of days, at "
                         f"least 7 (default {USUAL_DAYS}).")
    runs = _ordered_runs(derived)
    ids = runs["activity_id"]
    spikes = _by_id(derived.spikes, ["spike_ratio", "spike_category"]).reindex(ids)
    gait = _by_id(derived.gait, ["cadence_deviation_pct", "descent_m"]).reindex(ids)
    shoes = _by_id(derived.shoe_usage, ["new_shoe", "shoe_km_at_run"]).reindex(ids)

    def column(frame: pd.DataFrame, name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(ids), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)

    km = (pd.to_numeric(runs["distance_m"], errors="coerce").to_numpy(dtype=float) / 1000
          if "distance_m" in runs.columns else np.full(len(runs), np.nan))
    usual = _usual_distance(runs["kd_day"].to_numpy(), km, int(usual_days))
    descent = (pd.to_numeric(runs["descent_m"], errors="coerce").to_numpy(dtype=float)
               if "descent_m" in runs.columns else np.full(len(runs), np.nan))
    descent = np.where(np.isnan(descent), column(gait, "descent_m"), descent)
    kinds = [run_kind(s, b) for s, b in zip(
        runs["sport"] if "sport" in runs.columns else [None] * len(runs),
        runs["sub_sport"] if "sub_sport" in runs.columns else [None] * len(runs),
        strict=True)]
    category = (spikes["spike_category"].astype("object") if "spike_category" in spikes
                else pd.Series([None] * len(ids)))
    spike_large = pd.Series([None if c is None or (isinstance(c, float) and math.isnan(c))
                             else c == "large" for c in category], dtype="boolean")
    shoe_km = column(shoes, "shoe_km_at_run")
    new = (shoes["new_shoe"].astype("boolean").to_numpy() if "new_shoe" in shoes
           else pd.array([pd.NA] * len(ids), dtype="boolean"))
    rows = pd.DataFrame({
        "activity_id": ids.to_numpy(), "date": runs["kd_day"].to_numpy(),
        "kind": kinds, "distance_km": km, "usual_distance_km": usual,
        "distance_vs_usual_pct": (km / usual - 1) * 100, "spike_ratio": column(spikes, "spike_ratio"),
        "spike_large": spike_large.to_numpy(), "descent_m": descent,
        "cadence_deviation_pct": column(gait, "cadence_deviation_pct"),
        "new_shoe": new, "shoe_km_at_run": shoe_km,
        "high_km_shoe": pd.array([pd.NA if math.isnan(v) else v >= high_shoe_km
                                  for v in shoe_km], dtype="boolean"),
        "trail": pd.array([k == "trail" if k else pd.NA for k in kinds], dtype="boolean"),
        "treadmill": pd.array([k == "treadmill" if k else pd.NA for k in kinds],
                              dtype="boolean"),
    })
    rows = _with_recovery(rows, derived)
    return _typed(rows.to_dict("records"), schema.RUN_FEATURES)


def _with_recovery(rows: pd.DataFrame, derived: Any) -> pd.DataFrame:
    """The recovery exposures of each run's day (the night before it; that morning's ratings)."""
    from kneedata.metrics.recovery import recovery_daily

    recovery = recovery_daily(getattr(derived, "wellness", None),
                              getattr(derived, "diary", None))
    if recovery.empty:
        return rows
    on_day = recovery.reindex(pd.DatetimeIndex(rows["date"]).normalize())
    extra = {c: on_day[c].array for c in recovery.columns if c in schema.RUN_FEATURES}
    return rows.assign(**extra)
