"""The glossary: every table's columns, with unit, dtype, plausible range and meaning.

One place names each quantity. Readers map vendor fields onto these names, metrics
and models produce them, plots take axis labels (with units) from them, and the
README's glossary is generated from them. A quantity a file lacks is a NaN column,
not a missing column.

Each table is a ``dict`` of column name -> :class:`Column`. Sections are owned by the
module that produces the table (see the comment above each one).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kneedata.errors import DataQualityWarning


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    unit
        Physical unit as printed on axes (``"m"``, ``"1/min"``, ``""`` for none).
    dtype
        pandas dtype name the column carries.
    description
        One line: what it is and where it comes from.
    low, high
        Plausible range (inclusive); values outside are flagged, not silently dropped
        (:func:`validate_ranges`).
    window
        Analysis-frame exposures only: how the models summarise the same-day values
        over a window of days (:data:`WINDOW_RULES`): ``"any"`` (flags), ``"sum"``
        (additive quantities), ``"mean"`` (averages over the known days),
        ``"last"`` (rolling summaries: the value on the window's last day).
        ``None``: not an exposure.
    per_day
        Analysis-frame columns computed per run: how a day's runs give the day's
        value (``"mean"``, ``"sum"``, ``"max"``, ``"absmax"`` = the value of
        largest magnitude, ``"any"``).
    """

    unit: str
    dtype: str
    description: str
    low: float | None = None
    high: float | None = None
    window: str | None = None
    per_day: str | None = None


#: Unit suffixes of column names (house style: a quantity's name ends in its unit),
#: longest first, with the unit printed on axes when the glossary has no entry.
SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_m_s", "m/s"), ("_0_10", "0-10"), ("_spm", "steps/min"), ("_rpm", "1/min"),
    ("_bpm", "beats/min"), ("_pct", "%"), ("_deg", "deg"), ("_min", "min"),
    ("_km", "km"), ("_mm", "mm"), ("_ms", "ms"), ("_au", "AU"), ("_m", "m"),
    ("_s", "s"), ("_w", "W"), ("_c", "degC"),
)


def label(name: str, table: dict[str, Column] | None = None) -> str:
    """Axis label with unit for a column name, e.g. ``"cadence (steps/min)"``.

    The unit comes from the glossary; for a column it does not list, from the
    name's unit suffix (``weekly_km`` -> ``"weekly (km)"``).

    Examples
    --------
    >>> label("cadence_spm")
    'cadence (steps/min)'
    >>> label("weekly_km")
    'weekly (km)'
    """
    col = (table or all_columns()).get(name)
    pretty, suffix_unit = name, ""
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            pretty, suffix_unit = name[: -len(suffix)], unit
            break
    pretty = pretty.replace("_", " ")
    unit = (col.unit if col is not None else "") or suffix_unit
    return f"{pretty} ({unit})" if unit else pretty


# --- records: one row per sample (owner: kneedata/io/activity.py) -------------------
RECORDS: dict[str, Column] = {
    "distance_m": Column("m", "float64", "Cumulative distance from the device.", 0, 1e6),
    "speed_m_s": Column("m/s", "float64", "Instantaneous speed (enhanced_speed preferred).", 0, 15),
    "cadence_spm": Column("steps/min", "float64", "Foot sports only: steps per minute; FIT 2 x (cadence + fractional_cadence).", 0, 300),
    "cadence_rpm": Column("1/min", "float64", "Cycling only: crank revolutions per minute, never doubled.", 0, 250),
    "heart_rate_bpm": Column("beats/min", "float64", "Heart rate.", 20, 250),
    "altitude_m": Column("m", "float64", "Altitude (enhanced_altitude preferred).", -500, 9000),
    "latitude_deg": Column("deg", "float64", "WGS84 latitude (FIT semicircles converted).", -90, 90),
    "longitude_deg": Column("deg", "float64", "WGS84 longitude (FIT semicircles converted).", -180, 180),
    "step_length_m": Column("m", "float64", "Step length from the watch (FIT step_length mm / 1000).", 0, 3),
    "stance_time_ms": Column("ms", "float64", "Ground contact time.", 0, 1000),
    "stance_time_balance_pct": Column("%", "float64", "Left-foot share of ground contact time.", 0, 100),
    "vertical_oscillation_mm": Column("mm", "float64", "Vertical oscillation of the torso.", 0, 300),
    "vertical_ratio_pct": Column("%", "float64", "Vertical oscillation / step length x 100.", 0, 30),
    "power_w": Column("W", "float64", "Running or cycling power.", 0, 3000),
    "temperature_c": Column("degC", "float64", "Device temperature.", -40, 60),
    "moving": Column("", "bool", "Timer running and speed above the moving threshold (0.5 m/s)."),
    "timer_running": Column("", "bool", "Timer runs for most of the interval to the next sample (False across timer pauses)."),
}

# --- activity summary: one row per session (owner: kneedata/io/activity.py) ---------
ACTIVITIES: dict[str, Column] = {
    "activity_id": Column("", "string", "Stable id: '<file sha256 prefix>-<session index>'."),
    "sport": Column("", "string", "Lower-case FIT sport name: running, cycling, walking, ..."),
    "sub_sport": Column("", "string", "Lower-case FIT sub-sport: generic, trail, treadmill, ..."),
    "start_time_utc": Column("", "datetime64[ns, UTC]", "Session start, tz-aware UTC."),
    "utc_offset_min": Column("min", "float64", "Local time minus UTC at the start.", -720, 840),
    "timezone": Column("", "string", "IANA zone name when known (from the first GPS fix)."),
    "local_date": Column("", "object", "The runner's local calendar day (datetime.date)."),
    "distance_m": Column("m", "float64", "Session distance (watch total where present).", 0, 1e6),
    "timer_time_s": Column("s", "float64", "Time with the timer running (pauses excluded).", 0, 1e6),
    "elapsed_time_s": Column("s", "float64", "Wall-clock time from start to end.", 0, 1e6),
    "moving_time_s": Column("s", "float64", "Time moving (speed-based).", 0, 1e6),
    "avg_cadence_spm": Column("steps/min", "float64", "Average cadence, foot sports only.", 0, 300),
    "avg_speed_m_s": Column("m/s", "float64", "Average speed over timer time.", 0, 15),
    "avg_heart_rate_bpm": Column("beats/min", "float64", "Average heart rate.", 20, 250),
    "ascent_m": Column("m", "float64", "Total ascent.", 0, 20000),
    "descent_m": Column("m", "float64", "Total descent.", 0, 20000),
    "avg_step_length_m": Column("m", "float64", "Average step length (running dynamics).", 0, 3),
    "avg_stance_time_ms": Column("ms", "float64", "Average ground contact time.", 0, 1000),
    "avg_vertical_oscillation_mm": Column("mm", "float64", "Average vertical oscillation.", 0, 300),
    "avg_vertical_ratio_pct": Column("%", "float64", "Average vertical ratio.", 0, 30),
    "avg_stance_time_balance_pct": Column("%", "float64", "Average left share of contact time.", 0, 100),
    "device": Column("", "string", "Manufacturer and product where the file says."),
    "complete": Column("", "bool", "False when the file was truncated or damaged (impossible values left out: see warnings and docs/robustness.md)."),
    "source_file": Column("", "string", "Path of the file the activity was read from."),
    "source_format": Column("", "string", "fit, gpx, tcx or apple_health (a running workout of an Apple Health export)."),
    "cadence_unit_source": Column("", "string", "How cadence was read: fit_strides_doubled, strides_doubled, steps_as_is, none, cycling_rpm."),
    "avg_cadence_rpm": Column("1/min", "float64", "Average crank cadence, cycling only.", 0, 250),
    "local_time_source": Column("", "string", "Where utc_offset_min came from: file, gps_timezone, assumed_utc."),
    "n_records": Column("", "int64", "Number of samples in the records table."),
    "n_pauses": Column("", "int64", "Number of timer pauses (stop/start events)."),
    "totals_source": Column("", "string", "Headline figures from the 'watch' (file totals), the 'samples', or 'mixed'."),
    "totals_detail": Column("", "string", "Source of each figure, e.g. 'distance_m=watch;ascent_m=samples' (gps: from the track)."),
    "decoder": Column("", "string", "FIT engine that decoded the file: fitfast, fitdecode (also the fallback for files fitfast refuses), fitparse, garmin_fit_sdk; empty for GPX/TCX."),
}

