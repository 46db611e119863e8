"""Per-run cadence, step length and speed-matched form from the records.

A watch cannot see where the foot lands, so nothing here measures overstriding
(the foot landing ahead of the centre of mass: that needs video). What the
evidence links to knee load is cadence and step length *at a given speed*
(Heiderscheit 2011; Lenhart 2014; Willson 2014): ``cadence_deviation_pct`` and
``step_length_deviation_pct`` compare each run with the runner's own cadence-speed
line of the previous 180 days (:mod:`kneedata.metrics.baseline`). Running dynamics
(vertical ratio, ground contact time, duty factor) are descriptive. Column names,
units and sources are listed in :data:`kneedata.schema.GAIT`.

The work is vectorised over all samples of many runs at once (runs are processed in
chunks of about 50,000 samples to bound memory), so thousands of
runs take seconds; reading the records from the store usually dominates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import SchemaError
from kneedata.metrics.baseline import (
    BASELINE_DAYS,
    MIN_BASELINE_RUNS,
    fit_cadence_line,
    trailing_cadence_baseline,
)
from kneedata.runs import RUN_KINDS, runs_in_order
from kneedata.schema import GAIT

__all__ = ["gait_metrics", "usual_cadence", "usual_cadence_curve", "LEG_LENGTH_PER_HEIGHT"]

#: Leg length (greater trochanter to floor) as a fraction of body height when the
#: leg length is not given (Winter, Biomechanics and Motor Control of Human
#: Movement, anthropometric table: 0.530 H).
LEG_LENGTH_PER_HEIGHT = 0.53

#: Longest interval a sample stands for [s]; longer gaps are pauses or dropouts.
MAX_SAMPLE_INTERVAL_S = 15.0
#: Half-width of the distance window that smooths altitude and sets the grade [m].
GRADE_HALF_WINDOW_M = 25.0
#: Downhill threshold: grade below this fraction.
DOWNHILL_GRADE = -0.05
#: Steady flat samples for the speed-matched cadence: |grade| below this fraction ...
FLAT_GRADE = 0.02
#: ... speed coefficient of variation below this over +-15 s (wider at sparse sampling) ...
STEADY_SPEED_CV = 0.05
STEADY_HALF_WINDOW_S = 15.0
#: ... and running, not walking (nor a cadence glitch).
RUNNING_MIN_SPEED_M_S = 1.8
RUNNING_MIN_CADENCE_SPM = 130.0
RUNNING_MAX_CADENCE_SPM = 250.0
#: A run's speed-matched figures come from its steady flat stretches when it has
#: this much of them [s] ...
MIN_STEADY_FLAT_S = 60.0
#: ... else from all its running samples (run-level fallback) when it has this much
#: running time [s].
MIN_RUNNING_S = 120.0
#: Cadence drift needs this much cadence time in the run [s].
MIN_DRIFT_TIME_S = 180.0

_CHUNK_SAMPLES = 50_000
_RECORD_COLUMNS = (
    "distance_m",
    "speed_m_s",
    "cadence_spm",
    "altitude_m",
    "step_length_m",
    "stance_time_ms",
    "stance_time_balance_pct",
    "vertical_oscillation_mm",
    "vertical_ratio_pct",
)


def _run_arrays(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """The numpy arrays one run contributes (time in s from the run's first sample)."""
    n = len(records)
    out: dict[str, np.ndarray] = {}
    if n == 0:
        out["t"] = np.zeros(0)
        for name in _RECORD_COLUMNS:
            out[name] = np.zeros(0)
        out["moving"] = np.zeros(0, dtype=bool)
        return out
    index = records.index
    if isinstance(index, pd.DatetimeIndex):
        ns = index.as_unit("ns").asi8
        t = (ns - ns[0]) / 1e9
    elif "timestamp" in records.columns:
        stamps = pd.DatetimeIndex(pd.to_datetime(records["timestamp"], utc=True))
        ns = stamps.as_unit("ns").asi8
        t = (ns - ns[0]) / 1e9
    else:
        raise SchemaError(
            "records: need a DatetimeIndex named 'timestamp' (or a 'timestamp' column); "
            f"found index {type(index).__name__}. Pass Store.records(activity_id)."
        )
    names = list(records.columns)
    position = {name: j for j, name in enumerate(names)}
    try:  # fast path: one conversion of the whole frame (bool moving -> 0/1)
        block = records.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # text columns: convert what is needed
        wanted = [c for c in (*_RECORD_COLUMNS, "moving", "timer_running") if c in position]
        position = {name: j for j, name in enumerate(wanted)}
        block = np.column_stack(
            [pd.to_numeric(records[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
             for c in wanted]
        ) if wanted else np.zeros((n, 0))
    columns = {name: block[:, j] for name, j in position.items()}
    return _arrays_from_columns(np.asarray(t, dtype=float), columns)


def _arrays_from_columns(t: np.ndarray, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A run's arrays from its time [s from the first sample] and float columns (0/1 for bools).

    ``columns`` holds the columns the run's records have (others are missing).
    """
    n = len(t)
    out: dict[str, np.ndarray] = {"t": t}
    for name in _RECORD_COLUMNS:
        out[name] = columns[name] if name in columns else np.full(n, np.nan)
    speed, dist = out["speed_m_s"], out["distance_m"]
    if not np.isfinite(speed).any() and np.isfinite(dist).any():
        # speed from distance (e.g. GPX without speed): backward difference
        d = pd.Series(dist).ffill().to_numpy()
        dt = np.diff(t, prepend=np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["speed_m_s"] = np.where(dt > 0, np.diff(d, prepend=np.nan) / dt, np.nan)
    if not np.isfinite(out["speed_m_s"]).any():
        # no speed at all (a treadmill without a foot pod): moving = stepping with the
        # timer running; cadence and dynamics only, no pace-based figures
        timer = (columns["timer_running"] == 1.0 if "timer_running" in columns
                 else np.ones(n, dtype=bool))
        moving = timer & (np.nan_to_num(out["cadence_spm"], nan=0.0) > 0)
    elif "moving" in columns:
        moving = columns["moving"] == 1.0
    else:
        moving = np.nan_to_num(out["speed_m_s"], nan=0.0) > 0.5
    out["moving"] = moving
    return out


def _wmean(values, weights, mask, code, n_runs):
    """Per-run weighted mean of ``values`` over ``mask`` (NaN where no weight)."""
    w = np.where(mask, weights, 0.0)
    num = np.bincount(code, weights=np.where(mask, values * weights, 0.0), minlength=n_runs)
    den = np.bincount(code, weights=w, minlength=n_runs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den, den


def _window_sum(cumsum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return cumsum[hi] - cumsum[lo]


def _concat(runs: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """The samples of a chunk of runs end to end, with run codes and sample weights.

    ``dt`` is the interval a sample stands for: the interval since the previous
    sample, or to the next one for a run's first sample and after a gap (pause,
    dropout), capped at :data:`MAX_SAMPLE_INTERVAL_S`.
    """
    n_runs = len(runs)
    sizes = np.array([len(r["t"]) for r in runs], dtype=np.int64)
    c: dict[str, Any] = {k: np.concatenate([r[k] for r in runs]) for k in runs[0]}
    c["n_runs"], c["sizes"] = n_runs, sizes
    c["code"] = np.repeat(np.arange(n_runs), sizes)
    c["starts"] = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first = np.zeros(len(c["t"]), dtype=bool)
    first[c["starts"][sizes > 0]] = True
    c["first"] = first
    back = np.diff(c["t"], prepend=np.nan)
    back[first] = np.nan
    fwd = np.append(back[1:], np.nan)
    c["gap"] = np.fmax(back, fwd)  # the longer interval next to each sample [s]
    dt = np.where(first | (back > MAX_SAMPLE_INTERVAL_S), fwd, back)
    c["dt"] = np.clip(np.nan_to_num(dt, nan=0.0), 0.0, MAX_SAMPLE_INTERVAL_S)
    v, cad, moving = c["speed_m_s"], c["cadence_spm"], c["moving"]
    c["spd_ok"] = moving & np.isfinite(v) & (v > 0)
    c["cad_ok"] = moving & np.isfinite(cad) & (cad > 0) & (cad < 300)
    c["both"] = c["spd_ok"] & c["cad_ok"]
    return c


def _bins(c: dict[str, Any], weights: np.ndarray) -> np.ndarray:
    return np.bincount(c["code"], weights=weights, minlength=c["n_runs"])


def _mean(c: dict[str, Any], values: np.ndarray, mask: np.ndarray,
          weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-run weighted (default: time-weighted) mean of ``values`` over ``mask``."""
    return _wmean(values, c["dt"] if weights is None else weights, mask, c["code"], c["n_runs"])


def _cadence_and_steps(c: dict[str, Any]) -> dict[str, np.ndarray]:
    """Moving time, mean cadence and speed, and step length per run."""
    v, cad, dt, both = c["speed_m_s"], c["cadence_spm"], c["dt"], c["both"]
    res: dict[str, np.ndarray] = {}
    res["moving_time_s"] = _bins(c, np.where(c["moving"], dt, 0.0))
    res["cadence_moving_spm"], res["_cad_time"] = _mean(c, cad, c["cad_ok"])
    res["speed_moving_m_s"], res["_spd_time"] = _mean(c, v, c["spd_ok"])
    steps = np.where(both, cad / 60.0 * dt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        res["step_length_m"] = _bins(c, np.where(both, v * dt, 0.0)) / _bins(c, steps)
    wsl = c["step_length_m"]
    c["wsl_ok"] = both & np.isfinite(wsl) & (wsl > 0)
    res["watch_step_length_m"], _ = _mean(c, wsl, c["wsl_ok"], steps)
    return res


def _dynamics(c: dict[str, Any]) -> dict[str, np.ndarray]:
    """Vertical ratio, duty factor, contact time, oscillation and balance per run."""
    v, cad, moving = c["speed_m_s"], c["cadence_spm"], c["moving"]
    res: dict[str, np.ndarray] = {}
    # vertical ratio: the watch's value, else VO / step length (watch SL, else v*60/spm)
    with np.errstate(invalid="ignore", divide="ignore"):
        sl_ref = np.where(c["wsl_ok"], c["step_length_m"], v * 60.0 / cad)
        vr_calc = c["vertical_oscillation_mm"] / (sl_ref * 1000.0) * 100.0
    watch_vr = c["vertical_ratio_pct"]
    vr = np.where(np.isfinite(watch_vr) & (watch_vr > 0), watch_vr, vr_calc)
    res["vertical_ratio_pct"], vr_time = _mean(c, vr, moving & np.isfinite(vr) & (vr > 0))
    gct = c["stance_time_ms"]
    gct_ok = c["cad_ok"] & np.isfinite(gct) & (gct > 0)
    res["duty_factor"], gct_time = _mean(c, gct * cad / 120000.0, gct_ok)
    res["stance_time_ms"], _ = _mean(c, gct, gct_ok)
    vo = c["vertical_oscillation_mm"]
    res["vertical_oscillation_mm"], _ = _mean(c, vo, moving & np.isfinite(vo) & (vo > 0))
    bal = c["stance_time_balance_pct"]
    bal_mean, bal_time = _mean(c, bal, moving & np.isfinite(bal) & (bal > 0) & (bal < 100))
    res["stance_balance_asym_pct"] = np.abs(bal_mean - 50.0)
    res["_dynamics"] = (gct_time > 0) | (vr_time > 0)
    res["_balance"] = bal_time > 0
    return res


def _drift(c: dict[str, Any], cad_time: np.ndarray) -> np.ndarray:
    """Cadence of the last third of the run's cadence time vs the first third [%]."""
    cad, cad_ok, code = c["cadence_spm"], c["cad_ok"], c["code"]
    cad_dt = np.where(cad_ok, c["dt"], 0.0)
    cum = np.cumsum(cad_dt)
    run_start_cum = np.concatenate([[0.0], np.cumsum(_bins(c, cad_dt))[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (cum - run_start_cum[code]) / cad_time[code]
    c1, _ = _mean(c, cad, cad_ok & (frac <= 1.0 / 3.0))
    c3, _ = _mean(c, cad, cad_ok & (frac > 2.0 / 3.0))
    drift = (c3 / c1 - 1.0) * 100.0
    drift[~(cad_time >= MIN_DRIFT_TIME_S)] = np.nan
    return drift


def _distance_key(c: dict[str, Any]) -> np.ndarray:
    """Distance along each run, non-decreasing, runs kept apart by an offset [m]."""
    dist, v, code, first = c["distance_m"], c["speed_m_s"], c["code"], c["first"]
    if not np.isfinite(dist).all():
        # fill from integrated speed where the device distance is absent
        integ = np.cumsum(np.where(np.isfinite(v) & ~first, v * c["dt"], 0.0))
        integ = integ - integ[np.minimum(c["starts"], max(len(integ) - 1, 0))][code]
        run_has_dist = _bins(c, np.isfinite(dist).astype(float)) > 0
        dist = np.where(run_has_dist[code], dist, integ)
    offset = np.arange(c["n_runs"], dtype=float)[code] * 1e8
    key = np.fmax.accumulate(dist + offset) if len(dist) else dist
    return np.fmax(np.nan_to_num(key, nan=-np.inf), offset)


def _grade(c: dict[str, Any]) -> dict[str, np.ndarray]:
    """Grade of each sample, descent and downhill time per run.

    The altitude is averaged over +-h metres and differenced over the same
    window, ``h = max(25 m, 1.5 x the distance to the farther neighbour sample)``,
    so that 10 s and smart (sparse) recording still see a few samples per window.
    """
    key = _distance_key(c)
    step = np.fmax(np.diff(key, prepend=np.nan), np.append(np.diff(key), np.nan))
    step[~np.isfinite(step) | (step > 1e7)] = 0.0
    half = np.maximum(GRADE_HALF_WINDOW_M, 1.5 * step)
    alt = c["altitude_m"]
    alt_ok = np.isfinite(alt)
    lo = np.searchsorted(key, key - half, side="left")
    hi = np.searchsorted(key, key + half, side="right")
    cs_alt = np.concatenate([[0.0], np.cumsum(np.where(alt_ok, alt, 0.0))])
    cs_n = np.concatenate([[0.0], np.cumsum(alt_ok.astype(float))])
    with np.errstate(invalid="ignore", divide="ignore"):
        alt_s = _window_sum(cs_alt, lo, hi) / _window_sum(cs_n, lo, hi)
    j1, j2 = lo, hi - 1
    run_dist = key[j2] - key[j1]
    with np.errstate(invalid="ignore", divide="ignore"):
        grade = (alt_s[j2] - alt_s[j1]) / run_dist
    grade[~(run_dist >= 0.8 * half)] = np.nan
    d_alt = np.diff(alt_s, prepend=np.nan)
    d_alt[c["first"]] = np.nan
    drop = np.where(np.isfinite(d_alt) & (d_alt < 0), -d_alt, 0.0)
    alt_runs = _bins(c, alt_ok.astype(float)) > 1
    descent = _bins(c, drop)
    downhill = _bins(c, np.where(c["moving"] & (grade < DOWNHILL_GRADE), c["dt"], 0.0))
    descent[~alt_runs] = np.nan
    downhill[~alt_runs] = np.nan
    return {"descent_m": descent, "downhill_time_s": downhill, "_grade": grade,
            "_altitude": alt_runs}


def _steady_flat(c: dict[str, Any], grade: np.ndarray) -> np.ndarray:
    """Samples of steady (speed CV < 5 %), flat, running (not walking) stretches.

    The speed window is +-``max(15 s, 2.5 x the longer interval next to the
    sample)``: 1 s recording keeps +-15 s, 10 s recording looks +-25 s (5-6
    samples), smart recording adapts sample by sample.
    """
    v, both = c["speed_m_s"], c["both"]
    half = np.maximum(STEADY_HALF_WINDOW_S, 2.5 * np.nan_to_num(c["gap"], nan=0.0))
    half = np.minimum(half, 2.5 * MAX_SAMPLE_INTERVAL_S)
    tkey = c["t"] + np.arange(c["n_runs"], dtype=float)[c["code"]] * 1e7
    tlo = np.searchsorted(tkey, tkey - half, side="left")
    thi = np.searchsorted(tkey, tkey + half, side="right")
    vv = np.where(both, v, 0.0)
    cs_v = np.concatenate([[0.0], np.cumsum(vv)])
    cs_v2 = np.concatenate([[0.0], np.cumsum(vv * vv)])
    cs_b = np.concatenate([[0.0], np.cumsum(both.astype(float))])
    nb = _window_sum(cs_b, tlo, thi)
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = _window_sum(cs_v, tlo, thi) / nb
        var = np.maximum(_window_sum(cs_v2, tlo, thi) / nb - mv * mv, 0.0)
        cv = np.sqrt(var) / mv
    return (both & (nb >= 3) & (cv < STEADY_SPEED_CV) & (np.abs(grade) < FLAT_GRADE)
            & _running(c))


def _running(c: dict[str, Any]) -> np.ndarray:
    """Samples with speed and cadence of running, not walking."""
    v, cad = c["speed_m_s"], c["cadence_spm"]
    return (c["both"] & (v >= RUNNING_MIN_SPEED_M_S) & (cad >= RUNNING_MIN_CADENCE_SPM)
            & (cad <= RUNNING_MAX_CADENCE_SPM))


def _form_point(c: dict[str, Any], grade: np.ndarray) -> dict[str, np.ndarray]:
    """Each run's speed and cadence for the speed-matched comparison, and its basis.

    Steady flat stretches when the run has at least :data:`MIN_STEADY_FLAT_S` of
    them; otherwise all running samples (the run-level fallback) when it has at
    least :data:`MIN_RUNNING_S` of those.
    """
    v, cad = c["speed_m_s"], c["cadence_spm"]
    steady = _steady_flat(c, grade)
    running = _running(c)
    v_sf, t_sf = _mean(c, v, steady)
    c_sf, _ = _mean(c, cad, steady)
    v_run, t_run = _mean(c, v, running)
    c_run, _ = _mean(c, cad, running)
    use_steady = t_sf >= MIN_STEADY_FLAT_S
    use_run = ~use_steady & (t_run >= MIN_RUNNING_S)
    basis = np.where(use_steady, "steady", np.where(use_run, "whole_run", ""))
    return {
        "steady_flat_time_s": t_sf,
        "form_speed_m_s": np.where(use_steady, v_sf, np.where(use_run, v_run, np.nan)),
        "form_cadence_spm": np.where(use_steady, c_sf, np.where(use_run, c_run, np.nan)),
        "_basis": basis,
        "_running_time": t_run,
    }


def _chunk(runs: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per-run aggregates of a chunk of runs (one array per column, one value per run)."""
    c = _concat(runs)
    res: dict[str, Any] = _cadence_and_steps(c)
    res.update(_dynamics(c))
    res["cadence_drift_pct"] = _drift(c, res["_cad_time"])
    res.update(_grade(c))
    res.update(_form_point(c, res.pop("_grade")))
    res["_flags"] = {
        "n_samples": c["sizes"],
        "moving": res["moving_time_s"] > 0,
        "speed": res.pop("_spd_time") > 0,
        "cadence": res.pop("_cad_time") > 0,
        "dynamics": res.pop("_dynamics"),
        "balance": res.pop("_balance"),
        "watch_sl": np.isfinite(res["watch_step_length_m"]),
        "altitude": res.pop("_altitude"),
        "running_time": res.pop("_running_time"),
    }
    return res


def usual_cadence(line: Mapping[str, Any]) -> Callable[[np.ndarray], np.ndarray] | None:
    """The runner's own speed-cadence line from ``gait_metrics(...).attrs['cadence_speed_line']``.

    Parameters
    ----------
    line
        The line dictionary (``intercept_spm`` [steps/min], ``slope_spm_per_m_s``
        [steps/min per m/s]).

    Returns
    -------
    callable or None
        ``speed_m_s -> cadence_spm``, or ``None`` when too few runs gave a line.

    Examples
    --------
    >>> line = usual_cadence({"intercept_spm": 130.0, "slope_spm_per_m_s": 10.0})
    >>> float(line(np.array([3.0]))[0])
    160.0
    """
    a = float(line.get("intercept_spm", math.nan))
    b = float(line.get("slope_spm_per_m_s", math.nan))
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    return lambda speed_m_s: a + b * np.asarray(speed_m_s, dtype=float)


def usual_cadence_curve(line: Mapping[str, Any], *, n: int = 50) -> pd.DataFrame | None:
    """The line as points over the speeds the runner ran in its window only.

    Returns a frame ``speed_m_s``, ``cadence_spm`` from ``speed_min_m_s`` to
    ``speed_max_m_s`` of the line (None without a line), for
    :func:`kneedata.plots.cadence_speed` ``curve=``: the line is never drawn over
    speeds the runner did not run.
    """
    f = usual_cadence(line)
    lo = float(line.get("speed_min_m_s", math.nan))
    hi = float(line.get("speed_max_m_s", math.nan))
    if f is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    speed = np.linspace(lo, hi, n)
    return pd.DataFrame({"speed_m_s": speed, "cadence_spm": f(speed)})


#: Record columns gait reads (a store scans only these).
SCAN_COLUMNS = (*_RECORD_COLUMNS, "moving", "timer_running")


def _scanned_runs(records: Mapping[str, pd.DataFrame], ids: list[str]
                  ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """``(position in ids, run arrays)`` of every run: by one scan of a store's records
    (``records.scan``, e.g. :meth:`kneedata.Store.records_map`) in storage order, else
    frame by frame in the order of ``ids``."""
    scan = getattr(records, "scan", None)
    if scan is None or len(set(ids)) != len(ids):
        for i, activity_id in enumerate(ids):
            yield i, _run_arrays(records[activity_id])
        return
    position = {aid: i for i, aid in enumerate(ids)}
    for activity_id, columns in scan(ids, SCAN_COLUMNS):
        if isinstance(columns, pd.DataFrame):  # a run the store keeps as a frame
            yield position[activity_id], _run_arrays(columns)
            continue
        ns = columns.pop("timestamp_ns")
        t = (ns - ns[0]) / 1e9 if len(ns) else np.zeros(0)
        yield position[activity_id], _arrays_from_columns(np.asarray(t, dtype=float), columns)


def _read_in_chunks(
    records: Mapping[str, pd.DataFrame], ids: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-run columns and flags (in the order of ``ids``), reading the runs chunk by chunk."""
    parts: list[dict[str, Any]] = []
    order: list[int] = []
    buffer: list[dict[str, np.ndarray]] = []
    buffered = 0
    for i, arrays in _scanned_runs(records, ids):
        order.append(i)
        buffer.append(arrays)
        buffered += len(arrays["t"])
        if buffered >= _CHUNK_SAMPLES:
            parts.append(_chunk(buffer))
            buffer, buffered = [], 0
    if buffer:
        parts.append(_chunk(buffer))
    if not parts:
        return {}, {}
    if sorted(order) != list(range(len(ids))):
        raise KeyError(f"records: the scan did not give every run once ({len(order)} of {len(ids)})")
    back = np.argsort(np.asarray(order))  # storage order -> the order of ids
    flags = {k: np.concatenate([p["_flags"][k] for p in parts])[back] for k in parts[0]["_flags"]}
    columns = {k: np.concatenate([p[k] for p in parts])[back] for k in parts[0] if k != "_flags"}
    return columns, flags


def gait_metrics(
    records: Mapping[str, pd.DataFrame],
    activities: pd.DataFrame,
    *,
    height_m: float | None = None,
    leg_length_m: float | None = None,
    include: Iterable[str] | str | None = RUN_KINDS,
    baseline_days: int = BASELINE_DAYS,
    min_baseline_runs: int = MIN_BASELINE_RUNS,
) -> pd.DataFrame:
    """Cadence, step length and speed-matched form figures per run, from moving samples.

    Parameters
    ----------
    records
        Per-run records (:data:`kneedata.schema.RECORDS`) by ``activity_id``: a dict,
        or :meth:`kneedata.Store.records_map` (read lazily, one run at a time).
        Only the selected runs are looked up.
    activities
        One row per activity (``activity_id``, ``sport``, ``local_date``, optional
        ``start_time_utc``), as from :meth:`kneedata.Store.activities`. All runs
        are assumed to be one runner's.
    height_m
        Body height [m], for ``step_length_height_ratio`` and the leg-length estimate.
    leg_length_m
        Leg length [m]; default ``0.53 * height_m``.
    include
        Kinds of run (:func:`kneedata.select_runs`; default road, trail, track,
        treadmill, virtual); ``None`` takes all activities. A treadmill run
        without speed gets cadence but no speed-matched figures.
    baseline_days
        Trailing window of the runner's own cadence-speed line [d] (default 180).
    min_baseline_runs
        Warm-up: runs needed in that window before a run gets a deviation.

    Returns
    -------
    pandas.DataFrame
        One row per run in chronological order, columns of
        :data:`kneedata.schema.GAIT`. ``attrs['cadence_speed_line']`` holds the
        line of the last ``baseline_days`` days (``intercept_spm``,
        ``slope_spm_per_m_s``, ``speed_min_m_s``, ``speed_max_m_s``, ``n_runs``,
        ``from_date``, ``to_date``) for figures.

    Notes
    -----
    Samples: ``moving`` samples only; each stands for the interval since the
    previous sample (the interval to the next one for the first sample and after a
    gap; capped at 15 s). Means are time-weighted.

    - ``step_length_m = sum(v dt) / sum(spm / 60 dt)``: distance over steps, i.e. the
      step-weighted mean of ``SL = v * 60 / spm``.
    - ``cadence_drift_pct = (mean cadence in the last third of cadence time /
      first third - 1) * 100`` (NaN for less than 3 minutes).
    - Grade: altitude averaged over +-25 m of distance (wider where samples are
      farther apart), differenced over the same window; ``descent_m`` sums the
      drops of the smoothed altitude; ``downhill_time_s`` is moving time at
      grade < -5 %.
    - Speed-matched form: each run's ``form_speed_m_s`` and ``form_cadence_spm``
      are time-weighted means over its steady flat running samples (speed CV < 5 %
      over +-15 s, wider at sparse sampling; ``|grade| < 2 %``; >= 1.8 m/s;
      130-250 steps/min) when it has >= 60 s of them (``form_basis`` "steady"),
      else over all its running samples when it has >= 120 s ("whole_run": hills
      and pace changes included). ``cadence_deviation_pct`` and
      ``step_length_deviation_pct`` compare them with the runner's own line of the
      previous ``baseline_days`` days (:func:`kneedata.metrics.baseline.
      trailing_cadence_baseline`); negative cadence deviation = fewer, longer steps
      than usual at that speed.
    - Descriptive only (sensor-dependent, no evidence linking them to knee pain):
      ``vertical_ratio_pct = VO / SL * 100`` (the watch's value when recorded),
      ``duty_factor = GCT[ms] * spm / 120000`` (contact time over stride time),
      ``stance_time_ms``, ``vertical_oscillation_mm``,
      ``stance_balance_asym_pct = |mean(balance) - 50|``.

    None of these sees where the foot lands: true overstriding (foot ahead of the
    centre of mass at contact) needs video. Step length and cadence at matched
    speed are the proxies the evidence uses.

    References
    ----------
    Heiderscheit BC et al. (2011). Effects of step rate manipulation on joint
    mechanics during running. Med Sci Sports Exerc 43:296-302.
    doi:10.1249/MSS.0b013e3181ebedf4
    Lenhart RL et al. (2014). Increasing running step rate reduces patellofemoral
    joint forces. Med Sci Sports Exerc 46:557-564. doi:10.1249/MSS.0b013e3182a78c3a
    Willson JD et al. (2014). Effects of step length on patellofemoral joint stress
    in female runners with and without patellofemoral pain. Clin Biomech
    29:243-247. doi:10.1016/j.clinbiomech.2013.12.016
    """
    from kneedata.schema import check_option

    for name, value in (("height_m", height_m), ("leg_length_m", leg_length_m)):
        problem = None if value is None else check_option(name, value)
        if problem:
            raise ValueError(f"{name}={value} {problem}.")
    order = runs_in_order(activities, include=include)
    meta = activities.loc[order.index]
    if len(meta) and "activity_id" not in meta:
        raise SchemaError("activities: no 'activity_id' column; it is needed to look up the records.")
    ids = meta["activity_id"].astype("str").to_list() if "activity_id" in meta else []
    columns, flag = _read_in_chunks(records, ids)
    n = len(ids)
    leg = leg_length_m if leg_length_m is not None else (
        LEG_LENGTH_PER_HEIGHT * height_m if height_m is not None else None
    )
    sl = columns.get("step_length_m", np.zeros(0))
    columns["step_length_height_ratio"] = sl / height_m if height_m is not None else np.full(n, np.nan)
    columns["step_length_leg_ratio"] = sl / leg if leg is not None else np.full(n, np.nan)
    dates = order["_date"].to_numpy()
    points = pd.DataFrame({"date": dates, "speed_m_s": columns.get("form_speed_m_s", np.zeros(0)),
                           "cadence_spm": columns.get("form_cadence_spm", np.zeros(0))})
    base = trailing_cadence_baseline(points, window_days=baseline_days, min_runs=min_baseline_runs)
    for name in ("baseline_cadence_spm", "n_baseline_runs", "cadence_deviation_pct",
                 "step_length_deviation_pct"):
        columns[name] = base[name].to_numpy()
    basis = columns.pop("_basis", np.zeros(0, dtype=str))
    out = pd.DataFrame({
        "activity_id": pd.Series(ids, dtype="str"),
        "date": dates,
        **{name: columns[name] for name in GAIT if name in columns},
        "form_basis": pd.Series([b or None for b in basis], dtype="str"),
        "gait_missing_reason": pd.Series(_reasons(flag, columns, base["baseline_note"], n),
                                         dtype="str"),
    })
    out = out[list(GAIT)].astype({k: c.dtype for k, c in GAIT.items()})
    out.attrs["cadence_speed_line"] = _current_line(points, baseline_days)
    out.attrs["height_m"] = height_m
    out.attrs["baseline_days"] = baseline_days
    out.attrs["min_baseline_runs"] = min_baseline_runs
    out.attrs["leg_length_m"] = leg
    out.attrs["leg_length_source"] = (
        "given" if leg_length_m is not None else
        f"{LEG_LENGTH_PER_HEIGHT} x height" if height_m is not None else "unknown"
    )
    return out


def _current_line(points: pd.DataFrame, window_days: int) -> dict[str, Any]:
    """The runner's line over the last ``window_days`` days of runs (for figures)."""
    dates = pd.to_datetime(points["date"])
    ok = np.isfinite(points["speed_m_s"].to_numpy(float)) & np.isfinite(
        points["cadence_spm"].to_numpy(float))
    if not ok.any():
        return fit_cadence_line(np.zeros(0), np.zeros(0)) | {"window_days": window_days}
    last = dates[ok].max()
    inside = ok & (dates > last - pd.Timedelta(days=window_days)).to_numpy()
    line: dict[str, Any] = fit_cadence_line(points.loc[inside, "speed_m_s"].to_numpy(float),
                                            points.loc[inside, "cadence_spm"].to_numpy(float))
    line.update(window_days=window_days, from_date=dates[inside].min(), to_date=last)
    return line


def _reasons(flag: dict[str, np.ndarray], columns: dict[str, np.ndarray],
             baseline_note: pd.Series, n: int) -> list[Any]:
    """One ``'; '``-joined string per run naming what was missing (None if nothing)."""
    if n == 0:
        return []
    has_point = np.isfinite(columns["form_speed_m_s"])
    checks = [
        (flag["n_samples"] == 0, "no records"),
        ((flag["n_samples"] > 0) & ~flag["moving"], "no moving samples"),
        (flag["moving"] & ~flag["speed"], "no speed"),
        (flag["moving"] & ~flag["cadence"], "no cadence"),
        (flag["moving"] & ~flag["dynamics"], "no running dynamics"),
        (flag["moving"] & flag["dynamics"] & ~flag["balance"], "no stance balance"),
        (flag["moving"] & ~flag["altitude"], "no altitude"),
        (flag["cadence"] & flag["speed"] & ~has_point,
         f"under {MIN_RUNNING_S:.0f} s of running (>= {RUNNING_MIN_SPEED_M_S} m/s, "
         f">= {RUNNING_MIN_CADENCE_SPM:.0f} steps/min)"),
    ]
    notes = baseline_note.to_numpy(dtype=object)
    out: list[Any] = []
    for i in range(n):
        texts = [text for mask, text in checks if mask[i]]
        if has_point[i] and notes[i] is not None:
            texts.append(str(notes[i]))
        out.append("; ".join(texts) if texts else None)
    return out
