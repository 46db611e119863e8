"""Shoe exposure per run (km and age of the pair, new pairs and models, rotation,
drop changes) and a per-shoe summary with pain-episode rates.

Pure functions; inputs are never modified. Column names, units and sources are in
:data:`kneedata.schema.SHOE_USAGE` and :data:`kneedata.schema.SHOE_SUMMARY`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from kneedata._dates import local_days
from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.metrics.load import float_column
from kneedata.runs import RUN_KINDS, runs_in_order
from kneedata.schema import SHOE_SUMMARY, SHOE_USAGE

__all__ = ["shoe_summary", "shoe_usage", "NEW_KM"]

#: A pair (or model) counts as new for its first 100 km.
NEW_KM = 100.0
#: Rotation window: distinct shoes worn in the 30 days ending with a run.
ROTATION_DAYS = 30


def _shoe_table(shoes: pd.DataFrame) -> pd.DataFrame:
    """The shoes table with the columns this module uses, one row per shoe_id."""
    if "shoe_id" not in shoes.columns:
        raise SchemaError(
            f"shoes: no 'shoe_id' column; found {list(shoes.columns)}. Use read_shoes() "
            "or a table with columns shoe_id,name,brand,model,drop_mm,stack_mm,"
            "first_used,retired,initial_km,default_for."
        )
    ids = shoes["shoe_id"].astype("str")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(
            f"shoes: shoe_id {sorted(set(dup))} appears more than once; give every pair "
            "its own id (e.g. 'pegasus40-a', 'pegasus40-b')."
        )
    table = pd.DataFrame(index=pd.Index(ids.to_numpy(), name="shoe_id"))
    for name in ("name", "brand", "model"):
        table[name] = (
            shoes[name].astype("str").to_numpy() if name in shoes.columns else pd.NA
        )
        table[name] = table[name].astype("str")
    for name in ("drop_mm", "initial_km"):
        table[name] = float_column(shoes, name)
    table["initial_km"] = table["initial_km"].fillna(0.0)
    for name in ("first_used", "retired"):
        if name in shoes.columns:
            table[name] = local_days(shoes[name], errors="coerce")
        else:
            table[name] = pd.NaT
    table[["first_used", "retired"]] = table[["first_used", "retired"]].astype("datetime64[ns]")
    return table


def _model_key(table: pd.DataFrame) -> pd.Series:
    brand = table["brand"].fillna("").str.strip().str.lower()
    model = table["model"].fillna("").str.strip().str.lower()
    key = brand + "|" + model
    no_model = model.eq("") | model.isin(["nan", "none"])
    return key.where(~no_model, "id:" + table.index.to_series())


def _assigned(runs: pd.DataFrame, shoes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """shoe_id and shoe_source per run (given column, else kneedata.gear.assign_shoes)."""
    if "shoe_id" in runs.columns:
        assigned, default_source = runs, "given"
    else:
        from kneedata.gear import assign_shoes

        assigned, default_source = assign_shoes(runs, shoes), "gear"
        if len(assigned) != len(runs):
            raise SchemaError(
                f"assign_shoes returned {len(assigned)} rows for {len(runs)} runs; "
                "it must return one row per activity."
            )
    shoe = assigned["shoe_id"].astype("str")
    source: Any = (assigned["shoe_source"].astype("str") if "shoe_source" in assigned.columns
                   else np.where(shoe.notna(), default_source, "unassigned"))
    return shoe.to_numpy(dtype=object), np.asarray(source, dtype=object)


def _masked(values: np.ndarray, known: np.ndarray) -> pd.arrays.BooleanArray:
    """Nullable booleans: NA where not ``known``."""
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), ~np.asarray(known, dtype=bool))


def shoe_usage(
    activities: pd.DataFrame,
    shoes: pd.DataFrame,
    *,
    include: Iterable[str] | str | None = RUN_KINDS,
) -> pd.DataFrame:
    """Shoe exposure at each run: km and age of the pair, new pairs and models,
    rotation and drop changes.

    Parameters
    ----------
    activities
        One row per activity (``Store.activities()``): ``activity_id``,
        ``local_date``, ``sport``, ``distance_m`` [m], optional ``start_time_utc``
        and ``shoe_id`` (+ ``shoe_source``). Without ``shoe_id`` the runs are
        assigned with :func:`kneedata.assign_shoes`.
    shoes
        Shoes table (:func:`kneedata.read_shoes`): ``shoe_id``, ``brand``, ``model``,
        ``drop_mm`` [mm], ``first_used``, ``initial_km`` [km], ...
    include
        Kinds of run (:func:`kneedata.select_runs`); ``None`` takes all activities.

    Returns
    -------
    pandas.DataFrame
        One row per run in chronological order, columns of
        :data:`kneedata.schema.SHOE_USAGE`.

    Notes
    -----
    Runs are ordered by local date, then start time. For run *i* in shoe *s*:

    - ``shoe_km_at_run = initial_km(s) + sum(km of earlier runs in s)``;
      ``new_shoe = shoe_km_at_run < 100``.
    - ``shoe_age_days`` = days from ``first_used(s)`` (else the first run in *s*).
    - ``model_km_at_run`` = km of earlier runs in any pair of the same brand and
      model, plus the ``initial_km`` of those pairs already in use;
      ``new_model = model_km_at_run < 100`` (a model new to this runner).
      Shoes without a model name are their own model.
    - ``n_shoes_30d`` = distinct shoes on runs from day d-29 up to and including
      this run (unassigned runs do not count).
    - ``drop_change_mm = drop(s_i) - drop(s_(i-1))`` against the previous run.

    Runs with unknown distance add 0 km. Shoe ids missing from ``shoes`` are kept
    (initial 0 km, unknown drop) with a :class:`DataQualityWarning`.

    References
    ----------
    Malisoux L et al. (2015). Can parallel use of different running shoes decrease
    running-related injury risk? Scand J Med Sci Sports 25:110-115.
    doi:10.1111/sms.12154
    Malisoux L et al. (2020). Influence of the heel-to-toe drop of standard cushioned
    running shoes on injury risk in leisure-time runners. Am J Sports Med
    48:473-480. doi:10.1177/0363546519892578
    """
    if "activity_id" not in activities.columns:
        raise SchemaError(
            f"activities: no 'activity_id' column; found {list(activities.columns)}. "
            "Pass the frame from Store.activities()."
        )
    table = _shoe_table(shoes)
    order = runs_in_order(activities, include=include)
    runs = activities.loc[order.index]
    n = len(runs)
    dates = order["_date"].to_numpy()
    dist = np.nan_to_num(float_column(runs, "distance_m") / 1000.0, nan=0.0)
    shoe, source = _assigned(runs, shoes) if n else (np.array([], object), np.array([], object))
    shoe = np.array([None if pd.isna(s) else str(s) for s in shoe], dtype=object)
    assigned = np.array([s is not None for s in shoe], dtype=bool)

    unknown = sorted({s for s in shoe[assigned] if s not in table.index})
    if unknown:
        warnings.warn(
            f"shoe_usage: {len(unknown)} shoe id(s) used by runs are not in the shoes "
            f"table ({unknown[:5]}); counted from 0 km with unknown drop. Add them to "
            "shoes.csv.",
            DataQualityWarning,
            stacklevel=2,
        )
        extra = pd.DataFrame(index=pd.Index(unknown, name="shoe_id"))
        table = pd.concat([table, extra.assign(initial_km=0.0)])
        table["initial_km"] = table["initial_km"].fillna(0.0)
    model = _model_key(table)

    km_at = np.full(n, np.nan)
    age = np.full(n, np.nan)
    model_km = np.full(n, np.nan)
    drop = np.full(n, np.nan)
    n_30d = np.zeros(n, dtype=np.int64)
    run_model = np.array([model.get(s) if s is not None else None for s in shoe], dtype=object)
    position = np.arange(n)
    window_start = dates - np.timedelta64(ROTATION_DAYS - 1, "D")
    starts: dict[str, np.datetime64] = {}
    n_before_first_used = 0
    for s in sorted(set(shoe[assigned])):
        sel = shoe == s
        pos = position[sel]
        km_at[sel] = table.at[s, "initial_km"] + np.cumsum(dist[sel]) - dist[sel]
        first_run = dates[pos[0]]
        first_used: Any = table.at[s, "first_used"]
        start = first_run if pd.isna(first_used) else pd.Timestamp(first_used).to_datetime64()
        if start > first_run:
            n_before_first_used += int(np.sum(dates[pos] < start))
            start = first_run
        starts[s] = start
        age[sel] = (dates[pos] - start) / np.timedelta64(1, "D")
        drop[sel] = table.at[s, "drop_mm"]
        # rotation: does shoe s have a run at or before i, within the window?
        last = np.searchsorted(pos, position, side="right") - 1
        has = last >= 0
        last_date = dates[pos[np.maximum(last, 0)]]
        n_30d += (has & (last_date >= window_start)).astype(np.int64)

    for m in sorted({m for m in run_model if m is not None}):
        sel = run_model == m
        earlier = np.cumsum(dist[sel]) - dist[sel]
        initial = np.zeros(int(sel.sum()))
        for s in model.index[model.to_numpy() == m]:
            if s in starts:
                initial += table.at[s, "initial_km"] * (dates[sel] >= starts[s])
        model_km[sel] = earlier + initial

    if n_before_first_used:
        warnings.warn(
            f"shoe_usage: {n_before_first_used} runs are dated before their shoe's "
            "first_used; shoe age is counted from the shoe's first run instead. Check "
            "first_used in shoes.csv or the shoe assignment.",
            DataQualityWarning,
            stacklevel=2,
        )
    prev_drop = np.concatenate([[np.nan], drop[:-1]]) if n else drop
    out = pd.DataFrame(
        {
            "activity_id": runs["activity_id"].astype("str").to_numpy(),
            "date": dates,
            "distance_km": float_column(runs, "distance_m") / 1000.0,
            "shoe_id": pd.array(shoe, dtype="str"),
            "shoe_source": pd.array(
                np.where(assigned, source, "unassigned") if n else source, dtype="str"
            ),
            "shoe_km_at_run": km_at,
            "shoe_age_days": age,
            "new_shoe": _masked(km_at < NEW_KM, assigned),
            "model_km_at_run": model_km,
            "new_model": _masked(model_km < NEW_KM, assigned),
            "n_shoes_30d": n_30d,
            "drop_mm": drop,
            "drop_change_mm": drop - prev_drop,
        }
    )
    return out[list(SHOE_USAGE)].astype({k: c.dtype for k, c in SHOE_USAGE.items()})


def poisson_rate_ci(
    events: np.ndarray, exposure: np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence limits of a Poisson rate ``events / exposure``.

    Notes
    -----
    ``low = chi2.ppf(a/2, 2k) / 2 / E`` (0 for k = 0) and
    ``high = chi2.ppf(1 - a/2, 2k + 2) / 2 / E`` with ``a = 1 - level``.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika
    28:437-442. doi:10.1093/biomet/28.3-4.437
    """
    from scipy.stats import chi2

    k = np.asarray(events, dtype=float)
    e = np.asarray(exposure, dtype=float)
    alpha = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, chi2.ppf(alpha / 2, 2 * k) / 2, 0.0) / e
        high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2 / e
    bad = ~(e > 0) | ~np.isfinite(k)
    low[bad] = np.nan
    high[bad] = np.nan
    return low, high