# --- laps: one row per lap (owner: kneedata/io/activity.py) -------------------------
LAPS: dict[str, Column] = {
    "lap_index": Column("", "int64", "0, 1, ... in order within the session."),
    "start_time_utc": Column("", "datetime64[ns, UTC]", "Lap start, tz-aware UTC."),
    "distance_m": Column("m", "float64", "Lap distance.", 0, 1e6),
    "timer_time_s": Column("s", "float64", "Lap time with the timer running.", 0, 1e6),
    "elapsed_time_s": Column("s", "float64", "Lap wall-clock time.", 0, 1e6),
    "avg_speed_m_s": Column("m/s", "float64", "Lap average speed.", 0, 15),
    "avg_heart_rate_bpm": Column("beats/min", "float64", "Lap average heart rate.", 20, 250),
    "avg_cadence_spm": Column("steps/min", "float64", "Lap average cadence, foot sports only.", 0, 300),
    "avg_cadence_rpm": Column("1/min", "float64", "Lap average crank cadence, cycling only.", 0, 250),
    "ascent_m": Column("m", "float64", "Lap ascent.", 0, 20000),
    "descent_m": Column("m", "float64", "Lap descent.", 0, 20000),
    "trigger": Column("", "string", "What ended the lap: manual, distance, time, session_end, ..."),
}

# --- diary, shoes, routines, episodes (owner: kneedata/io/diary.py, episodes.py) -----
DIARY: dict[str, Column] = {
    "date": Column("", "datetime64[ns]", "Local calendar day of the entry (tz-naive, midnight)."),
    "time": Column("", "str", "Optional local clock time 'HH:MM'."),
    "side": Column("", "str", "left, right or both (blank allowed only when pain_0_10 is 0)."),
    "site": Column("", "str", "Where it hurt: around_kneecap, behind_kneecap, below_kneecap, above_kneecap, lateral, medial, back, whole_knee, other."),
    "pain_0_10": Column("", "float64", "Pain score on a 0-10 numeric rating scale.", 0, 10),
    "timing": Column("", "str", "When it hurt: before (just before a run), during, after, next_morning (on waking, any day; 'morning' is read as this), rest, stairs, other."),
    "activity_id": Column("", "str", "Optional id of the run the entry refers to."),
    "notes": Column("", "str", "Free text."),
    "sleep_quality_1_5": Column("", "float64", "Optional rating of last night's sleep, 1 = very poor to 5 = very good (NaN: not rated).", 1, 5),
    "fatigue_0_10": Column("", "float64", "Optional rating of tiredness, 0 = fresh to 10 = exhausted (NaN: not rated).", 0, 10),
    "soreness_0_10": Column("", "float64", "Optional rating of muscle soreness, 0 = none to 10 = worst (NaN: not rated).", 0, 10),
    "stress_0_10": Column("", "float64", "Optional rating of life stress, 0 = none to 10 = worst (NaN: not rated).", 0, 10),
    "source_line": Column("", "int64", "Line (CSV) or row (xlsx) of the entry in the file; header is 1."),
}
#: What :func:`kneedata.io.diary.link_entries` adds to the diary's columns.
DIARY_LINKS: dict[str, Column] = {
    "linked_activity_id": Column("", "str", "The run the entry is about: its activity_id when given, else the only run that day or the run its time picks; NaN when none or when ambiguous (link_entries)."),
    "link": Column("", "str", "How the entry was linked: given, only_run, by_time; or why not: ambiguous (several runs, no time to decide), no_run, time_mismatch, unknown_id; none = not about a run (link_entries)."),
    "link_note": Column("", "str", "Why an entry about a run was not linked, and how to fix it; NaN otherwise (link_entries)."),
}
SHOES: dict[str, Column] = {
    "shoe_id": Column("", "str", "Short unique id chosen by the runner."),
    "name": Column("", "str", "Name as in the watch/Strava gear list."),
    "brand": Column("", "str", "Maker."),
    "model": Column("", "str", "Model name."),
    "drop_mm": Column("mm", "float64", "Heel-to-toe drop.", -5, 20),
    "stack_mm": Column("mm", "float64", "Heel stack height.", 0, 80),
    "first_used": Column("", "datetime64[ns]", "First local day worn (NaT: always available)."),
    "retired": Column("", "datetime64[ns]", "Last local day worn (NaT: still in use)."),
    "initial_km": Column("km", "float64", "Distance on the shoe before the first imported run (blank = 0).", 0, 10000),
    "default_for": Column("", "str", "Optional assignment rule, e.g. 'sub_sport=trail' or 'sport=running'."),
    "source_line": Column("", "int64", "Line (CSV) or row (xlsx) in the file; header is 1."),
}
ROUTINES: dict[str, Column] = {
    "date": Column("", "datetime64[ns]", "Local calendar day of the session."),
    "kind": Column("", "str", "strength, foam_rolling, physio, mobility or other."),
    "minutes": Column("min", "float64", "Duration (NaN when not given).", 0, 600),
    "exercises": Column("", "str", "Free text: what was done."),
    "source_line": Column("", "int64", "Line (CSV) or row (xlsx) in the file; header is 1."),
}
EPISODES: dict[str, Column] = {
    "episode_id": Column("", "int64", "1, 2, ... in order of onset."),
    "onset_date": Column("", "datetime64[ns]", "First pain day of the episode (local)."),
    "end_date": Column("", "datetime64[ns]", "Last pain day of the episode (local)."),
    "side": Column("", "str", "left, right or both: union over the episode's pain days."),
    "peak_pain_0_10": Column("", "float64", "Highest pain score in the episode.", 0, 10),
    "n_pain_days": Column("", "int64", "Days with pain >= threshold in the episode."),
    "end_known": Column("", "bool", "A pain-free day was observed >= washout_days after end_date."),
    "onset_known": Column("", "bool", "The runner was known to be free of earlier episodes before onset."),
}


