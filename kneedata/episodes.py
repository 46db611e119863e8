"""Pain days, pain episodes and the day-by-day diary status used by the models.

Definitions (``threshold`` = 3, ``washout_days`` = 14 by default; docs/design.md section 5):

*Pain day*
    A local day whose highest ``pain_0_10`` entry is ``>= threshold``. Several
    entries on one day are combined: pain = their maximum, side = the union of
    the sides of the entries at or above the threshold (left + right = both).
*Known pain-free day*
    ``complete=False`` (default): a day with at least one entry and every entry
    below the threshold. Days without an entry are unknown, not pain-free (no
    tolerance: an entry vouches for its own day only). ``complete=True``: every
    day from the first to the last diary entry that is not a pain day.
*Episode*
    Pain days closer than ``washout_days + 1`` days form one episode: a pain day
    is an *onset* when no pain day lies in the ``washout_days`` days before it
    (gap to the previous pain day > ``washout_days``). ``end_date`` is the last
    pain day of the episode; the episode is over once ``washout_days`` days have
    passed without pain. Episodes are built from recorded pain days only, so an
    unknown stretch never merges or splits episodes by itself; what it changes is
    whether the table can *vouch* for an end or an onset:
*end_known*
    True when a known pain-free day ``t`` exists with
    ``end_date + washout_days <= t < next onset`` (no next onset: up to the end of
    the diary). I.e. the runner recorded being pain-free once the washout had
    elapsed, and no pain in between. With ``complete=True`` this is simply
    "the diary runs on for ``washout_days`` days after ``end_date``".
*onset_known*
    For the first episode: a known pain-free day exists before the onset (the
    diary did not start in pain). For later episodes: the previous episode's
    ``end_known``. False means the "onset" might continue an earlier episode whose
    end went unrecorded (or began before the diary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kneedata import schema
from kneedata.errors import SchemaError

__all__ = ["diary_status", "pain_days", "pain_episodes"]

_SIDE_BITS = {"left": 1, "right": 2, "both": 3}
_BITS_SIDE = {1: "left", 2: "right", 3: "both"}
_DAY = np.timedelta64(1, "D")


def _check_options(threshold: float, washout_days: int) -> None:
    """The ranges of :data:`kneedata.schema.OPTIONS` (as DeriveOptions and the CLI check them)."""
    from kneedata.schema import check_option

    for name, value in (("threshold", threshold), ("washout_days", washout_days)):
        problem = check_option(name, value)
        if problem:
            raise ValueError(f"{name}={value!r} {problem}.")


def _entries(diary: pd.DataFrame) -> pd.DataFrame:
    """date (normalised datetime64[ns]), pain_0_10 (float), side (str/NaN)."""
    missing = [c for c in ("date", "pain_0_10") if c not in diary.columns]
    if missing:
        raise SchemaError(f"The diary lacks the column(s) {', '.join(missing)}; found: "
                          f"{', '.join(map(str, diary.columns))}. Read it with "
                          "kneedata.read_pain_diary.")
    dates = pd.to_datetime(diary["date"].astype(object).where(diary["date"].notna(),
                                                              None))
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        raise SchemaError("The diary's date column is timezone-aware; it must hold "
                          "local calendar days (tz-naive).")
    pain = pd.to_numeric(diary["pain_0_10"], errors="coerce").astype("float64")
    side = (diary["side"] if "side" in diary.columns
            else pd.Series(np.nan, index=diary.index)).astype(object)
    bad_date = dates.isna().to_numpy()
    bad_pain = (pain.isna() | (pain < 0) | (pain > 10)).to_numpy()
    bad_side = (side.notna() & ~side.isin(list(_SIDE_BITS))).to_numpy()
    problems: list[str] = []
    line = diary["source_line"] if "source_line" in diary.columns else None
    for pos in map(int, np.flatnonzero(bad_date | bad_pain | bad_side)):
        where = (f"line {line.iloc[pos]}" if line is not None
                 else f"row {diary.index[pos]!r}")
        if bad_date[pos]:
            problems.append(f"diary {where}: date is missing")
        if bad_pain[pos]:
            problems.append(f"diary {where}: pain_0_10 "
                            f"'{diary['pain_0_10'].iloc[pos]}' is not a score 0–10")
        if bad_side[pos]:
            problems.append(f"diary {where}: side '{side.iloc[pos]}' is not left, "
                            "right or both")
    if problems:
        raise SchemaError(f"The diary has {len(problems)} bad value(s):\n"
                          + "\n".join(f"  - {p}" for p in problems), problems)
    return pd.DataFrame({"date": dates.dt.normalize().astype("datetime64[ns]").to_numpy(),
                         "pain_0_10": pain.to_numpy(), "side": side.to_numpy()})


def _side_union(sides: pd.Series, by: pd.Series | np.ndarray) -> pd.Series:
    """Union of sides per group (left + right = both; NaN when no side is known)."""
    bits = sides.map(_SIDE_BITS).fillna(0).astype("int64").to_numpy()
    frame = pd.DataFrame({"by": np.asarray(by), "left": (bits & 1) > 0,
                          "right": (bits & 2) > 0})
    anyof = frame.groupby("by", sort=True)[["left", "right"]].any()
    code = anyof["left"].astype("int64") + 2 * anyof["right"].astype("int64")
    return code.map(_BITS_SIDE).astype("str")


def _daily(entries: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per day with entries: pain_0_10 (max), n_entries, side (union at >= threshold)."""
    grouped = entries.groupby("date", sort=True)
    out = pd.DataFrame({"pain_0_10": grouped["pain_0_10"].max(),
                        "n_entries": grouped.size().astype("int64")})
    painful = entries[entries["pain_0_10"] >= threshold]
    side = _side_union(painful["side"], painful["date"])
    out["side"] = side.reindex(out.index).astype("str")
    out.index = pd.DatetimeIndex(out.index, name="date")
    return out


