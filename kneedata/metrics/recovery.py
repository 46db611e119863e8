"""Recovery exposures: sleep, HRV, resting heart rate and how the runner felt, against their own past.

One row per local day, from :meth:`kneedata.Store.wellness` (sleep, resting HR,
HRV; one row per local *wake* date, so the night before a day belongs to that
day) and the optional diary ratings (``sleep_quality_1_5``, ``fatigue_0_10``,
``soreness_0_10``, ``stress_0_10``). The evidence is modest and mostly about
sleep and how a runner feels (docs/recovery.md): so sleep and ratings are
exposures on their own, HRV and resting HR only as a departure from the
runner's own band.

Every baseline uses **past days only** (days ``t - window .. t - 1``; never the
day itself or a later one) and needs a minimum of known days in its window; a day
without enough history, or without the measurement, is unknown (NaN / <NA>),
never 0 or False.

- ``short_sleep``: less than :data:`SHORT_SLEEP_H` hours asleep in the night
  ending that day (Milewski 2014, doi:10.1097/BPO.0000000000000151: under 8 h,
  1.7 times the injury risk in adolescent athletes; the cut at 7 h follows the
  adult recommendation, Watson 2015, doi:10.5665/sleep.4716).
- ``sleep_vs_usual_h`` and ``<rating>_vs_usual_pts``: the night's sleep (the
  day's rating) minus its mean over the previous :data:`USUAL_DAYS` days, which
  need :data:`MIN_USUAL_DAYS` known days.
- ``hrv_rmssd_low`` and ``hrv_sdnn_low``: the night's HRV below the runner's
  own band, mean - :data:`BAND_SD` SD of ln HRV over the previous
  :data:`BAND_DAYS` days (needs :data:`MIN_BAND_DAYS` known days; HRV is
  log-normal, so its band is on the log scale; Plews 2012,
  doi:10.1007/s00421-012-2354-4). Garmin's RMSSD and Apple's SDNN are different
  measures with bands of their own; they are never pooled.
- ``resting_hr_high``: resting HR above mean + :data:`BAND_SD` SD of the
  previous :data:`BAND_DAYS` days (same history rule; Buchheit 2014,
  doi:10.3389/fphys.2014.00073).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BAND_DAYS",
    "BAND_SD",
    "MIN_BAND_DAYS",
    "MIN_USUAL_DAYS",
    "RATINGS",
    "RECOVERY_COLUMNS",
    "SHORT_SLEEP_H",
    "USUAL_DAYS",
    "daily_ratings",
    "recovery_bands",
    "recovery_daily",
    "trailing_band",
]

#: A night with less sleep than this is short [h].
SHORT_SLEEP_H = 7.0
#: Trailing window of the sleep and rating baselines [d] ...
USUAL_DAYS = 28
#: ... and the known days it needs.
MIN_USUAL_DAYS = 7
#: Trailing window of the HRV and resting-HR bands [d] ...
BAND_DAYS = 60
#: ... the known days it needs ...
MIN_BAND_DAYS = 14
#: ... and its half-width in standard deviations.
BAND_SD = 1.0
#: Smallest standard deviation a band assumes: resting HR is written in whole
#: beats per minute [bpm]; ln HRV to about 2 % [ln ms].
MIN_SD = {"resting_hr_bpm": 1.0, "hrv_rmssd_ms": 0.02, "hrv_sdnn_ms": 0.02}

#: Diary ratings (columns of the diary) -> their deviation column in the frame.
RATINGS: dict[str, str] = {
    "sleep_quality_1_5": "sleep_quality_vs_usual_pts",
    "fatigue_0_10": "fatigue_vs_usual_pts",
    "soreness_0_10": "soreness_vs_usual_pts",
    "stress_0_10": "stress_vs_usual_pts",
}

#: The recovery family: the frame columns :func:`recovery_daily` writes.
RECOVERY_COLUMNS: tuple[str, ...] = (
    "sleep_duration_h", "short_sleep", "sleep_vs_usual_h", "hrv_rmssd_low", "hrv_sdnn_low",
    "resting_hr_high", *RATINGS.values(),
)

#: Measure -> (exposure flag, side of the band that flags, log scale?).
_BANDED = {"hrv_rmssd_ms": ("hrv_rmssd_low", "below", True),
           "hrv_sdnn_ms": ("hrv_sdnn_low", "below", True),
           "resting_hr_bpm": ("resting_hr_high", "above", False)}


def _calendar(values: pd.Series) -> pd.Series:
    """A date-indexed series on every calendar day of its span (NaN where absent)."""
    index = pd.DatetimeIndex(values.index).normalize()
    s = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float), index=index)
    s = s[np.asarray(s.index.notna())].groupby(level=0).mean()
    if s.empty:
        return s
    days = pd.date_range(s.index.min(), s.index.max(), freq="D")
    return s.reindex(days)


def trailing_band(values: pd.Series, *, window_days: int, min_days: int,
                  log: bool = False) -> pd.DataFrame:
    """Mean and SD of each day's previous ``window_days`` days (the day itself excluded).

    Parameters
    ----------
    values
        One value per local day, indexed by date (days may be missing) [any unit].
    window_days
        Days ``t - window_days .. t - 1`` make the baseline of day ``t`` [d].
    min_days
        Known days the window needs; fewer: NaN [d].
    log
        Take the natural log first (HRV) and give the band on the log scale.

    Returns
    -------
    pandas.DataFrame
        Indexed by every calendar day of the series' span: ``value`` (the day's,
        logged when ``log``), ``mean``, ``sd`` (sample SD, ddof 1) and ``n_days``
        (known days in the window).

    Examples
    --------
    >>> s = pd.Series([50.0, 52.0, 54.0], index=pd.to_datetime(
    ...     ["2024-01-01", "2024-01-02", "2024-01-03"]))
    >>> trailing_band(s, window_days=2, min_days=2)["mean"].tolist()
    [nan, nan, 51.0]
    """
    if window_days < 1 or not 1 <= min_days <= window_days:
        raise ValueError(f"trailing_band: need window_days >= 1 and 1 <= min_days <= "
                         f"window_days, got {window_days} and {min_days}.")
    s = _calendar(values)
    if log:
        s = np.log(s.where(s > 0))
    past = s.shift(1).rolling(int(window_days), min_periods=int(min_days))
    return pd.DataFrame({"value": s, "mean": past.mean(), "sd": past.std(ddof=1),
                         "n_days": s.shift(1).rolling(int(window_days), min_periods=1)
                         .count().fillna(0).astype("int64")})


def _flag(condition: pd.Series, known: pd.Series) -> pd.Series:
    """A nullable boolean: ``condition`` where ``known``, else <NA>."""
    out = pd.Series(condition.to_numpy(dtype=bool), index=condition.index, dtype="boolean")
    return out.mask(~known.to_numpy(dtype=bool))


def recovery_bands(wellness: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Each measure's own band by day: the baselines behind the recovery exposures.

    Parameters
    ----------
    wellness
        :meth:`kneedata.Store.wellness` (``date`` and the measure columns).

    Returns
    -------
    dict
        ``sleep_duration_h`` (band = usual sleep +- 1 SD over :data:`USUAL_DAYS`),
        ``hrv_rmssd_ms``, ``hrv_sdnn_ms``, ``resting_hr_bpm`` (:data:`BAND_DAYS`)
        -> frame indexed by date with ``value``, ``low``, ``high`` in the
        measure's unit (HRV bands computed on ln HRV, given back in ms) and
        ``n_days``. A measure without a value is left out.
    """
    out: dict[str, pd.DataFrame] = {}
    if wellness is None or not len(wellness) or "date" not in wellness.columns:
        return out
    by_date = wellness.set_index(pd.DatetimeIndex(wellness["date"]))
    specs = {"sleep_duration_h": (USUAL_DAYS, MIN_USUAL_DAYS, False)}
    specs.update({m: (BAND_DAYS, MIN_BAND_DAYS, log) for m, (_, _, log) in _BANDED.items()})
    for measure, (window, minimum, log) in specs.items():
        if measure not in by_date.columns or by_date[measure].notna().sum() == 0:
            continue
        band = trailing_band(by_date[measure], window_days=window, min_days=minimum, log=log)
        sd = np.maximum(band["sd"], MIN_SD.get(measure, 0.0))
        low, high = band["mean"] - BAND_SD * sd, band["mean"] + BAND_SD * sd
        back = np.exp if log else (lambda x: x)
        out[measure] = pd.DataFrame({"value": back(band["value"]), "low": back(low),
                                     "high": back(high), "n_days": band["n_days"]})
    return out