# --- METRICS: derived tables (owner: kneedata/metrics/load.py, gait.py, shoes.py) ----
# Formulas and references are in each function's docstring and docs/design.md section 4.
DAILY_LOAD: dict[str, Column] = {
    "distance_km": Column("km", "float64", "Sum of run distances that local day; 0 = rest, NaN if a run lacks distance (daily_load).", 0, 500),
    "duration_min": Column("min", "float64", "Sum of timer time (pauses excluded) that day (daily_load).", 0, 2000),
    "n_runs": Column("", "int64", "Number of runs that day (daily_load).", 0, 20),
    "longest_run_km": Column("km", "float64", "Longest single run that day (daily_load).", 0, 500),
    "ascent_m": Column("m", "float64", "Sum of run ascent that day, from the activity totals (daily_load).", 0, 20000),
    "descent_m": Column("m", "float64", "Sum of run descent that day, from the activity totals (daily_load).", 0, 20000),
    "trimp": Column("AU", "float64", "Banister TRIMP: min x HRr x 0.64 e^(1.92 HRr) (women 0.86 e^(1.67 HRr)); Morton 1990 doi:10.1152/jappl.1990.69.3.1171 (daily_load).", 0, 2000),
    "srpe_au": Column("AU", "float64", "Session RPE load: RPE (0-10) x minutes; NaN if a run that day lacks RPE; Foster 2001 doi:10.1519/00124278-200102000-00019 (daily_load).", 0, 20000),
}
LOAD_METRICS: dict[str, Column] = {
    "missing_day": Column("", "bool", "Day treated as missing data (known, inferred gap or NaN load), never as rest (load_metrics)."),
    "acute_7d": Column("load/week", "float64", "Sum of the last 7 days of the load column (load_metrics).", 0, None),
    "chronic_28d": Column("load/week", "float64", "Mean weekly load of the last 28 days, acute week included (load_metrics).", 0, None),
    "chronic_prev_21d": Column("load/week", "float64", "Mean weekly load of days t-27..t-7 (acute week excluded) (load_metrics).", 0, None),
    "acwr_coupled": Column("", "float64", "acute_7d / chronic_28d = 4R/(R+3); coupled ratio, Lolli 2019 doi:10.1136/bjsports-2017-098110 (load_metrics).", 0, 10),
    "acwr_uncoupled": Column("", "float64", "acute_7d / chronic_prev_21d (R) (load_metrics).", 0, 10),
    "ewma_acute_7d": Column("load/day", "float64", "EWMA of daily load, lambda = 2/(7+1) = 0.25; Williams 2017 doi:10.1136/bjsports-2016-096589 (load_metrics).", 0, None),
    "ewma_chronic_28d": Column("load/day", "float64", "EWMA of daily load, lambda = 2/(28+1) = 0.068966 (load_metrics).", 0, None),
    "acwr_ewma": Column("", "float64", "ewma_acute_7d / ewma_chronic_28d; Williams 2017 doi:10.1136/bjsports-2016-096589 (load_metrics).", 0, 10),
    "monotony_7d": Column("", "float64", "Foster monotony: mean / population SD of the 7 daily loads; Foster 1998 doi:10.1097/00005768-199807000-00023 (load_metrics).", 0, None),
    "strain_7d": Column("load/week", "float64", "Foster strain: acute_7d x monotony_7d (load_metrics).", 0, None),
    "ctl": Column("load/day", "float64", "Chronic training load (fitness), exponential time constant 42 d, starts at 0; Banister 1975 (load_metrics).", 0, None),
    "atl": Column("load/day", "float64", "Acute training load (fatigue), exponential time constant 7 d, starts at 0 (load_metrics).", 0, None),
    "tsb": Column("load/day", "float64", "Training stress balance: yesterday's ctl - atl (load_metrics).", None, None),
    "weekly_change_pct": Column("%", "float64", "(acute_7d / acute_7d 7 days earlier - 1) x 100, rolling week (load_metrics).", -100, None),
    "weekly_change_cat": Column("", "category", "Nielsen 2014 progression class <10%, 10-30%, >30% (>30%: HR 1.59); doi:10.2519/jospt.2014.5164 (load_metrics)."),
}
SESSION_SPIKES: dict[str, Column] = {
    "activity_id": Column("", "str", "The run (session_spikes)."),
    "date": Column("", "datetime64[ns]", "Local calendar day of the run (session_spikes)."),
    "distance_km": Column("km", "float64", "Run distance (session_spikes).", 0, 500),
    "longest_prev_30d_km": Column("km", "float64", "Longest run in the previous 30 days (d-30..d-1 and earlier runs the same day) (session_spikes).", 0, 500),
    "spike_ratio": Column("", "float64", "distance_km / longest_prev_30d_km; Frandsen 2025 doi:10.1136/bjsports-2024-109380 (session_spikes).", 0, None),
    "spike_pct": Column("%", "float64", "(spike_ratio - 1) x 100: how much longer than the longest recent run (session_spikes).", -100, None),
    "spike_category": Column("", "category", "none <=10%, small >10-30% (HRR 1.64), moderate >30-100% (1.52), large >100% (2.28), first_run (no history); Frandsen 2025 (session_spikes)."),
    "n_missing_days_30d": Column("", "int64", "Known-missing days (no watch data, not rest) among d-30..d: history may be incomplete when > 0 (session_spikes).", 0, 31),
}
GAIT: dict[str, Column] = {
    "activity_id": Column("", "str", "The run (gait_metrics)."),
    "date": Column("", "datetime64[ns]", "Local calendar day of the run (gait_metrics)."),
    "moving_time_s": Column("s", "float64", "Time of moving samples used (gait_metrics).", 0, 1e6),
    "cadence_moving_spm": Column("steps/min", "float64", "Time-weighted mean cadence over moving samples with cadence > 0 (gait_metrics).", 0, 300),
    "speed_moving_m_s": Column("m/s", "float64", "Time-weighted mean speed over moving samples (gait_metrics).", 0, 15),
    "step_length_m": Column("m", "float64", "Distance / steps over moving samples: sum(v dt) / sum(spm/60 dt), i.e. SL = v x 60 / spm (gait_metrics).", 0, 3),
    "watch_step_length_m": Column("m", "float64", "The watch's own step length, step-weighted over the moving samples where it is recorded (gait_metrics).", 0, 3),
    "step_length_height_ratio": Column("", "float64", "step_length_m / body height; NaN without height_m (gait_metrics).", 0, 2),
    "step_length_leg_ratio": Column("", "float64", "step_length_m / leg length (0.53 x height if not given) (gait_metrics).", 0, 4),
    "steady_flat_time_s": Column("s", "float64", "Moving time on steady (speed CV < 5 % over +-15 s, wider at sparse sampling), flat (|grade| < 2 %) running (>= 1.8 m/s, 130-250 steps/min) samples (gait_metrics).", 0, 1e6),
    "form_speed_m_s": Column("m/s", "float64", "The run's speed for the speed-matched comparison: mean over steady flat running samples (form_basis 'steady') or all running samples ('whole_run') (gait_metrics).", 0, 15),
    "form_cadence_spm": Column("steps/min", "float64", "The run's cadence over the same samples as form_speed_m_s (gait_metrics).", 0, 300),
    "form_basis": Column("", "str", "How form_speed_m_s/form_cadence_spm were obtained: 'steady' (>= 60 s of steady flat running), 'whole_run' (run-level fallback: >= 120 s of running, hills and pace changes included); NaN: neither (gait_metrics)."),
    "baseline_cadence_spm": Column("steps/min", "float64", "The runner's own cadence at form_speed_m_s: robust line cadence ~ speed fitted on the runs of the previous baseline_days (default 180) days only (never the run itself or a later run) (gait_metrics).", 0, 300),
    "n_baseline_runs": Column("", "int64", "Runs with a form figure in the trailing window; under 10 = warm-up, no deviation (gait_metrics).", 0, None),
    "cadence_deviation_pct": Column("%", "float64", "(form_cadence_spm / baseline_cadence_spm - 1) x 100: cadence against the runner's own at the same speed; negative = fewer, longer steps. +5-10 % lowers knee load (Heiderscheit 2011 doi:10.1249/MSS.0b013e3181ebedf4; Lenhart 2014 doi:10.1249/MSS.0b013e3182a78c3a) (gait_metrics).", -40, 40),
    "step_length_deviation_pct": Column("%", "float64", "Step length against the runner's own at the same speed: (baseline_cadence_spm / form_cadence_spm - 1) x 100 (SL = 60 v / spm); +10 % raised patellofemoral stress per step 31 % (Willson 2014 doi:10.1016/j.clinbiomech.2013.12.016) (gait_metrics).", -40, 70),
    "vertical_ratio_pct": Column("%", "float64", "Vertical oscillation / step length x 100, time-weighted; descriptive (sensor-dependent, no knee-pain evidence) (gait_metrics).", 0, 30),
    "duty_factor": Column("", "float64", "Ground contact time / stride time = GCT[ms] x spm / 120000; descriptive (sensor-dependent, no knee-pain evidence) (gait_metrics).", 0, 1),
    "stance_time_ms": Column("ms", "float64", "Ground contact time, time-weighted mean over moving samples with cadence; descriptive (sensor-dependent, no knee-pain evidence) (gait_metrics).", 0, 1000),
    "vertical_oscillation_mm": Column("mm", "float64", "Vertical oscillation, time-weighted mean over moving samples (gait_metrics).", 0, 300),
    "stance_balance_asym_pct": Column("%", "float64", "|mean stance time balance - 50| (gait_metrics).", 0, 50),
    "cadence_drift_pct": Column("%", "float64", "Mean cadence of the last third of moving time vs the first third, x 100 - 100 (gait_metrics).", -50, 50),
    "descent_m": Column("m", "float64", "Descent of altitude smoothed over +-25 m of distance (gait_metrics).", 0, 20000),
    "downhill_time_s": Column("s", "float64", "Moving time at grade < -5 % (grade from altitude smoothed over distance) (gait_metrics).", 0, 1e6),
    "gait_missing_reason": Column("", "str", "Why inputs were missing ('; '-joined, e.g. 'no cadence; no running dynamics'); NaN when none (gait_metrics)."),
}
SHOE_USAGE: dict[str, Column] = {
    "activity_id": Column("", "str", "The run (shoe_usage)."),
    "date": Column("", "datetime64[ns]", "Local calendar day of the run (shoe_usage)."),
    "distance_km": Column("km", "float64", "Run distance (shoe_usage).", 0, 500),
    "shoe_id": Column("", "str", "Shoe worn (activities shoe_id, else kneedata.gear.assign_shoes); NaN unassigned (shoe_usage)."),
    "shoe_source": Column("", "str", "How the shoe was assigned: given, gear, period, rule, only_shoe_in_use, unassigned (shoe_usage)."),
    "shoe_km_at_run": Column("km", "float64", "initial_km + km of earlier runs in this shoe, before this run (shoe_usage).", 0, 10000),
    "shoe_age_days": Column("d", "float64", "Days since first_used (else the shoe's first run) (shoe_usage).", 0, 10000),
    "new_shoe": Column("", "boolean", "shoe_km_at_run < 100 km: the first 100 km of a pair (shoe_usage)."),
    "model_km_at_run": Column("km", "float64", "km already run in any pair of this brand+model before this run (shoe_usage).", 0, 100000),
    "new_model": Column("", "boolean", "model_km_at_run < 100 km: the first 100 km of a model not used before (shoe_usage)."),
    "n_shoes_30d": Column("", "int64", "Distinct shoes worn on runs in the 30 days ending with this run (rotation; Malisoux 2015 doi:10.1111/sms.12154) (shoe_usage).", 0, 50),
    "drop_mm": Column("mm", "float64", "Heel-to-toe drop of the shoe (shoe_usage).", -5, 20),
    "drop_change_mm": Column("mm", "float64", "drop_mm minus the previous run's shoe drop (shoe_usage).", -25, 25),
}
SHOE_SUMMARY: dict[str, Column] = {
    "shoe_id": Column("", "str", "Shoe (shoe_summary)."),
    "name": Column("", "str", "Name from the shoes table (shoe_summary)."),
    "brand": Column("", "str", "Maker (shoe_summary)."),
    "model": Column("", "str", "Model (shoe_summary)."),
    "drop_mm": Column("mm", "float64", "Heel-to-toe drop (shoe_summary).", -5, 20),
    "n_runs": Column("", "int64", "Runs in the data in this shoe (shoe_summary).", 0, None),
    "distance_km": Column("km", "float64", "km run in this shoe in the data (the exposure for episode rates) (shoe_summary).", 0, None),
    "total_km": Column("km", "float64", "initial_km + distance_km (shoe_summary).", 0, None),
    "first_used": Column("", "datetime64[ns]", "first_used from the shoes table, else the first run (shoe_summary)."),
    "last_used": Column("", "datetime64[ns]", "Local day of the last run in this shoe (shoe_summary)."),
    "retired": Column("", "datetime64[ns]", "Retired date from the shoes table (shoe_summary)."),
    "n_episodes": Column("", "float64", "Pain episodes whose onset followed a run in this shoe within 7 days (NaN without episodes) (shoe_summary).", 0, None),
    "episodes_per_100km": Column("1/100 km", "float64", "n_episodes / (distance_km / 100) (shoe_summary).", 0, None),
    "episodes_per_100km_low": Column("1/100 km", "float64", "Exact Poisson 95 % lower limit: chi2(0.025, 2k)/2 / (km/100) (Garwood 1936) (shoe_summary).", 0, None),
    "episodes_per_100km_high": Column("1/100 km", "float64", "Exact Poisson 95 % upper limit: chi2(0.975, 2k+2)/2 / (km/100) (shoe_summary).", 0, None),
}