def pain_days(diary: pd.DataFrame, *, threshold: float = 3) -> pd.DataFrame:
    """The days with pain at or above ``threshold``.

    Parameters
    ----------
    diary
        As from :func:`kneedata.read_pain_diary` (``date``, ``pain_0_10``, ``side``).
    threshold
        Pain score that makes a pain day [0-10 scale].

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date`` (DatetimeIndex of local days, sorted): ``pain_0_10``
        (highest entry that day), ``n_entries`` (all entries that day), ``side``
        (union over the entries at or above the threshold; NaN if none gave one).
    """
    _check_options(threshold, 1)
    daily = _daily(_entries(diary), threshold)
    return daily[daily["pain_0_10"] >= threshold]


def _episodes(daily: pd.DataFrame, threshold: float, washout_days: int,
              complete: bool) -> pd.DataFrame:
    pain = daily[daily["pain_0_10"] >= threshold]
    if pain.empty:
        return schema.empty_frame(schema.EPISODES)
    days = pain.index.to_numpy()
    gap = np.diff(days) / _DAY
    number = np.concatenate([[1], 1 + np.cumsum(gap > washout_days)]).astype("int64")
    onsets = days[np.r_[True, gap > washout_days]]
    ends = days[np.r_[gap > washout_days, True]]
    first, last = daily.index[0].to_datetime64(), daily.index[-1].to_datetime64()
    if complete:
        def known_free(lo: np.datetime64, hi: np.datetime64) -> bool:
            # every day in [first, last] that is not a pain day is pain-free, and
            # [lo, hi] never contains a pain day by construction
            return bool(max(lo, first) <= min(hi, last))
    else:
        free = daily.index[daily["pain_0_10"] < threshold].to_numpy()

        def known_free(lo: np.datetime64, hi: np.datetime64) -> bool:
            i = np.searchsorted(free, lo, side="left")
            return bool(i < len(free) and free[i] <= hi)

    n = len(onsets)
    far_future = last + _DAY
    end_known = np.array([
        known_free(ends[k] + washout_days * _DAY,
                   (onsets[k + 1] - _DAY) if k + 1 < n else far_future)
        for k in range(n)], dtype=bool)
    onset_known = np.r_[known_free(first - _DAY, onsets[0] - _DAY), end_known[:-1]]
    by_episode = pain.assign(episode=number).groupby("episode")
    return pd.DataFrame({
        "episode_id": np.arange(1, n + 1, dtype="int64"),
        "onset_date": pd.Series(onsets, dtype="datetime64[ns]"),
        "end_date": pd.Series(ends, dtype="datetime64[ns]"),
        "side": pd.Series(_side_union(pain["side"], number).to_numpy(), dtype="str"),
        "peak_pain_0_10": by_episode["pain_0_10"].max().to_numpy(dtype="float64"),
        "n_pain_days": by_episode.size().to_numpy(dtype="int64"),
        "end_known": end_known,
        "onset_known": onset_known.astype(bool),
    })