def shoe_summary(
    activities: pd.DataFrame,
    shoes: pd.DataFrame,
    *,
    episodes: pd.DataFrame | None = None,
    attribution_days: int = 7,
    include: Iterable[str] | str | None = RUN_KINDS,
) -> pd.DataFrame:
    """Per shoe: km, runs, first and last use and, with episodes, pain episodes per 100 km.

    Parameters
    ----------
    activities, shoes, include
        As for :func:`shoe_usage`.
    episodes
        Pain episodes (:func:`kneedata.pain_episodes`) with ``onset_date``. Each
        onset is attributed to the shoe of the last run on or before the onset day
        and at most ``attribution_days`` days before it; other onsets are counted
        in ``attrs['n_episodes_unattributed']``.
    attribution_days
        Longest gap between that run and the onset [days].

    Returns
    -------
    pandas.DataFrame
        One row per shoe (every shoe of the table, plus unknown ids that runs
        use), columns of :data:`kneedata.schema.SHOE_SUMMARY`; the episode columns
        are NaN without ``episodes``.

    Notes
    -----
    ``episodes_per_100km = k / (km / 100)`` with ``km`` the distance run in the
    shoe in the data, with exact Poisson 95 % limits (:func:`poisson_rate_ci`).
    These are crude associations: a shoe worn in heavy training weeks, on trails,
    or when a runner was already sore collects more episodes for reasons that are
    not the shoe.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika
    28:437-442. doi:10.1093/biomet/28.3-4.437
    """
    if attribution_days < 0:
        raise ValueError(f"attribution_days={attribution_days} must be >= 0.")
    usage = shoe_usage(activities, shoes, include=include)
    table = _shoe_table(shoes)
    used = usage.loc[usage["shoe_id"].notna()]
    grouped = used.groupby("shoe_id", sort=False)
    stats = pd.DataFrame(
        {
            "n_runs": grouped.size(),
            "distance_km": grouped["distance_km"].sum(min_count=0),
            "first_run": grouped["date"].min(),
            "last_used": grouped["date"].max(),
        }
    )
    ids = list(table.index) + [s for s in stats.index if s not in table.index]
    out = pd.DataFrame(index=pd.Index(ids, name="shoe_id"))
    out = out.join(table).join(stats)
    out["n_runs"] = out["n_runs"].fillna(0).astype("int64")
    out["distance_km"] = out["distance_km"].fillna(0.0)
    out["total_km"] = out["initial_km"].fillna(0.0) + out["distance_km"]
    out["first_used"] = out["first_used"].fillna(out["first_run"])

    n_unattributed = 0
    if episodes is not None:
        if "onset_date" not in episodes.columns:
            raise SchemaError(
                f"episodes: no 'onset_date' column; found {list(episodes.columns)}. "
                "Pass the frame from pain_episodes()."
            )
        onset = local_days(episodes["onset_date"]).to_numpy()
        known = used.sort_values("date", kind="stable")
        run_dates = known["date"].to_numpy("datetime64[ns]")
        last = np.searchsorted(run_dates, onset, side="right") - 1
        ok = (last >= 0) & ~pd.isna(onset)
        ok[ok] &= (onset[ok] - run_dates[last[ok]]) <= np.timedelta64(attribution_days, "D")
        shoe_of = known["shoe_id"].to_numpy(dtype=object)[last[ok]]
        counts = pd.Series(shoe_of, dtype=object).value_counts()
        n_unattributed = int((~ok).sum())
        out["n_episodes"] = counts.reindex(out.index).fillna(0).astype(float)
        exposure = out["distance_km"].to_numpy() / 100.0
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = out["n_episodes"].to_numpy() / exposure
        rate[~(exposure > 0)] = np.nan
        low, high = poisson_rate_ci(out["n_episodes"].to_numpy(), exposure)
        out["episodes_per_100km"] = rate
        out["episodes_per_100km_low"] = low
        out["episodes_per_100km_high"] = high
    else:
        for name in ("n_episodes", "episodes_per_100km", "episodes_per_100km_low",
                     "episodes_per_100km_high"):
            out[name] = np.nan
    out = out.reset_index()
    out = out[list(SHOE_SUMMARY)].astype({k: c.dtype for k, c in SHOE_SUMMARY.items()})
    out.attrs["n_episodes_unattributed"] = n_unattributed
    out.attrs["attribution_days"] = attribution_days
    return out