# --- run responses: one row per run, one per week (owner: kneedata/responses.py) -----
# The pain-monitoring model (Thomee 1997, Phys Ther 77:1690; Silbernagel 2007, Am J
# Sports Med 35:897); see docs/run-response.md.
RUN_RESPONSES: dict[str, Column] = {
    "activity_id": Column("", "str", "The run (run_responses)."),
    "date": Column("", "datetime64[ns]", "Local calendar day of the run (run_responses)."),
    "n_runs_day": Column("", "int64", "Runs that local day: with 2 or more they share one next morning (run_responses).", 1, 20),
    "pain_before": Column("0-10", "float64", "Pain just before the run: the highest 'before' entry linked to it, else that day's waking score typed no later than the run's start (run_responses).", 0, 10),
    "before_source": Column("", "str", "Where pain_before came from: before (an entry just before the run) or morning (the waking score of the day); NaN when unknown (run_responses)."),
    "pain_during": Column("0-10", "float64", "Highest 'during' entry linked to the run (run_responses).", 0, 10),
    "pain_after": Column("0-10", "float64", "Highest 'after' entry linked to the run (an entry with the run's activity_id and no timing counts as after) (run_responses).", 0, 10),
    "pain_next_morning": Column("0-10", "float64", "Highest waking score (timing next_morning) of the day after the run (run_responses).", 0, 10),
    "change_24h": Column("points", "float64", "pain_next_morning - pain_before: how much worse the knee was the morning after (run_responses).", -10, 10),
    "settled": Column("", "boolean", "The next morning was back within settle_points (default 1) of before: change_24h <= 1; <NA> when either is unknown (run_responses)."),
    "verdict": Column("", "str", "Pain-monitoring model: too_much (during or after above max_pain, default 5/10, or not settled by the next morning), acceptable (settled, no known score above 5), unknown (run_responses)."),
    "zone": Column("", "str", "Pain-monitoring zone of the worst of during, after, next morning: safe (0-2), acceptable (>2-5), high_risk (>5) (Thomee 1997); NaN when none scored (run_responses)."),
    "n_entries": Column("", "int64", "Diary entries linked to the run (run_responses).", 0, None),
    "note": Column("", "str", "Entries that day that could not be linked to one run (several runs, no time); NaN when none (run_responses)."),
}
WEEKLY_PAIN: dict[str, Column] = {
    "week_start": Column("", "datetime64[ns]", "Monday of the week (weekly_pain)."),
    "n_mornings": Column("", "int64", "Waking scores (timing next_morning) that week (weekly_pain).", 0, None),
    "morning_pain_0_10": Column("0-10", "float64", "Mean waking score of the week; NaN without one (weekly_pain).", 0, 10),
    "max_pain_0_10": Column("0-10", "float64", "Highest entry of any timing that week (weekly_pain).", 0, 10),
    "change_0_10": Column("points", "float64", "morning_pain_0_10 minus the last earlier week with waking scores (weekly_pain).", -10, 10),
    "creeping_up": Column("", "boolean", "change_0_10 above the tolerance (default 1 point): pain creeping up week to week, against the pain-monitoring model (Silbernagel 2007) (weekly_pain)."),
    "n_runs": Column("", "int64", "Runs that week (weekly_pain).", 0, None),
    "n_acceptable": Column("", "int64", "Runs with verdict acceptable (weekly_pain).", 0, None),
    "n_too_much": Column("", "int64", "Runs with verdict too_much (weekly_pain).", 0, None),
    "n_unknown": Column("", "int64", "Runs with verdict unknown (weekly_pain).", 0, None),
}
RUN_FEATURES: dict[str, Column] = {
    "activity_id": Column("", "str", "The run (run_features)."),
    "date": Column("", "datetime64[ns]", "Local calendar day of the run (run_features)."),
    "kind": Column("", "str", "road, trail, track, treadmill, virtual (kneedata.runs.run_kind) (run_features)."),
    "distance_km": Column("km", "float64", "Run distance (run_features).", 0, 500),
    "usual_distance_km": Column("km", "float64", "Median distance of the runs in the 28 days before the run's day; NaN with fewer than 3 such runs (run_features).", 0, 500),
    "distance_vs_usual_pct": Column("%", "float64", "(distance_km / usual_distance_km - 1) x 100 (run_features).", -100, None),
    "spike_ratio": Column("", "float64", "session_spikes spike_ratio: distance / longest run of the previous 30 days (run_features).", 0, None),
    "spike_large": Column("", "boolean", "More than twice the longest run of the previous 30 days (Frandsen 2025 doi:10.1136/bjsports-2024-109380) (run_features)."),
    "descent_m": Column("m", "float64", "The run's descent: activity total, else from the records (gait_metrics) (run_features).", 0, 20000),
    "cadence_deviation_pct": Column("%", "float64", "Cadence against the runner's own at the same speed (gait_metrics); NaN without records or in the warm-up (run_features).", -40, 40),
    "new_shoe": Column("", "boolean", "The shoe's first 100 km (shoe_usage) (run_features)."),
    "shoe_km_at_run": Column("km", "float64", "km on the shoe before the run (shoe_usage) (run_features).", 0, 10000),
    "high_km_shoe": Column("", "boolean", "At least 800 km on the shoe before the run (run_features)."),
    "trail": Column("", "boolean", "A trail run (run_features)."),
    "treadmill": Column("", "boolean", "A treadmill run (run_features)."),
    "short_sleep": Column("", "boolean", "Under 7 h asleep the night before the run (recovery_daily); <NA> without sleep data (run_features)."),
    "sleep_vs_usual_h": Column("h", "float64", "The night before the run against the previous 28 nights' mean (recovery_daily) (run_features).", -24, 24),
    "hrv_rmssd_low": Column("", "boolean", "Overnight RMSSD before the run below the runner's own 60-day band (recovery_daily) (run_features)."),
    "hrv_sdnn_low": Column("", "boolean", "Apple SDNN of the run's day below the runner's own 60-day band (recovery_daily) (run_features)."),
    "resting_hr_high": Column("", "boolean", "Resting HR of the run's day above the runner's own 60-day band (recovery_daily) (run_features)."),
    "fatigue_vs_usual_pts": Column("points", "float64", "The day's diary fatigue against the previous 28 days' mean (recovery_daily) (run_features).", -10, 10),
    "soreness_vs_usual_pts": Column("points", "float64", "The day's diary soreness against the previous 28 days' mean (recovery_daily) (run_features).", -10, 10),
    "sleep_quality_vs_usual_pts": Column("points", "float64", "The day's diary sleep quality against the previous 28 days' mean (recovery_daily) (run_features).", -4, 4),
    "stress_vs_usual_pts": Column("points", "float64", "The day's diary stress against the previous 28 days' mean (recovery_daily) (run_features).", -10, 10),
}
# --- store: columns the Store adds to the activity summary (owner: kneedata/store/) -----
STORE_ACTIVITIES: dict[str, Column] = {
    "name": Column("", "str", "Activity name from an export (Strava 'Activity Name'); NaN when none."),
    "gear": Column("", "str", "Gear name from an export (Strava 'Activity Gear'); NaN when none."),
    "rpe": Column("", "float64", "Perceived exertion 1-10 from an export (Strava 'Perceived Exertion').", 0, 10),
    "strava_id": Column("", "str", "Strava 'Activity ID' of the export row joined to this activity."),
    "strava_type": Column("", "str", "Strava 'Activity Type' (Run, Ride, Walk, ...)."),
    "metadata_match": Column("", "str", "How the export row was joined: file (its Filename), basename, start_time (+-2 min, distance +-3 %); NaN when none."),
    "source_files": Column("", "object", "Every file this activity was found in (kept source first, then duplicates)."),
    "n_sources": Column("", "int64", "len(source_files)."),
    "n_record_columns": Column("", "int64", "Record columns holding at least one value (richness, used to pick among duplicates)."),
    "warnings": Column("", "object", "The reader's data-quality notes for this activity (list of str)."),
}
DUPLICATES: dict[str, Column] = {
    "duplicate_of": Column("", "str", "activity_id of the kept activity for the same run."),
    "duplicate_reason": Column("", "str", "Why: start and distance differences, and which source was kept."),
}
FILES: dict[str, Column] = {
    "path": Column("", "str", "Absolute path; zip members as '<zip path>::<member>' (nested: '::' repeated)."),
    "size": Column("bytes", "int64", "File size (zip members: uncompressed size)."),
    "mtime_ns": Column("ns", "int64", "Modification time from stat (zip members: -1)."),
    "sha256": Column("", "str", "SHA-256 of the file bytes as stored (empty when never read)."),
    "status": Column("", "str", "imported, duplicate, failed or not_an_activity."),
    "activity_ids": Column("", "object", "Activities read from the file (list of str)."),
    "reason": Column("", "str", "Why the file was not imported, or its data-quality notes."),
    "kind": Column("", "str", "activity, wellness (sleep, resting HR, HRV, stress: Store.wellness), archive, strava_csv or other."),
    "container": Column("", "str", "Key of the archive holding the member; empty for files on disk."),
    "reader_version": Column("", "str", "kneedata.io.read.READER_VERSION of the reader that read the file (empty: before versions were recorded); a file read by another version is read again."),
}
IMPORT_REPORT: dict[str, Column] = {
    "path": Column("", "str", "The file (see FILES.path)."),
    "status": Column("", "str", "imported, duplicate, unchanged, failed or not_an_activity."),
    "activity_ids": Column("", "object", "Activities from the file (duplicates: the kept activity)."),
    "reason": Column("", "str", "Why not imported, or notes; empty when none."),
}

