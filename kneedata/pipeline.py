"""One derive pipeline: every derived table of one runner, each computed once.

:func:`derive` is the one place that decides which metrics are computed and with
which options. It reads the activities (and, for gait, the records) of a
:class:`kneedata.Store` or of plain tables, assigns shoes once, computes daily load,
load metrics, single-run spikes, gait, shoe usage and the shoe summary, and turns
the pain diary into episodes; the result is a :class:`Derived`. The analysis frame
(:func:`kneedata.analysis_frame`), the report, the CLI and the notebooks all start
from it, so a table is never computed twice on the way to a model, and one
:class:`DeriveOptions` is honoured by every step.

Data flow::

    Store / tables ─► activities ─► assign_shoes ─► runs ─┬► daily_load ─► load_metrics
                                                           ├► session_spikes
                      records ─────────────────────────────┼► gait_metrics
                      shoes ───────────────────────────────┴► shoe_usage, shoe_summary
                      diary ─► pain_episodes
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kneedata.metrics.baseline import BASELINE_DAYS, MIN_BASELINE_RUNS
from kneedata.runs import RUN_KINDS, check_include, select_runs

__all__ = ["DeriveOptions", "Derived", "derive"]


@dataclass(frozen=True)
class DeriveOptions:
    """Every option of the derive pipeline, in one typed object.

    Parameters
    ----------
    include
        Kinds of run counted for load, spikes, gait, shoes and the frame
        (:func:`kneedata.select_runs`: road, trail, track, treadmill, virtual by
        default; add ``"walking"``, ``"hiking"`` to count those).
    threshold
        Pain score that makes a pain day [0-10].
    washout_days
        Pain-free days that end an episode and must precede an onset [d].
        This and the body-size and heart-rate fields are checked against the
        plausible ranges of :data:`kneedata.schema.OPTIONS` (the CLI's flags too).
    complete
        The diary is complete: a day without an entry between the first and the
        last entry was pain-free (otherwise it is unknown).
    height_m, leg_length_m
        Body height and leg length for the step-length ratios [m]
        (:func:`kneedata.gait_metrics`).
    baseline_days, min_baseline_runs
        Trailing window of the runner's own speed-cadence line [d] and the runs it
        needs (:func:`kneedata.gait_metrics`).
    load_column
        Daily load summarised by :func:`kneedata.load_metrics` (``distance_km``,
        ``duration_min``, ``trimp``, ``srpe_au``).
    missing_gap_days
        Stretches of at least this many days without a run are missing watch
        data, not rest (:func:`kneedata.load_metrics` ``infer_missing_gap_days``)
        [d]; ``None``: every day without a run in the watch span is rest.
    hr_rest_bpm, hr_max_bpm, sex
        Heart-rate bounds [1/min] and sex for TRIMP (:func:`kneedata.daily_load`);
        estimated from the runs when not given.
    spike_window_days
        History window of the single-run spike [d] (30 in Frandsen et al. 2025).
    attribution_days
        Longest gap between a shoe's last run and an onset for the episode to be
        counted against that shoe [d] (:func:`kneedata.shoe_summary`).
    """

    include: tuple[str, ...] = RUN_KINDS
    threshold: float = 3
    washout_days: int = 14
    complete: bool = False
    height_m: float | None = None
    leg_length_m: float | None = None
    baseline_days: int = BASELINE_DAYS
    min_baseline_runs: int = MIN_BASELINE_RUNS
    load_column: str = "distance_km"
    missing_gap_days: int | None = None
    hr_rest_bpm: float | None = None
    hr_max_bpm: float | None = None
    sex: str | None = None
    spike_window_days: int = 30
    attribution_days: int = 7

    def __post_init__(self) -> None:
        from kneedata.schema import OPTIONS, check_option

        object.__setattr__(self, "include", check_include(self.include))
        for name in OPTIONS:  # the ranges of kneedata.schema.OPTIONS, as the CLI checks them
            value = getattr(self, name)
            problem = None if value is None else check_option(name, value)
            if problem:
                raise ValueError(f"DeriveOptions: {name}={value!r} {problem}.")
        if (self.hr_rest_bpm is not None and self.hr_max_bpm is not None
                and not self.hr_max_bpm > self.hr_rest_bpm):
            raise ValueError(f"DeriveOptions: hr_max_bpm={self.hr_max_bpm!r} must be above "
                             f"hr_rest_bpm={self.hr_rest_bpm!r} (beats/min).")
        if self.spike_window_days < 1:
            raise ValueError(f"DeriveOptions: spike_window_days must be >= 1, got "
                             f"{self.spike_window_days}.")

    @classmethod
    def from_kwargs(cls, base: DeriveOptions | None = None, **fields: Any) -> DeriveOptions:
        """``base`` (default options) with ``fields`` replaced; unknown names raise.

        Parameters
        ----------
        base
            The options to start from (default: ``DeriveOptions()``).
        **fields
            Field names and their new values, e.g. ``height_m=1.78``.

        Returns
        -------
        DeriveOptions

        Raises
        ------
        TypeError
            A name that is not a field, listing the fields.

        Examples
        --------
        >>> DeriveOptions.from_kwargs(height_m=1.78).height_m
        1.78
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - names)
        if unknown:
            raise TypeError(f"unknown option(s) {unknown}; DeriveOptions fields are "
                            f"{sorted(names)}.")
        return dataclasses.replace(base or cls(), **fields)


