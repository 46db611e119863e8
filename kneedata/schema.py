"""The glossary: every table's columns, with unit, dtype, plausible range and meaning.

One place names each quantity. Readers map vendor fields onto these names, metrics
and models produce them, plots take axis labels (with units) from them, and the
README's glossary is generated from them. A quantity a file lacks is a NaN column,
not a missing column.

Each table is a ``dict`` of column name -> :class:`Column`. Sections are owned by the
module that produces the table (see the comment above each one).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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
        Plausible range (inclusive); values outside are flagged, not silently dropped.
    """

    unit: str
    dtype: str
    description: str
    low: float | None = None
    high: float | None = None


def label(name: str, table: dict[str, Column] | None = None) -> str:
    """Axis label with unit for a column name, e.g. ``"cadence (steps/min)"``."""
    col = (table or ALL_COLUMNS()).get(name)
    pretty = name
    for suffix in ("_spm", "_m_s", "_km", "_m", "_mm", "_ms", "_s", "_min", "_bpm",
                   "_pct", "_deg", "_w", "_c", "_0_10", "_au", "_rpm"):
        if pretty.endswith(suffix):
            pretty = pretty[: -len(suffix)]
            break
    pretty = pretty.replace("_", " ")
    if col is None or not col.unit:
        return pretty
    return f"{pretty} ({col.unit})"


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
    "moving": Column("", "bool", "Timer running and speed above the moving threshold."),
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
    "complete": Column("", "bool", "False when the file was truncated or damaged."),
    "source_file": Column("", "string", "Path of the file the activity was read from."),
    "source_format": Column("", "string", "fit, gpx or tcx."),
    "cadence_unit_source": Column("", "string", "How cadence was read: fit_strides_doubled, strides_doubled, steps_as_is, none, cycling_rpm."),
}


def ALL_COLUMNS() -> dict[str, Column]:  # noqa: N802 - reads like a constant
    """Every column of every table (later tables win on a name clash)."""
    merged: dict[str, Column] = {}
    for table in TABLES.values():
        merged.update(table)
    return merged


TABLES: dict[str, dict[str, Column]] = {
    "records": RECORDS,
    "activities": ACTIVITIES,
}


def empty_frame(table: dict[str, Column]) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=col.dtype) for name, col in table.items()})