# --- wellness (owner: kneedata/io/wellness.py, io/apple_health.py, store/wellness.py) ---
#: One row per wellness measurement read from a file (the store's wellness table).
WELLNESS_ITEMS: dict[str, Column] = {
    "source": Column("", "str", "Who measured it: garmin or apple_health."),
    "origin": Column("", "str", "What file kind it came from: fit (a watch's FIT wellness file), export_json (Garmin account export) or export_xml (Apple Health export)."),
    "kind": Column("", "str", "sleep [h asleep], sleep_score, resting_hr [bpm], hrv_rmssd [ms], hrv_sdnn [ms], stress_avg [0-100], body_battery_max [0-100] or training_readiness [0-100]."),
    "start_utc": Column("", "datetime64[ns, UTC]", "Start of the period measured (sleep: first asleep moment); NaT when the file gives a day only."),
    "end_utc": Column("", "datetime64[ns, UTC]", "End of the period measured (sleep: the wake time); NaT when the file gives a day only."),
    "local_date": Column("", "str", "The runner's local date (sleep: the wake date) where the file says it (YYYY-MM-DD); empty: decided from the times and the runner's local offset."),
    "utc_offset_min": Column("min", "float64", "Local time minus UTC where the file says it; NaN when it does not.", -840, 840),
    "value": Column("", "float64", "The measurement, in the unit of its kind."),
    "weight": Column("", "float64", "Samples the value averages (stress: measured minutes); 1 for a single figure.", 0, None),
    "is_nap": Column("", "bool", "A daytime nap (Garmin napList; otherwise a sleep that is not the longest of its wake date)."),
    "source_file": Column("", "str", "The file (store key) it was read from."),
}
#: Store.wellness(): one row per local wake date.
WELLNESS: dict[str, Column] = {
    "date": Column("", "datetime64[ns]", "Local wake date, tz-naive midnight: the night before belongs to it; daily figures (resting HR, stress) to their own date."),
    "source": Column("", "str", "Source(s) of the row's values: garmin, apple_health, or both joined by '+' (each measure from one source, never averaged across)."),
    "sleep_duration_h": Column("h", "float64", "Time asleep (light + deep + REM, or Apple's asleep stages) of the main sleep ending that date; naps apart.", 0, 24),
    "sleep_score": Column("", "float64", "Garmin sleep score of that night (0-100); NaN for sources without one.", 0, 100),
    "nap_duration_h": Column("h", "float64", "Time asleep in naps that date (other sleeps than the main one).", 0, 24),
    "resting_hr_bpm": Column("bpm", "float64", "Resting heart rate of the day (Garmin's daily figure, Apple's RestingHeartRate).", 20, 150),
    "hrv_rmssd_ms": Column("ms", "float64", "Garmin overnight HRV (RMSSD-based) of the night ending that date; never converted from SDNN.", 1, 300),
    "hrv_sdnn_ms": Column("ms", "float64", "Apple Watch HRV (SDNN, mean of the day's readings); never converted from RMSSD.", 1, 300),
    "stress_avg": Column("", "float64", "Garmin all-day stress average (0-100), measured minutes only.", 0, 100),
    "body_battery_max": Column("", "float64", "Highest Garmin Body Battery of the day (0-100).", 0, 100),
    "training_readiness": Column("", "float64", "Garmin training readiness score of the day (0-100, the last one written).", 0, 100),
    "sleep_start_utc": Column("", "datetime64[ns, UTC]", "Start of the main sleep."),
    "wake_utc": Column("", "datetime64[ns, UTC]", "End of the main sleep (the wake time)."),
    "date_from": Column("", "str", "How the local date was decided: file (the file says), offset (the file's own UTC offset), activities (the runner's offset on the nearest activity) or utc (no offset known)."),
}


# --- FRAME: the analysis frame, one row per runner-day (owner: kneedata/frame.py, -----
# models/, simulate.py). Every column the frame can hold is listed here, with its
# window rule (exposures) and, for per-run metrics, its per-day rule; kneedata.frame
# takes both from here. Exposures are SAME-DAY values; the models build windows and
# lags from them. Days outside the watch span hold unknown (NaN / <NA>) exposures,
# not zeros.

#: The window rules of analysis-frame exposures (see :class:`Column` ``window``).
WINDOW_RULES = ("any", "sum", "mean", "last")
#: The per-day rules of per-run metrics in the frame (see :class:`Column` ``per_day``).
PER_DAY_RULES = ("mean", "sum", "max", "absmax", "any")