@dataclass(frozen=True)
class Derived:
    """Every table derived from one runner's activities and logs (see :func:`derive`).

    ``None`` means the input needed was not given (no diary: no episodes; no runs:
    no load). Frames are shared, not copied: treat them as read-only.

    Attributes
    ----------
    options
        The options every table was computed with.
    activities
        All activities; with ``shoe_id``/``shoe_source`` when shoes were given
        (:func:`kneedata.assign_shoes`, once).
    runs
        The activities that are runs (:func:`kneedata.select_runs` with
        ``options.include``).
    daily, load, spikes, gait
        :func:`kneedata.daily_load`, :func:`kneedata.load_metrics`,
        :func:`kneedata.session_spikes`, :func:`kneedata.gait_metrics` (``gait``
        is ``None`` when no records were given).
    diary, episodes
        The pain diary and :func:`kneedata.pain_episodes`.
    shoes, shoe_usage, shoe_summary
        The shoes table, :func:`kneedata.shoe_usage` and
        :func:`kneedata.shoe_summary`.
    routines
        The routines log.
    wellness
        :meth:`kneedata.Store.wellness` (sleep, resting HR, HRV by local wake
        date); ``None`` when the source is not a store and none was given.
    """

    options: DeriveOptions
    activities: pd.DataFrame
    runs: pd.DataFrame
    daily: pd.DataFrame | None = None
    load: pd.DataFrame | None = None
    spikes: pd.DataFrame | None = None
    gait: pd.DataFrame | None = None
    diary: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None
    shoes: pd.DataFrame | None = None
    shoe_usage: pd.DataFrame | None = None
    shoe_summary: pd.DataFrame | None = None
    routines: pd.DataFrame | None = None
    wellness: pd.DataFrame | None = None


_TABLE_KEYS = ("activities", "records", "gait")


def _source_tables(
    source: Any,
) -> tuple[pd.DataFrame, Mapping[str, pd.DataFrame] | None, pd.DataFrame | None]:
    """``(activities, records by activity_id, a gait table given instead)``."""
    if isinstance(source, pd.DataFrame):
        return source, None, None
    if isinstance(source, Mapping) and isinstance(source.get("activities"), pd.DataFrame):
        unknown = sorted(set(source) - set(_TABLE_KEYS))
        if unknown:
            raise TypeError(
                f"derive: unknown table(s) {unknown}; plain tables are "
                "{'activities': DataFrame, optional 'records': {activity_id: DataFrame} "
                "or 'gait': gait_metrics output}. Load, spikes and shoe usage are "
                "computed by derive itself."
            )
        return source["activities"], source.get("records"), source.get("gait")
    if hasattr(source, "activities") and hasattr(source, "records_map"):
        return source.activities(), source.records_map(), None
    raise TypeError(
        "derive: source must be a kneedata.Store, an activities DataFrame or a dict "
        "{'activities': DataFrame, optional 'records' or 'gait'}; got "
        f"{type(source).__name__}."
    )


def _read(value: Any, reader: Any, **kwargs: Any) -> pd.DataFrame | None:
    """A log given as a frame (used as is) or a path (read with ``reader``)."""
    if value is None or isinstance(value, pd.DataFrame):
        return value
    return reader(value, **kwargs)