def daily_ratings(diary: pd.DataFrame | None) -> pd.DataFrame:
    """The diary's how-you-felt ratings, one row per local day (mean of the day's rated entries).

    Returns
    -------
    pandas.DataFrame
        Indexed by date; the rating columns of :data:`RATINGS` the diary holds a
        value in (none: no column). Blank is not rated (NaN), never 0.
    """
    if diary is None or "date" not in diary.columns:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    present = [c for c in RATINGS if c in diary.columns
               and pd.to_numeric(diary[c], errors="coerce").notna().any()]
    table = pd.DataFrame({c: pd.to_numeric(diary[c], errors="coerce") for c in present})
    table.index = pd.DatetimeIndex(pd.to_datetime(diary["date"], errors="coerce")).normalize()
    table = table[np.asarray(table.index.notna())]
    return table.groupby(level=0).mean().rename_axis("date")


def recovery_daily(wellness: pd.DataFrame | None, diary: pd.DataFrame | None = None, *,
                   days: Any = None) -> pd.DataFrame:
    """The recovery family of exposures, one row per local day.

    Parameters
    ----------
    wellness
        :meth:`kneedata.Store.wellness`, or ``None``.
    diary
        The pain diary (its rating columns are used), or ``None``.
    days
        Calendar days to return (a DatetimeIndex); default: every day of the
        wellness and ratings spans.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date``; columns of :data:`RECOVERY_COLUMNS` that the inputs
        allow: ``sleep_duration_h`` [h], ``short_sleep`` (boolean), and
        ``sleep_vs_usual_h`` [h] with sleep; ``hrv_rmssd_low`` with RMSSD,
        ``hrv_sdnn_low`` with SDNN, ``resting_hr_high`` with resting HR
        (boolean); ``<rating>_vs_usual_pts`` [points] for each rating the diary
        holds. <NA> / NaN where the measure or its baseline is unknown. Empty
        (no columns) when neither input holds a value.

    Notes
    -----
    ``short_sleep = sleep_duration_h < 7``; ``sleep_vs_usual_h = sleep_h(t) -
    mean(sleep_h(t-28..t-1))`` (7 known nights needed); ``hrv_*_low = ln hrv(t) <
    m - 1 s`` and ``resting_hr_high = rhr(t) > m + 1 s`` with ``m``, ``s`` the
    mean and SD of days ``t-60..t-1`` (14 known days needed; ``s`` at least
    :data:`MIN_SD`).
    """
    columns: dict[str, pd.Series] = {}
    bands = recovery_bands(wellness)
    if "sleep_duration_h" in bands:
        b = bands["sleep_duration_h"]
        columns["sleep_duration_h"] = b["value"]
        columns["short_sleep"] = _flag(b["value"] < SHORT_SLEEP_H, b["value"].notna())
        usual = trailing_band(b["value"], window_days=USUAL_DAYS, min_days=MIN_USUAL_DAYS)
        columns["sleep_vs_usual_h"] = b["value"] - usual["mean"]
    for measure, (name, side, _) in _BANDED.items():
        if measure in bands:
            b = bands[measure]
            beyond = b["value"] < b["low"] if side == "below" else b["value"] > b["high"]
            columns[name] = _flag(beyond, b["value"].notna() & b["low"].notna())
    ratings = daily_ratings(diary)
    for rating in ratings.columns:
        usual = trailing_band(ratings[rating], window_days=USUAL_DAYS, min_days=MIN_USUAL_DAYS)
        columns[RATINGS[rating]] = usual["value"] - usual["mean"]
    ordered = {c: columns[c] for c in RECOVERY_COLUMNS if c in columns}
    out = pd.DataFrame(ordered)
    if days is not None:
        out = out.reindex(pd.DatetimeIndex(days))
    out.index = pd.DatetimeIndex(out.index).as_unit("ns").rename("date")
    flags = {"short_sleep", *(name for name, _, _ in _BANDED.values())}
    for c in out.columns:
        out[c] = out[c].astype("boolean" if c in flags else "float64")
    return out