def pain_episodes(diary: pd.DataFrame, *, threshold: float = 3, washout_days: int = 14,
                  complete: bool = False) -> pd.DataFrame:
    """Group pain days into episodes.

    Parameters
    ----------
    diary
        As from :func:`kneedata.read_pain_diary`; only ``date``, ``pain_0_10`` and
        (optional) ``side`` are used. Several entries per day are combined.
    threshold
        A day is a pain day when its highest entry is ``>= threshold`` [0-10].
    washout_days
        Pain-free days that separate two episodes [days].
    complete
        True declares that every day between the first and last entry without an
        entry was pain-free. False (default): such days are unknown.

    Returns
    -------
    pandas.DataFrame
        One row per episode in order of onset (columns of
        :data:`kneedata.schema.EPISODES`): ``episode_id`` (1, 2, ...),
        ``onset_date``, ``end_date`` (first and last pain day, datetime64[ns] local
        days), ``side`` (left/right/both: union over its pain days), ``peak_pain_0_10``,
        ``n_pain_days``, ``end_known``, ``onset_known``.

    Notes
    -----
    With pain days :math:`p_1 < p_2 < \\dots`, :math:`p_j` starts a new episode iff
    :math:`p_j - p_{j-1} > w` (``w = washout_days``): exactly ``w`` pain-free days
    between two pain days (gap ``w + 1``) close the episode; ``w - 1`` do not.
    ``end_known`` is true iff a known pain-free day :math:`t` exists with
    :math:`\\text{end} + w \\le t < \\text{next onset}`; ``onset_known`` of the
    first episode iff a known pain-free day precedes its onset, of a later one
    iff the previous episode's ``end_known``. "Known pain-free" is defined in the
    module docstring (``complete=False``: a day with entries, all below the
    threshold; ``complete=True``: any non-pain day between the first and last
    entry).

    Examples
    --------
    >>> diary = pd.DataFrame({"date": pd.to_datetime(["2024-05-01", "2024-05-03",
    ...     "2024-05-20", "2024-06-10"]), "side": ["left", "right", None, "left"],
    ...     "pain_0_10": [4.0, 3.0, 0.0, 5.0]})
    >>> pain_episodes(diary)[["onset_date", "end_date", "side", "end_known"]]
      onset_date   end_date  side  end_known
    0 2024-05-01 2024-05-03  both       True
    1 2024-06-10 2024-06-10  left      False
    """
    _check_options(threshold, washout_days)
    entries = _entries(diary)
    if entries.empty:
        return schema.empty_frame(schema.EPISODES)
    return _episodes(_daily(entries, threshold), threshold, int(washout_days), complete)