FRAME: dict[str, Column] = {
    'runner_id': Column('', 'str', 'Runner (one id per person; cohorts stack runners) (analysis_frame).'),
    'date': Column('', 'datetime64[ns]', 'Local calendar day, tz-naive midnight; every day from the first to the last day of the watch span united with the diary span (analysis_frame).'),
    'distance_km': Column('km', 'float64', "Day's running distance, from daily_load; NaN = unknown (analysis_frame).", 0, 500, window='sum'),
    'duration_min': Column('min', 'float64', "Day's running timer time, from daily_load (analysis_frame).", 0, 2000, window='sum'),
    'n_runs': Column('', 'float64', 'Runs that day (float: NaN outside the watch span) (analysis_frame).', 0, 20, window='sum'),
    'longest_run_km': Column('km', 'float64', 'Longest run that day (analysis_frame).', 0, 500, window='mean'),
    'ascent_m': Column('m', 'float64', 'Sum of run ascent that day, from the activity totals; NaN on days missing from the watch record (daily_load, analysis_frame).', 0, 20000, window='sum'),
    'descent_m': Column('m', 'float64', 'Sum of run descent that day, from the activity totals; NaN on days missing from the watch record (daily_load, analysis_frame).', 0, 20000, window='sum'),
    'trimp': Column('AU', 'float64', 'Banister TRIMP: min x HRr x 0.64 e^(1.92 HRr) (women 0.86 e^(1.67 HRr)); Morton 1990 doi:10.1152/jappl.1990.69.3.1171; NaN on days missing from the watch record (daily_load, analysis_frame).', 0, 2000, window='sum'),
    'srpe_au': Column('AU', 'float64', 'Session RPE load: RPE (0-10) x minutes; NaN if a run that day lacks RPE; Foster 2001 doi:10.1519/00124278-200102000-00019; NaN on days missing from the watch record (daily_load, analysis_frame).', 0, 20000, window='sum'),
    'acute_7d': Column('load/week', 'float64', 'Sum of the last 7 days of the load column (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'chronic_28d': Column('load/week', 'float64', 'Mean weekly load of the last 28 days, acute week included (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'chronic_prev_21d': Column('load/week', 'float64', 'Mean weekly load of days t-27..t-7 (acute week excluded) (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'acwr_coupled': Column('', 'float64', 'acute_7d / chronic_28d = 4R/(R+3); coupled ratio, Lolli 2019 doi:10.1136/bjsports-2017-098110 (load_metrics, its value on the day; analysis_frame).', 0, 10, window='last'),
    'acwr_uncoupled': Column('', 'float64', 'acute_7d / chronic_prev_21d (R) (load_metrics, its value on the day; analysis_frame).', 0, 10, window='last'),
    'ewma_acute_7d': Column('load/day', 'float64', 'EWMA of daily load, lambda = 2/(7+1) = 0.25; Williams 2017 doi:10.1136/bjsports-2016-096589 (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'ewma_chronic_28d': Column('load/day', 'float64', 'EWMA of daily load, lambda = 2/(28+1) = 0.068966 (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'acwr_ewma': Column('', 'float64', 'ewma_acute_7d / ewma_chronic_28d; Williams 2017 doi:10.1136/bjsports-2016-096589 (load_metrics, its value on the day; analysis_frame).', 0, 10, window='last'),
    'monotony_7d': Column('', 'float64', 'Foster monotony: mean / population SD of the 7 daily loads; Foster 1998 doi:10.1097/00005768-199807000-00023 (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'strain_7d': Column('load/week', 'float64', 'Foster strain: acute_7d x monotony_7d (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'ctl': Column('load/day', 'float64', 'Chronic training load (fitness), exponential time constant 42 d, starts at 0; Banister 1975 (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'atl': Column('load/day', 'float64', 'Acute training load (fatigue), exponential time constant 7 d, starts at 0 (load_metrics, its value on the day; analysis_frame).', 0, None, window='last'),
    'tsb': Column('load/day', 'float64', "Training stress balance: yesterday's ctl - atl (load_metrics, its value on the day; analysis_frame).", window='last'),
    'weekly_change_pct': Column('%', 'float64', '(acute_7d / acute_7d 7 days earlier - 1) x 100, rolling week (load_metrics, its value on the day; analysis_frame).', -100, None, window='last'),
    'weekly_change_10_30': Column('', 'boolean', "load_metrics weekly_change_cat == '10-30%' that day (Nielsen 2014) (analysis_frame).", window='last'),
    'weekly_change_gt30': Column('', 'boolean', "load_metrics weekly_change_cat == '>30%' that day (Nielsen 2014: HR 1.59) (analysis_frame).", window='last'),
    'spike_ratio_max': Column('', 'float64', "Highest session_spikes spike_ratio of the day's runs; NaN on days without a run (analysis_frame).", 0, None, window='mean', per_day='max'),
    'spike_small': Column('', 'boolean', 'A run that day was >10-30 % longer than the longest run of the previous 30 days (Frandsen 2025) (analysis_frame).', window='any', per_day='any'),
    'spike_moderate': Column('', 'boolean', 'A run that day was >30-100 % longer than the longest run of the previous 30 days (analysis_frame).', window='any', per_day='any'),
    'spike_large': Column('', 'boolean', 'A run that day was >100 % longer than the longest run of the previous 30 days; doi:10.1136/bjsports-2024-109380 (analysis_frame).', window='any', per_day='any'),
    'first_run': Column('', 'boolean', 'A run that day had no run in the previous 30 days to compare with (analysis_frame).', window='any', per_day='any'),
    'cadence_moving_spm': Column('steps/min', 'float64', "Time-weighted mean cadence over moving samples with cadence > 0; mean of the day's runs (gait_metrics, analysis_frame).", 0, 300, window='mean', per_day='mean'),
    'step_length_m': Column('m', 'float64', "Distance / steps over moving samples: sum(v dt) / sum(spm/60 dt), i.e. SL = v x 60 / spm; mean of the day's runs (gait_metrics, analysis_frame).", 0, 3, window='mean', per_day='mean'),
    'step_length_height_ratio': Column('', 'float64', "step_length_m / body height; NaN without height_m; mean of the day's runs (gait_metrics, analysis_frame).", 0, 2, window='mean', per_day='mean'),
    'step_length_leg_ratio': Column('', 'float64', "step_length_m / leg length (0.53 x height if not given); mean of the day's runs (gait_metrics, analysis_frame).", 0, 4, window='mean', per_day='mean'),
    'cadence_deviation_pct': Column('%', 'float64', "Cadence against the runner's own at the same speed (trailing 180-day line); NaN in the warm-up; mean of the day's runs (gait_metrics, analysis_frame).", -40, 40, window='mean', per_day='mean'),
    'step_length_deviation_pct': Column('%', 'float64', "Step length against the runner's own at the same speed (trailing 180-day line); mean of the day's runs (gait_metrics, analysis_frame).", -40, 70, window='mean', per_day='mean'),
    'vertical_ratio_pct': Column('%', 'float64', "Vertical oscillation / step length x 100, time-weighted; mean of the day's runs (gait_metrics, analysis_frame).", 0, 30, window='mean', per_day='mean'),
    'duty_factor': Column('', 'float64', "Ground contact time / stride time = GCT[ms] x spm / 120000; mean of the day's runs (gait_metrics, analysis_frame).", 0, 1, window='mean', per_day='mean'),
    'stance_time_ms': Column('ms', 'float64', "Ground contact time, time-weighted mean over moving samples with cadence; mean of the day's runs (gait_metrics, analysis_frame).", 0, 1000, window='mean', per_day='mean'),
    'vertical_oscillation_mm': Column('mm', 'float64', "Vertical oscillation, time-weighted mean over moving samples; mean of the day's runs (gait_metrics, analysis_frame).", 0, 300, window='mean', per_day='mean'),
    'stance_balance_asym_pct': Column('%', 'float64', "|mean stance time balance - 50|; mean of the day's runs (gait_metrics, analysis_frame).", 0, 50, window='mean', per_day='mean'),
    'cadence_drift_pct': Column('%', 'float64', "Mean cadence of the last third of moving time vs the first third, x 100 - 100; mean of the day's runs (gait_metrics, analysis_frame).", -50, 50, window='mean', per_day='mean'),
    'downhill_time_s': Column('s', 'float64', "Moving time at grade < -5 % (grade from altitude smoothed over distance); sum over the day's runs (gait_metrics, analysis_frame).", 0, 1e6, window='sum', per_day='sum'),
    'new_shoe': Column('', 'boolean', 'A run that day was in the first 100 km of a pair (shoe_usage) (analysis_frame).', window='any', per_day='any'),
    'new_model': Column('', 'boolean', 'A run that day was in the first 100 km of a model (shoe_usage) (analysis_frame).', window='any', per_day='any'),
    'shoe_km_at_run': Column('km', 'float64', "Mean km on the shoe before the day's runs (shoe_usage) (analysis_frame).", 0, 10000, window='mean', per_day='mean'),
    'shoe_age_days': Column('d', 'float64', 'Mean age of the shoes worn that day (shoe_usage) (analysis_frame).', 0, 10000, window='mean', per_day='mean'),
    'n_shoes_30d': Column('', 'float64', 'Most distinct shoes in the 30 days ending with a run that day (rotation) (analysis_frame).', 0, 50, window='last', per_day='max'),
    'drop_mm': Column('mm', 'float64', "Heel-to-toe drop of the shoe; mean of the day's runs (shoe_usage, analysis_frame).", -5, 20, window='mean', per_day='mean'),
    'drop_change_mm': Column('mm', 'float64', "Largest-magnitude drop change of the day's runs vs the previous run's shoe (analysis_frame).", -25, 25, window='mean', per_day='absmax'),
    'n_strength': Column('', 'float64', "Strength sessions that day (routines log; NaN outside the log's first..last entry) (analysis_frame).", 0, 20, window='sum'),
    'strength_min': Column('min', 'float64', 'Minutes of strength training that day (analysis_frame).', 0, 600, window='sum'),
    'n_foam_rolling': Column('', 'float64', 'Foam-rolling sessions that day (analysis_frame).', 0, 20, window='sum'),
    'foam_rolling_min': Column('min', 'float64', 'Minutes of foam rolling that day (analysis_frame).', 0, 600, window='sum'),
    'n_physio': Column('', 'float64', 'Physiotherapy sessions that day (analysis_frame).', 0, 20, window='sum'),
    'physio_min': Column('min', 'float64', 'Minutes of physiotherapy that day (analysis_frame).', 0, 600, window='sum'),
    'n_mobility': Column('', 'float64', 'Mobility sessions that day (analysis_frame).', 0, 20, window='sum'),
    'mobility_min': Column('min', 'float64', 'Minutes of mobility work that day (analysis_frame).', 0, 600, window='sum'),
    'n_other_routine': Column('', 'float64', 'Other logged routine sessions that day (analysis_frame).', 0, 20, window='sum'),
    'other_routine_min': Column('min', 'float64', 'Minutes of other routines that day (analysis_frame).', 0, 600, window='sum'),
    'sleep_duration_h': Column('h', 'float64', 'Time asleep in the main sleep of the night ending that day (Store.wellness; recovery_daily, analysis_frame).', 0, 24, window='mean'),
    'short_sleep': Column('', 'boolean', 'Under 7 h asleep the night before (recovery_daily; over a window: the share of known nights that were short) (analysis_frame).', window='mean'),
    'sleep_vs_usual_h': Column('h', 'float64', "sleep_duration_h minus its mean over the previous 28 days (7 known nights needed; the night itself excluded) (recovery_daily, analysis_frame).", -24, 24, window='mean'),
    'hrv_rmssd_low': Column('', 'boolean', "Garmin overnight HRV (RMSSD) below the runner's own band: ln RMSSD < mean - 1 SD of the previous 60 days (14 known days needed); never pooled with SDNN (recovery_daily, analysis_frame).", window='mean'),
    'hrv_sdnn_low': Column('', 'boolean', "Apple HRV (SDNN) below the runner's own band: ln SDNN < mean - 1 SD of the previous 60 days (14 known days needed); never pooled with RMSSD (recovery_daily, analysis_frame).", window='mean'),
    'resting_hr_high': Column('', 'boolean', "Resting HR above the runner's own band: > mean + 1 SD (at least 1 bpm) of the previous 60 days (14 known days needed) (recovery_daily, analysis_frame).", window='mean'),
    'sleep_quality_vs_usual_pts': Column('points', 'float64', "Diary sleep_quality_1_5 minus its mean over the previous 28 days (7 rated days needed) (recovery_daily, analysis_frame).", -4, 4, window='mean'),
    'fatigue_vs_usual_pts': Column('points', 'float64', "Diary fatigue_0_10 minus its mean over the previous 28 days (7 rated days needed) (recovery_daily, analysis_frame).", -10, 10, window='mean'),
    'soreness_vs_usual_pts': Column('points', 'float64', "Diary soreness_0_10 minus its mean over the previous 28 days (7 rated days needed) (recovery_daily, analysis_frame).", -10, 10, window='mean'),
    'stress_vs_usual_pts': Column('points', 'float64', "Diary stress_0_10 minus its mean over the previous 28 days (7 rated days needed) (recovery_daily, analysis_frame).", -10, 10, window='mean'),
    'max_pain_0_10': Column('', 'float64', 'Highest pain entry that day; NaN = no entry (0 on unlogged days of a diary declared complete) (analysis_frame).', 0, 10),
    'pain_day': Column('', 'bool', 'max_pain_0_10 >= threshold (default 3) (analysis_frame).'),
    'diary_known': Column('', 'bool', "The day's pain status is known: an entry that day, or complete=True and inside the diary span (diary_status coverage_known) (analysis_frame)."),
    'in_episode': Column('', 'bool', 'onset_date <= day <= end_date (last pain day) of an episode (analysis_frame).'),
    'episode_id': Column('', 'Int64', 'The episode the day belongs to (pain_episodes episode_id); <NA> outside episodes (analysis_frame).'),
    'onset': Column('', 'bool', 'An episode starts that day: a pain day with no pain day in the previous washout_days (analysis_frame).'),
    'at_risk': Column('', 'bool', 'A new onset could be observed that day: diary_known, no pain day in the previous washout_days days, and an onset day only if its onset_known (diary_status) (analysis_frame).'),
    'n_prior_episodes': Column('', 'int64', 'Episodes with onset before this day; the episode-number stratum of recurrent_cox (analysis_frame).', 0, None),
    'null_exposure': Column('', 'boolean', 'Simulator only: a flag with no effect on pain unless given one (simulate_runner_days).', window='any'),
    'bio_onset': Column('', 'bool', 'Simulator only: the biological onset (before a prodrome; equals onset without one) (simulate_runner_days).'),
}

def all_columns() -> dict[str, Column]:
    """Every column of every table (later tables win on a name clash)."""
    merged: dict[str, Column] = {}
    for table in TABLES.values():
        merged.update(table)
    return merged


# --- the report's statements and what the data could show (owner: kneedata/findings.py) --
# docs/findings.md: only the lead makes findings; the whole report's false findings measured.
FINDINGS: dict[str, Column] = {
    "section": Column("", "str", "Where the report says it: lead (the main analysis, or the run-response answer when it leads), sensitivity: case-crossover, sensitivity: daily model, beside the lead: run response; with wellness data or ratings also lead: recovery (in the lead's correction) and beside the lead: recovery run response (checks) (report_findings, findings.csv)."),
    "model": Column("", "str", "The model behind the row: primary_analysis, case_crossover, daily_model, run_response_model (report_findings)."),
    "term": Column("", "str", "Model term, the exposure and its window, e.g. spike_large_7d (report_findings)."),
    "exposure": Column("", "str", "Analysis-frame column the term summarises (report_findings)."),
    "direction": Column("", "str", "harmful or protective (only for a finding), unclear (estimated, not a finding), not_estimable (report_findings)."),
    "estimate": Column("", "float64", "Odds (or rate) ratio per unit of the window summary (run_response_model rows: points of next-morning pain, any sign); NaN when not estimable (report_findings)."),
    "ci_low": Column("", "float64", "Lower 95 % limit of the estimate; NaN when not estimable (report_findings)."),
    "ci_high": Column("", "float64", "Upper 95 % limit of the estimate; NaN when not estimable (report_findings)."),
    "p_adjusted": Column("", "float64", "Benjamini-Hochberg adjusted p-value within the model (report_findings).", 0, 1),
    "finding": Column("", "bool", "The report states an association in words: a lead row that is estimable with p_adjusted < 0.05 and an interval excluding 1 (0 for points); at most about 5 % of runners with no true effect get one (docs/findings.md) (report_findings)."),
    "agrees_with_lead": Column("", "boolean", "Sensitivity rows: the estimate points the same way as the lead's; <NA> without a lead estimate (report_findings)."),
    "n_episodes": Column("", "int64", "Pain episodes this row's fit used; 0 for run_response_model rows, whose scored runs are in episodes_note (report_findings).", 0, None),
    "episodes_note": Column("", "str", "Which episodes the row used and why any were left out, e.g. 'used 4 of 12 episodes: the routines log covers only ...' (report_findings)."),
    "statement": Column("", "str", "The sentence the report prints for this row (report_findings)."),
}

DETECTABLE: dict[str, Column] = {
    "exposure": Column("", "str", "Analysis-frame column (detectable_odds_ratio)."),
    "term": Column("", "str", "Term of the main analysis, e.g. spike_large_7d (detectable_odds_ratio)."),
    "direction": Column("", "str", "harmful (pain more often after the exposure) or protective (less often) (detectable_odds_ratio)."),
    "n_episodes": Column("", "int64", "This runner's episodes at risk in the main analysis (detectable_odds_ratio).", 0, None),
    "detectable_odds_ratio": Column("", "float64", "Harmful: smallest odds ratio of the grid detected with the target power (inf: none); protective: largest 1/OR (0: none) (detectable_odds_ratio).", 0, None),
    "power_at_2": Column("", "float64", "Share of simulated histories in which a twofold effect in this direction (OR 2 or 1/2) is detected (detectable_odds_ratio).", 0, 1),
    "power_at_3": Column("", "float64", "As power_at_2 for a threefold effect (OR 3 or 1/3) (detectable_odds_ratio).", 0, 1),
    "power_at_2_se": Column("", "float64", "Simulation error of power_at_2: sqrt(p (1 - p) / n_sim) (detectable_odds_ratio).", 0, 0.5),
    "power_at_3_se": Column("", "float64", "Simulation error of power_at_3 (detectable_odds_ratio).", 0, 0.5),
    "episodes_for_or_2": Column("", "int64", "Episodes needed for the target power at a twofold effect in this direction (standard errors scaled as 1/sqrt(episodes)); -1 when unknown (detectable_odds_ratio).", -1, None),
    "episodes_for_or_3": Column("", "int64", "As episodes_for_or_2 for a threefold effect (detectable_odds_ratio).", -1, None),
}


# --- the run-response model's table (model_run_response.csv) and detectable_flare (owner: kneedata/models/run_response.py)
RUN_RESPONSE_MODEL: dict[str, Column] = {
    "term": Column("", "str", "A run property (run_features column), e.g. spike_large, descent_m (run_response_model)."),
    "estimate": Column("points", "float64", "How much worse the next morning was after runs with the property (per the unit in per) than after the runner's other runs that started from the same pain; NaN when not estimable (run_response_model).", -10, 10),
    "ci_low": Column("points", "float64", "Lower end of the 95 % interval of estimate (Student t, AR(1) GLS) (run_response_model).", None, None),
    "ci_high": Column("points", "float64", "Upper end of the 95 % interval of estimate (run_response_model).", None, None),
    "p_value": Column("", "float64", "Two-sided p-value of estimate = 0 (run_response_model).", 0, 1),
    "p_adjusted": Column("", "float64", "p_value adjusted by Benjamini-Hochberg over the estimable terms (run_response_model).", 0, 1),
    "n_runs": Column("", "int64", "Scored run days the term was fitted on (before and next-morning score known; all scored run days when not estimable) (run_response_model).", 0, None),
    "estimable": Column("", "bool", "The data can estimate the term; else estimate, interval and p are NaN and status says why (run_response_model)."),
    "status": Column("", "str", "ok, too_few_runs, no_variation or collinear (run_response_model)."),
    "per": Column("", "str", "The unit of estimate: 'such run, vs your other runs' for a flag, e.g. '100 m of descent' for a number (run_response_model)."),
    "std_error": Column("points", "float64", "Standard error of estimate (run_response_model).", 0, None),
    "n_exposed": Column("", "int64", "Scored runs with the flag (a number: scored runs where it is known) (run_response_model).", 0, None),
    "why": Column("", "str", "Why a term is not estimable, in words; empty when it is (run_response_model)."),
}

DETECTABLE_FLARE: dict[str, Column] = {
    "exposure": Column("", "str", "The flag (run_response_model term) the flare follows, default spike_large (detectable_flare)."),
    "detectable_points": Column("points", "float64", "Smallest next-morning flare after such runs found with the target power (default 80 %) at the 5 % level; NaN when the diary cannot tell (detectable_flare).", 0, None),
    "std_error": Column("points", "float64", "Standard error of the flag's estimate (the fit's, or of a flag placed at random when hypothetical) (detectable_flare).", 0, None),
    "n_runs": Column("", "int64", "Scored run days of the fit (detectable_flare).", 0, None),
    "n_exposed": Column("", "int64", "Scored runs with the flag (detectable_flare).", 0, None),
    "runs_per_week": Column("", "float64", "Scored run days per week of the diary so far (detectable_flare).", 0, 14),
    "weeks_more": Column("weeks", "float64", "Further weeks of diary at that rate until the target flare (default 1 point) is detectable; 0 when it already is (detectable_flare).", 0, None),
    "basis": Column("", "str", "fit (the runner's own estimate), hypothetical (a flag placed at random on a share of the scored runs) or none (detectable_flare)."),
    "text": Column("", "str", "One sentence for the runner (detectable_flare)."),
}


# --- a runner's settings: DeriveOptions fields, CLI flags, manifest columns (owner: kneedata/pipeline.py)
# One plausible range each, checked by DeriveOptions, the CLI and read_manifest (check_option).
OPTIONS: dict[str, Column] = {
    "height_m": Column("m", "float64", "Body height for step_length_height_ratio (DeriveOptions.height_m, kneedata report --height-m, manifest height_m).", 1.0, 2.5),
    "leg_length_m": Column("m", "float64", "Leg length (greater trochanter to floor) for step_length_leg_ratio; 0.53 x height when not given (DeriveOptions.leg_length_m, --leg-length-m, manifest leg_length_m).", 0.5, 1.4),
    "hr_rest_bpm": Column("beats/min", "float64", "Resting heart rate for TRIMP; 60 assumed when not given (DeriveOptions.hr_rest_bpm, --hr-rest).", 25, 120),
    "hr_max_bpm": Column("beats/min", "float64", "Maximum heart rate for TRIMP; estimated from the runs when not given (DeriveOptions.hr_max_bpm, --hr-max).", 100, 230),
    "threshold": Column("", "float64", "Pain score that makes a pain day, default 3 (DeriveOptions.threshold, --threshold).", 0.5, 10),
    "washout_days": Column("d", "int64", "Pain-free days that end an episode and must precede an onset, default 14 (DeriveOptions.washout_days, --washout-days).", 1, 365),
}


def check_option(name: str, value: float) -> str | None:
    """What is wrong with a setting's value (its range from :data:`OPTIONS`), or ``None``.

    The text reads after the name and the value as the caller spells them
    (``height_m=180`` in Python, ``--height-m 180`` on the command line).

    Parameters
    ----------
    name
        A key of :data:`OPTIONS`.
    value
        The value given, in the unit of :data:`OPTIONS` (metres, beats/min, days).

    Returns
    -------
    str or None
        ``"is outside the plausible range 1-2.5 m (body height ...)"`` or ``None``.

    Examples
    --------
    >>> check_option("height_m", 180)
    'is outside the plausible range 1-2.5 m (body height in metres, e.g. 1.75)'
    >>> check_option("height_m", 1.8) is None
    True
    """
    col = OPTIONS[name]
    low, high = col.low if col.low is not None else -np.inf, col.high if col.high is not None else np.inf
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = np.nan
    whole = col.dtype.startswith("int")
    if low <= x <= high and (not whole or x.is_integer()):
        return None
    span = f"{_fmt(col.low)}-{_fmt(col.high)} {col.unit}".strip()
    what = f"is not a whole number in {span}" if whole else f"is outside the plausible range {span}"
    return f"{what} ({_OPTION_HINTS[name]})"


_OPTION_HINTS = {
    "height_m": "body height in metres, e.g. 1.75",
    "leg_length_m": "leg length in metres, e.g. 0.92",
    "hr_rest_bpm": "resting heart rate in beats/min, e.g. 52",
    "hr_max_bpm": "maximum heart rate in beats/min, e.g. 188",
    "threshold": "the pain score 0-10 that makes a pain day, default 3",
    "washout_days": "pain-free days between episodes, default 14",
}

TABLES: dict[str, dict[str, Column]] = {
    "records": RECORDS,
    "activities": ACTIVITIES,
    "laps": LAPS,
    "diary": DIARY,
    "diary_links": DIARY_LINKS,
    "shoes": SHOES,
    "routines": ROUTINES,
    "episodes": EPISODES,
    "daily_load": DAILY_LOAD,
    "load_metrics": LOAD_METRICS,
    "session_spikes": SESSION_SPIKES,
    "gait": GAIT,
    "shoe_usage": SHOE_USAGE,
    "shoe_summary": SHOE_SUMMARY,
    "store_activities": STORE_ACTIVITIES,
    "duplicates": DUPLICATES,
    "files": FILES,
    "import_report": IMPORT_REPORT,
    "wellness_items": WELLNESS_ITEMS,
    "wellness": WELLNESS,
    "frame": FRAME,
    "run_responses": RUN_RESPONSES,
    "weekly_pain": WEEKLY_PAIN,
    "run_features": RUN_FEATURES,
    "findings": FINDINGS,
    "detectable": DETECTABLE,
    "run_response_model": RUN_RESPONSE_MODEL,
    "detectable_flare": DETECTABLE_FLARE,
    "options": OPTIONS,
}


def empty_frame(table: dict[str, Column]) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=col.dtype) for name, col in table.items()})


def out_of_range(frame: pd.DataFrame, table: dict[str, Column]) -> dict[str, int]:
    """Count the values of each column outside the glossary's plausible range.

    Parameters
    ----------
    frame
        Any frame; only its numeric columns that ``table`` gives a range are checked.
    table
        A glossary table, e.g. :data:`FRAME`.

    Returns
    -------
    dict
        Column name -> number of values below ``low`` or above ``high`` (NaN is
        not counted); columns without such values are left out.

    Examples
    --------
    >>> out_of_range(pd.DataFrame({"max_pain_0_10": [2.0, 11.0, float("nan")]}), FRAME)
    {'max_pain_0_10': 1}
    """
    counts: dict[str, int] = {}
    for name, col in table.items():
        if name not in frame.columns or (col.low is None and col.high is None):
            continue
        series = frame[name]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(values.shape, dtype=bool)
        if col.low is not None:
            bad |= values < col.low
        if col.high is not None:
            bad |= values > col.high
        if bad.any():
            counts[name] = int(bad.sum())
    return counts


def validate_ranges(frame: pd.DataFrame, table: dict[str, Column], *, what: str) -> dict[str, int]:
    """Warn about values outside the glossary's plausible ranges (kept, not dropped).

    Parameters
    ----------
    frame, table
        As for :func:`out_of_range`.
    what
        Names the frame in the warning (e.g. ``"analysis frame"``).

    Returns
    -------
    dict
        :func:`out_of_range` of the frame; a :class:`DataQualityWarning` lists it
        when it is not empty.
    """
    counts = out_of_range(frame, table)
    if counts:
        listed = ", ".join(
            f"{name} ({n} value{'s' if n > 1 else ''} outside "
            f"{_fmt(table[name].low) or '-inf'}..{_fmt(table[name].high) or 'inf'})"
            for name, n in counts.items())
        warnings.warn(f"{what}: implausible values kept as they are: {listed}; check the "
                      "source files or the units of the logs.", DataQualityWarning,
                      stacklevel=2)
    return counts


def glossary_markdown() -> str:
    """The glossary as Markdown: one section per table, one row per column.

    ``docs/GLOSSARY.md`` is this text (``python -m kneedata.schema > docs/GLOSSARY.md``);
    a test keeps the two in step.
    """
    lines = [
        "# kneedata glossary",
        "",
        "Every column of every table kneedata reads or derives, with its unit, dtype,",
        "plausible range and source. Generated from `kneedata/schema.py`",
        "(`python -m kneedata.schema > docs/GLOSSARY.md`); do not edit by hand.",
    ]
    for table_name, table in TABLES.items():
        rules = any(col.window or col.per_day for col in table.values())
        extra = (" window | per day |", "---|---|") if rules else ("", "")
        lines += ["", f"## {table_name}", "",
                  f"| column | unit | dtype | range |{extra[0]} meaning |",
                  f"|---|---|---|---|{extra[1]}---|"]
        for name, col in table.items():
            if col.low is None and col.high is None:
                rng = ""
            else:
                rng = f"{_fmt(col.low)} – {_fmt(col.high)}"
            text = col.description.replace("|", "\\|")
            cells = f" {col.window or ''} | {col.per_day or ''} |" if rules else ""
            lines.append(f"| `{name}` | {col.unit} | {col.dtype} | {rng} |{cells} {text} |")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


if __name__ == "__main__":
    print(glossary_markdown(), end="")