def derive(
    source: Any,
    diary: Any = None,
    *,
    shoes: Any = None,
    routines: Any = None,
    shoe_periods: Any = None,
    dayfirst: bool = False,
    options: DeriveOptions | None = None,
    wellness: pd.DataFrame | None = None,
) -> Derived:
    """Derive every table of one runner, each once, with one set of options.

    Parameters
    ----------
    source
        A :class:`kneedata.Store`; or plain tables: an activities DataFrame, or a
        dict ``{"activities": DataFrame, "records": {activity_id: DataFrame}}``
        (``records`` optional: without it there is no gait; a ``"gait"`` table
        from :func:`kneedata.gait_metrics` may be given instead).
    diary, shoes, routines, shoe_periods
        The runner's pain diary, shoes table, routines log and shoe date ranges:
        frames (as read by :func:`kneedata.read_pain_diary`,
        :func:`kneedata.read_shoes`, :func:`kneedata.read_routines`,
        :func:`kneedata.io.diary.read_shoe_periods`) or paths of CSV/xlsx files;
        each optional (``shoe_periods`` needs ``shoes``).
    dayfirst
        Read slashed dates in the given files as day/month/year.
    options
        :class:`DeriveOptions` (default options when ``None``).
    wellness
        :meth:`kneedata.Store.wellness` of the runner; read from the store when
        ``source`` is one and this is ``None``.

    Returns
    -------
    Derived
        Every table; ``daily``, ``load``, ``spikes``, ``gait`` are ``None`` when
        there is no run, ``episodes`` when there is no diary, ``shoe_usage`` and
        ``shoe_summary`` when there are no shoes.

    Examples
    --------
    >>> import kneedata as kd
    >>> acts = pd.DataFrame({"activity_id": ["a", "b"], "sport": ["running"] * 2,
    ...     "local_date": pd.to_datetime(["2024-03-01", "2024-03-03"]),
    ...     "distance_m": [5000.0, 12000.0], "timer_time_s": [1800.0, 4300.0],
    ...     "avg_heart_rate_bpm": [150.0, 148.0]})
    >>> import warnings; warnings.simplefilter("ignore")  # HR bounds are estimated
    >>> d = kd.derive(acts)
    >>> d.daily["distance_km"].tolist()
    [5.0, 0.0, 12.0]
    >>> d.spikes["spike_category"].tolist()
    ['first_run', 'large']
    """
    from kneedata.episodes import pain_episodes
    from kneedata.gear import assign_shoes
    from kneedata.io.diary import (
        read_pain_diary,
        read_routines,
        read_shoe_periods,
        read_shoes,
    )

    opts = options if options is not None else DeriveOptions()
    activities, records, given_gait = _source_tables(source)
    diary = _read(diary, read_pain_diary, dayfirst=dayfirst)
    shoes = _read(shoes, read_shoes, dayfirst=dayfirst)
    routines = _read(routines, read_routines, dayfirst=dayfirst)
    periods = _read(shoe_periods, read_shoe_periods, dayfirst=dayfirst)
    if periods is not None and shoes is None:
        raise ValueError("derive: shoe_periods need the shoes table (pass shoes=...).")
    if shoes is not None and len(shoes) and len(activities) and "shoe_id" not in activities:
        activities = assign_shoes(activities, shoes, periods=periods)
    runs = select_runs(activities, include=opts.include)
    episodes = None
    if diary is not None:
        episodes = pain_episodes(diary, threshold=opts.threshold,
                                 washout_days=opts.washout_days, complete=opts.complete)
    tables: dict[str, Any] = {}
    if len(runs):
        tables = _watch_tables(activities, records, given_gait, shoes, episodes, opts)
    if wellness is None and hasattr(source, "wellness") and hasattr(source, "records_map"):
        wellness = source.wellness()
    return Derived(options=opts, activities=activities, runs=runs, diary=diary,
                   episodes=episodes, shoes=shoes, routines=routines, wellness=wellness,
                   **tables)


def _watch_tables(
    activities: pd.DataFrame,
    records: Mapping[str, pd.DataFrame] | None,
    gait: pd.DataFrame | None,
    shoes: pd.DataFrame | None,
    episodes: pd.DataFrame | None,
    opts: DeriveOptions,
) -> dict[str, Any]:
    """Load, spikes, gait and shoe tables of the runs (there is at least one)."""
    from kneedata.metrics.gait import gait_metrics
    from kneedata.metrics.load import daily_load, load_metrics, session_spikes
    from kneedata.metrics.shoes import shoe_summary, shoe_usage

    daily = daily_load(activities, include=opts.include, hr_rest_bpm=opts.hr_rest_bpm,
                       hr_max_bpm=opts.hr_max_bpm, sex=opts.sex)
    out: dict[str, Any] = {
        "daily": daily,
        "load": load_metrics(daily, column=opts.load_column,
                             infer_missing_gap_days=opts.missing_gap_days),
        "spikes": session_spikes(activities, include=opts.include,
                                 window_days=opts.spike_window_days),
        "gait": gait,
    }
    if records is not None:
        out["gait"] = gait_metrics(records, activities, height_m=opts.height_m,
                                   leg_length_m=opts.leg_length_m, include=opts.include,
                                   baseline_days=opts.baseline_days,
                                   min_baseline_runs=opts.min_baseline_runs)
    if shoes is not None and len(shoes):
        out["shoe_usage"] = shoe_usage(activities, shoes, include=opts.include)
        out["shoe_summary"] = shoe_summary(activities, shoes, episodes=episodes,
                                           include=opts.include,
                                           attribution_days=opts.attribution_days)
    return out