def diary_status(diary: pd.DataFrame, *, threshold: float = 3, washout_days: int = 14,
                 complete: bool = False, start: str | pd.Timestamp | None = None,
                 end: str | pd.Timestamp | None = None,
                 episodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every local day with what the diary says about it (for the models).

    Parameters
    ----------
    diary
        As from :func:`kneedata.read_pain_diary`.
    threshold, washout_days, complete
        As in :func:`pain_episodes` (episodes are always computed on the whole
        diary, so ids agree with :func:`pain_episodes` whatever ``start``/``end``).
    start, end
        First and last day of the index (anything :func:`pandas.Timestamp` takes);
        default the first and last diary entry.
    episodes
        :func:`pain_episodes` of this diary with the same options, when already
        computed (not recomputed then).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date`` (DatetimeIndex, tz-naive local days, freq D):

        - ``pain_0_10``: highest entry that day, NaN without an entry [0-10];
        - ``n_entries`` (int64), ``has_entry`` (bool);
        - ``side``: side of the pain that day (pain days only, else NaN);
        - ``pain_day``: ``pain_0_10 >= threshold``;
        - ``episode_id`` (Int64, <NA> outside episodes), ``in_episode``:
          ``onset_date <= day <= end_date`` of an episode;
        - ``onset``: the day is an episode's onset;
        - ``coverage_known``: the day's pain status is known. ``complete=True``:
          every day from the first to the last diary entry (days outside that
          span, when ``start``/``end`` reach beyond it, are False).
          ``complete=False``: exactly the days with an entry (no tolerance);
        - ``at_risk``: the day could be observed as a (known) new onset:
          ``coverage_known``, no pain day in the ``washout_days`` days before it,
          and, if it is a pain day (an onset), that episode's ``onset_known``.
          Days inside an episode after its onset, and the ``washout_days`` days
          after each pain day, are never at risk.

    Notes
    -----
    A model of "onset on day d" should use the days with ``at_risk`` and take
    ``onset & at_risk`` as the event. Under ``complete=False`` a pain-free entry is
    at risk whenever no pain was recorded in the washout before it; an onset is at
    risk only if the diary vouches that the runner was free of earlier episodes
    (``onset_known``).
    """
    _check_options(threshold, washout_days)
    washout_days = int(washout_days)
    entries = _entries(diary)
    daily = _daily(entries, threshold) if not entries.empty else None
    lo = pd.Timestamp(start).normalize() if start is not None else (
        daily.index[0] if daily is not None else None)
    hi = pd.Timestamp(end).normalize() if end is not None else (
        daily.index[-1] if daily is not None else None)
    columns = ["pain_0_10", "n_entries", "has_entry", "side", "pain_day", "episode_id",
               "in_episode", "onset", "coverage_known", "at_risk"]
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"end ({hi:%Y-%m-%d}) is before start ({lo:%Y-%m-%d}).")
    if lo is None or hi is None:
        index = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]", freq="D")
    else:
        index = pd.date_range(lo, hi, freq="D", name="date", unit="ns")
    out = pd.DataFrame(index=index)
    if daily is None:
        daily = pd.DataFrame({"pain_0_10": pd.Series(dtype="float64"),
                              "n_entries": pd.Series(dtype="int64"),
                              "side": pd.Series(dtype="str")},
                             index=pd.DatetimeIndex([], name="date"))
    out["pain_0_10"] = daily["pain_0_10"].reindex(index)
    out["n_entries"] = daily["n_entries"].reindex(index).fillna(0).astype("int64")
    out["has_entry"] = out["n_entries"] > 0
    out["pain_day"] = out["pain_0_10"] >= threshold
    out["side"] = daily["side"].reindex(index).where(out["pain_day"]).astype("str")
    if episodes is None:
        episodes = (_episodes(daily, threshold, washout_days, complete) if len(daily)
                    else schema.empty_frame(schema.EPISODES))
    day_values = index.to_numpy()
    ids = np.zeros(len(index), dtype="int64")
    onset = np.zeros(len(index), dtype=bool)
    onset_ok = np.zeros(len(index), dtype=bool)
    for eid, first_day, last_day, known in zip(
            episodes["episode_id"].to_numpy(), episodes["onset_date"].to_numpy(),
            episodes["end_date"].to_numpy(), episodes["onset_known"].to_numpy(),
            strict=True):
        ids[(day_values >= first_day) & (day_values <= last_day)] = eid
        onset |= day_values == first_day
        onset_ok |= (day_values == first_day) & bool(known)
    episode_id = pd.Series(ids, index=index).where(ids > 0).astype("Int64")
    out["episode_id"] = episode_id
    out["in_episode"] = episode_id.notna().to_numpy()
    out["onset"] = onset
    if complete and len(daily):
        coverage = (index >= daily.index[0]) & (index <= daily.index[-1])
    else:
        coverage = out["has_entry"].to_numpy()
    out["coverage_known"] = np.asarray(coverage, dtype=bool)
    # pain in the previous washout_days days (uses every pain day of the diary,
    # also those before `start`)
    pain_dates = daily.index[daily["pain_0_10"] >= threshold].to_numpy()
    before = np.searchsorted(pain_dates, day_values, side="left")  # pain days < d
    recent = np.zeros(len(index), dtype=bool)
    has_prev = before > 0
    prev = pain_dates[np.maximum(before - 1, 0)] if len(pain_dates) else day_values
    recent[has_prev] = (day_values[has_prev] - prev[has_prev]) <= washout_days * _DAY
    out["at_risk"] = (out["coverage_known"].to_numpy() & ~recent
                      & (~out["pain_day"].to_numpy() | onset_ok))
    return out[columns]
