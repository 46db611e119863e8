"""Per-run cadence, step length and overstride proxies from the records.

A watch cannot see where the foot lands; every column here is a *proxy* for
overstriding or knee loading, computed from speed, cadence, altitude and (where the
watch records them) running dynamics. Column names, units and sources are listed in
:data:`kneedata.schema.GAIT`.

The work is vectorised over all samples of many runs at once (runs are processed in
chunks of about 50,000 samples to bound memory), so thousands of
runs take seconds; reading the records from the store usually dominates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kneedata.errors import SchemaError
from kneedata.metrics.load import _runs_in_order
from kneedata.schema import GAIT

__all__ = ["gait_metrics", "LEG_LENGTH_PER_HEIGHT"]

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
#: Steady flat samples for the overstride fit: |grade| below this fraction ...
FLAT_GRADE = 0.02
#: ... speed coefficient of variation below this over +-15 s ...
STEADY_SPEED_CV = 0.05
STEADY_HALF_WINDOW_S = 15.0
#: ... and running, not walking.
RUNNING_MIN_SPEED_M_S = 1.8
RUNNING_MIN_CADENCE_SPM = 130.0
#: A run needs this much steady flat time for its overstride residual [s].
MIN_STEADY_FLAT_S = 60.0
#: The overstride index needs this many runs with steady flat time.
MIN_FIT_RUNS = 3
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
    out["t"] = np.asarray(t, dtype=float)
    names = list(records.columns)
    position = {name: j for j, name in enumerate(names)}
    try:  # fast path: one conversion of the whole frame (bool moving -> 0/1)
        block = records.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # text columns: convert what is needed
        wanted = [c for c in (*_RECORD_COLUMNS, "moving") if c in position]
        position = {name: j for j, name in enumerate(wanted)}
        block = np.column_stack(
            [pd.to_numeric(records[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
             for c in wanted]
        ) if wanted else np.zeros((n, 0))
    for name in _RECORD_COLUMNS:
        out[name] = block[:, position[name]] if name in position else np.full(n, np.nan)
    speed, dist = out["speed_m_s"], out["distance_m"]
    if not np.isfinite(speed).any() and np.isfinite(dist).any():
        # speed from distance (e.g. GPX without speed): backward difference
        d = pd.Series(dist).ffill().to_numpy()
        dt = np.diff(t, prepend=np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["speed_m_s"] = np.where(dt > 0, np.diff(d, prepend=np.nan) / dt, np.nan)
    if "moving" in position:
        moving = block[:, position["moving"]] == 1.0
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


def _window_bounds(key: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) sample ranges with ``|key_j - key_i| <= half`` (key sorted)."""
    lo = np.searchsorted(key, key - half, side="left")
    hi = np.searchsorted(key, key + half, side="right")
    return lo, hi


def _window_sum(cumsum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return cumsum[hi] - cumsum[lo]


def _chunk(runs: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Per-run aggregates and the steady flat samples of a chunk of runs."""
    n_runs = len(runs)
    sizes = np.array([len(r["t"]) for r in runs], dtype=np.int64)
    code = np.repeat(np.arange(n_runs), sizes)
    cat = {k: np.concatenate([r[k] for r in runs]) for k in runs[0]}
    t, moving = cat["t"], cat["moving"]
    first = np.zeros(len(t), dtype=bool)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first[starts[sizes > 0]] = True

    # sample weights: interval since the previous sample, capped (pauses, dropouts)
    back = np.diff(t, prepend=np.nan)
    fwd = np.append(back[1:], np.nan)
    # the first sample of a run, and a sample after a gap (pause, dropout), stands
    # for the interval to the next sample instead
    dt = np.where(first | (back > MAX_SAMPLE_INTERVAL_S), fwd, back)
    dt = np.clip(np.nan_to_num(dt, nan=0.0), 0.0, MAX_SAMPLE_INTERVAL_S)

    v, cad = cat["speed_m_s"], cat["cadence_spm"]
    spd_ok = moving & np.isfinite(v) & (v > 0)
    cad_ok = moving & np.isfinite(cad) & (cad > 0) & (cad < 300)
    both = spd_ok & cad_ok

    res: dict[str, Any] = {}
    res["moving_time_s"] = np.bincount(code, weights=np.where(moving, dt, 0.0), minlength=n_runs)
    res["cadence_moving_spm"], cad_time = _wmean(cad, dt, cad_ok, code, n_runs)
    res["speed_moving_m_s"], spd_time = _wmean(v, dt, spd_ok, code, n_runs)
    steps = np.where(both, cad / 60.0 * dt, 0.0)
    n_steps = np.bincount(code, weights=steps, minlength=n_runs)
    dist_moving = np.bincount(code, weights=np.where(both, v * dt, 0.0), minlength=n_runs)
    with np.errstate(invalid="ignore", divide="ignore"):
        res["step_length_m"] = dist_moving / n_steps
    wsl = cat["step_length_m"]
    wsl_ok = both & np.isfinite(wsl) & (wsl > 0)
    res["watch_step_length_m"], _ = _wmean(wsl, steps, wsl_ok, code, n_runs)

    # vertical ratio: the watch's value, else VO / step length (watch SL, else v*60/spm)
    with np.errstate(invalid="ignore", divide="ignore"):
        sl_ref = np.where(wsl_ok, wsl, v * 60.0 / cad)
        vr_calc = cat["vertical_oscillation_mm"] / (sl_ref * 1000.0) * 100.0
    vr = np.where(np.isfinite(cat["vertical_ratio_pct"]) & (cat["vertical_ratio_pct"] > 0),
                  cat["vertical_ratio_pct"], vr_calc)
    vr_ok = moving & np.isfinite(vr) & (vr > 0)
    res["vertical_ratio_pct"], vr_time = _wmean(vr, dt, vr_ok, code, n_runs)
    gct = cat["stance_time_ms"]
    gct_ok = cad_ok & np.isfinite(gct) & (gct > 0)
    res["duty_factor"], gct_time = _wmean(gct * cad / 120000.0, dt, gct_ok, code, n_runs)
    res["stance_time_ms"], _ = _wmean(gct, dt, gct_ok, code, n_runs)
    vo = cat["vertical_oscillation_mm"]
    vo_ok = moving & np.isfinite(vo) & (vo > 0)
    res["vertical_oscillation_mm"], _ = _wmean(vo, dt, vo_ok, code, n_runs)
    bal = cat["stance_time_balance_pct"]
    bal_ok = moving & np.isfinite(bal) & (bal > 0) & (bal < 100)
    bal_mean, bal_time = _wmean(bal, dt, bal_ok, code, n_runs)
    res["stance_balance_asym_pct"] = np.abs(bal_mean - 50.0)

    # cadence drift: last third vs first third of the run's cadence time
    cad_dt = np.where(cad_ok, dt, 0.0)
    cum = np.cumsum(cad_dt)
    run_start_cum = np.concatenate([[0.0], np.cumsum(np.bincount(code, weights=cad_dt, minlength=n_runs))[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (cum - run_start_cum[code]) / cad_time[code]
    first_third = cad_ok & (frac <= 1.0 / 3.0)
    last_third = cad_ok & (frac > 2.0 / 3.0)
    c1, _ = _wmean(cad, dt, first_third, code, n_runs)
    c3, _ = _wmean(cad, dt, last_third, code, n_runs)
    drift = (c3 / c1 - 1.0) * 100.0
    drift[~(cad_time >= MIN_DRIFT_TIME_S)] = np.nan
    res["cadence_drift_pct"] = drift

    # distance along each run, made non-decreasing; runs kept apart by an offset
    dist = cat["distance_m"]
    if not np.isfinite(dist).all():
        # fill from integrated speed where the device distance is absent
        integ = np.cumsum(np.where(np.isfinite(v) & ~first, v * dt, 0.0))
        integ = integ - integ[np.minimum(starts, max(len(integ) - 1, 0))][code]
        run_has_dist = np.bincount(code, weights=np.isfinite(dist).astype(float), minlength=n_runs) > 0
        dist = np.where(run_has_dist[code], dist, integ)
    offset = np.arange(n_runs, dtype=float)[code] * 1e8
    key = np.fmax.accumulate(dist + offset) if len(dist) else dist
    key = np.fmax(np.nan_to_num(key, nan=-np.inf), offset)

    alt = cat["altitude_m"]
    alt_ok = np.isfinite(alt)
    lo, hi = _window_bounds(key, GRADE_HALF_WINDOW_M)
    cs_alt = np.concatenate([[0.0], np.cumsum(np.where(alt_ok, alt, 0.0))])
    cs_n = np.concatenate([[0.0], np.cumsum(alt_ok.astype(float))])
    with np.errstate(invalid="ignore", divide="ignore"):
        alt_s = _window_sum(cs_alt, lo, hi) / _window_sum(cs_n, lo, hi)
    j1, j2 = lo, hi - 1
    run_dist = key[j2] - key[j1]
    with np.errstate(invalid="ignore", divide="ignore"):
        grade = (alt_s[j2] - alt_s[j1]) / run_dist
    grade[~(run_dist >= 0.8 * GRADE_HALF_WINDOW_M)] = np.nan
    d_alt = np.diff(alt_s, prepend=np.nan)
    d_alt[first] = np.nan
    drop = np.where(np.isfinite(d_alt) & (d_alt < 0), -d_alt, 0.0)
    res["descent_m"] = np.bincount(code, weights=drop, minlength=n_runs)
    alt_runs = np.bincount(code, weights=alt_ok.astype(float), minlength=n_runs) > 1
    res["descent_m"][~alt_runs] = np.nan
    downhill = moving & (grade < DOWNHILL_GRADE)
    res["downhill_time_s"] = np.bincount(code, weights=np.where(downhill, dt, 0.0), minlength=n_runs)
    res["downhill_time_s"][~alt_runs] = np.nan

    # steady (speed CV over +-15 s), flat, running samples for the overstride fit
    tkey = t + np.arange(n_runs, dtype=float)[code] * 1e7
    tlo, thi = _window_bounds(tkey, STEADY_HALF_WINDOW_S)
    vv = np.where(both, v, 0.0)
    cs_v = np.concatenate([[0.0], np.cumsum(vv)])
    cs_v2 = np.concatenate([[0.0], np.cumsum(vv * vv)])
    cs_b = np.concatenate([[0.0], np.cumsum(both.astype(float))])
    nb = _window_sum(cs_b, tlo, thi)
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = _window_sum(cs_v, tlo, thi) / nb
        var = np.maximum(_window_sum(cs_v2, tlo, thi) / nb - mv * mv, 0.0)
        cv = np.sqrt(var) / mv
    steady_flat = (
        both
        & (nb >= 3)
        & (cv < STEADY_SPEED_CV)
        & (np.abs(grade) < FLAT_GRADE)
        & (v >= RUNNING_MIN_SPEED_M_S)
        & (cad >= RUNNING_MIN_CADENCE_SPM)
    )
    res["steady_flat_time_s"] = np.bincount(code, weights=np.where(steady_flat, dt, 0.0), minlength=n_runs)

    res["_flags"] = {
        "n_samples": sizes,
        "moving": res["moving_time_s"] > 0,
        "speed": spd_time > 0,
        "cadence": cad_time > 0,
        "dynamics": (gct_time > 0) | (vr_time > 0),
        "balance": bal_time > 0,
        "watch_sl": np.isfinite(res["watch_step_length_m"]),
        "altitude": alt_runs,
    }
    # per-run sufficient statistics of the steady flat samples for the line fit:
    # sums of w, w v, w v^2, w c, w v c, w c^2 (w = sample time)
    w = np.where(steady_flat, dt, 0.0)
    vs = np.where(steady_flat, v, 0.0)
    cs = np.where(steady_flat, cad, 0.0)
    res["_suff"] = np.column_stack([
        np.bincount(code, weights=term, minlength=n_runs)
        for term in (w, w * vs, w * vs * vs, w * cs, w * vs * cs, w * cs * cs)
    ])
    return res


def usual_cadence(fit: Mapping[str, Any]) -> Callable[[np.ndarray], np.ndarray] | None:
    """The runner's own speed-cadence line from ``gait_metrics(...).attrs['overstride_fit']``.

    Parameters
    ----------
    fit
        The fit dictionary (``intercept_spm`` [steps/min], ``slope_spm_per_m_s``
        [steps/min per m/s]).

    Returns
    -------
    callable or None
        ``speed_m_s -> cadence_spm``, or ``None`` when too few runs were steady and
        flat enough to fit the line.

    Examples
    --------
    >>> line = usual_cadence({"intercept_spm": 130.0, "slope_spm_per_m_s": 10.0})
    >>> float(line(np.array([3.0]))[0])
    160.0
    """
    a = float(fit.get("intercept_spm", math.nan))
    b = float(fit.get("slope_spm_per_m_s", math.nan))
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    return lambda speed_m_s: a + b * np.asarray(speed_m_s, dtype=float)


def gait_metrics(
    store: Any,
    *,
    height_m: float | None = None,
    leg_length_m: float | None = None,
    sports: Iterable[str] | None = ("running",),
) -> pd.DataFrame:
    """Cadence, step length and overstride proxies per run, from moving samples.

    Parameters
    ----------
    store
        Anything with ``activities() -> DataFrame`` (``activity_id``, ``sport``,
        ``local_date``) and ``records(activity_id) -> DataFrame`` (a
        :class:`kneedata.Store`). All runs are assumed to be one runner's.
    height_m
        Body height [m], for ``step_length_height_ratio`` and the leg-length estimate.
    leg_length_m
        Leg length [m]; default ``0.53 * height_m``.
    sports
        Sports counted as runs (case-insensitive); ``None`` takes all activities.

    Returns
    -------
    pandas.DataFrame
        One row per run in chronological order, columns of
        :data:`kneedata.schema.GAIT`. ``attrs['overstride_fit']`` holds the fitted
        line (``intercept_spm``, ``slope_spm_per_m_s``), the number of samples and
        runs used and the residual SDs.

    Notes
    -----
    Samples: ``moving`` samples only; each stands for the interval since the
    previous sample (the interval to the next one for the first sample and after a
    gap; capped at 15 s). Means are time-weighted.

    - ``step_length_m = sum(v dt) / sum(spm / 60 dt)``: distance over steps, i.e. the
      step-weighted mean of ``SL = v * 60 / spm``.
    - ``vertical_ratio_pct = VO / SL * 100`` (the watch's value when recorded).
    - ``duty_factor = GCT[ms] * spm / 120000``: contact time over stride time
      (a stride is two steps, ``120000 / spm`` ms).
    - ``stance_balance_asym_pct = |mean(balance) - 50|``.
    - ``stance_time_ms`` and ``vertical_oscillation_mm``: time-weighted means of the
      watch's ground contact time and vertical oscillation over moving samples.
    - ``cadence_drift_pct = (mean cadence in the last third of cadence time /
      first third - 1) * 100`` (NaN for less than 3 minutes).
    - Grade: altitude averaged over +-25 m of distance, then differenced over the
      same +-25 m window; ``descent_m`` sums the drops of the smoothed altitude
      (it differs from the watch's hysteresis-based total); ``downhill_time_s`` is
      moving time at grade < -5 %.
    - Overstride index: the runner's own line ``cadence = a + b * speed`` is fitted
      by time-weighted least squares on all steady flat running samples of all runs
      (speed CV < 5 % over +-15 s, |grade| < 2 %, speed >= 1.8 m/s, cadence
      >= 130 steps/min). Each run's ``cadence_residual_spm`` is the time-weighted
      mean residual of its steady flat samples (needs >= 60 s); the index divides
      it by the SD of those run residuals across runs (needs >= 3 runs). Negative
      means fewer, longer steps than usual at that speed. It is a within-runner
      proxy: it cannot say whether the foot lands ahead of the body.

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
    Folland JP et al. (2017). Running technique is an important component of
    running economy and performance. Med Sci Sports Exerc 49:1412-1423.
    doi:10.1249/MSS.0000000000001245
    """
    for name, value in (("height_m", height_m), ("leg_length_m", leg_length_m)):
        if value is not None and not (0.5 <= float(value) <= 2.6):
            raise ValueError(f"{name}={value} is not a plausible length in metres (0.5-2.6 m).")
    activities = store.activities()
    order = _runs_in_order(activities, sports)
    meta = activities.loc[order.index]
    ids = meta["activity_id"].astype("str").to_list() if "activity_id" in meta else []
    if len(meta) and "activity_id" not in meta:
        raise SchemaError("store.activities(): no 'activity_id' column; it is needed to read records.")
    n = len(ids)

    columns: dict[str, np.ndarray] = {}
    flags: dict[str, list[np.ndarray]] = {}
    suff_parts: list[np.ndarray] = []
    buffer: list[dict[str, np.ndarray]] = []
    buffered = 0
    done = 0
    parts: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal buffer, buffered, done
        if not buffer:
            return
        res = _chunk(buffer)
        suff_parts.append(res.pop("_suff"))
        parts.append(res)
        done += len(buffer)
        buffer, buffered = [], 0

    for activity_id in ids:
        arrays = _run_arrays(store.records(activity_id))
        buffer.append(arrays)
        buffered += len(arrays["t"])
        if buffered >= _CHUNK_SAMPLES:
            flush()
    flush()

    names = [c for c in GAIT if c not in ("activity_id", "date", "gait_missing_reason",
                                          "step_length_height_ratio", "step_length_leg_ratio",
                                          "cadence_residual_spm", "overstride_index")]
    for name in names:
        columns[name] = np.concatenate([p[name] for p in parts]) if parts else np.zeros(0)
    for key in parts[0]["_flags"] if parts else []:
        flags[key] = [p["_flags"][key] for p in parts]
    flag = {k: np.concatenate(v) for k, v in flags.items()}

    leg = leg_length_m if leg_length_m is not None else (
        LEG_LENGTH_PER_HEIGHT * height_m if height_m is not None else None
    )
    sl = columns.get("step_length_m", np.zeros(0))
    columns["step_length_height_ratio"] = sl / height_m if height_m is not None else np.full(n, np.nan)
    columns["step_length_leg_ratio"] = sl / leg if leg is not None else np.full(n, np.nan)

    suff = np.concatenate(suff_parts) if suff_parts else np.zeros((0, 6))
    residual, index, fit = _overstride(suff, columns.get("steady_flat_time_s", np.zeros(0)))
    columns["cadence_residual_spm"] = residual
    columns["overstride_index"] = index

    reasons = _reasons(flag, columns, n, fit)
    out = pd.DataFrame(
        {
            "activity_id": pd.Series(ids, dtype="str"),
            "date": order["_date"].to_numpy(),
            **{name: columns[name] for name in GAIT if name in columns},
            "gait_missing_reason": pd.Series(reasons, dtype="str"),
        }
    )
    out = out[list(GAIT)].astype({k: c.dtype for k, c in GAIT.items()})
    out.attrs["overstride_fit"] = fit
    out.attrs["height_m"] = height_m
    out.attrs["leg_length_m"] = leg
    out.attrs["leg_length_source"] = (
        "given" if leg_length_m is not None else
        f"{LEG_LENGTH_PER_HEIGHT} x height" if height_m is not None else "unknown"
    )
    return out


def _overstride(
    suff: np.ndarray, steady_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Fit cadence ~ a + b speed on steady flat samples; per-run residuals and index.

    ``suff`` holds per run the time-weighted sums ``w, wv, wv^2, wc, wvc, wc^2`` of
    its steady flat samples, so the fit never needs the samples themselves.
    """
    n_runs = len(steady_time)
    residual = np.full(n_runs, np.nan)
    index = np.full(n_runs, np.nan)
    eligible = steady_time >= MIN_STEADY_FLAT_S
    fit: dict[str, Any] = {
        "model": "cadence_spm = intercept_spm + slope_spm_per_m_s * speed_m_s, "
                 "time-weighted least squares on steady flat running samples",
        "n_runs": int(eligible.sum()),
        "steady_flat_time_s": float(suff[eligible, 0].sum()) if n_runs else 0.0,
        "intercept_spm": math.nan,
        "slope_spm_per_m_s": math.nan,
        "sample_residual_sd_spm": math.nan,
        "run_residual_sd_spm": math.nan,
    }
    if not eligible.any():
        return residual, index, fit
    sw, sv, svv, sc, svc, scc = suff[eligible].sum(axis=0)
    mean_v, mean_c = sv / sw, sc / sw
    var_v = svv / sw - mean_v**2
    if var_v > 1e-9:
        slope = (svc / sw - mean_v * mean_c) / var_v
    else:  # a single pace: the line is the mean cadence
        slope = 0.0
    intercept = mean_c - slope * mean_v
    w, wv, wvv, wc, wvc, wcc = suff.T
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = (wc - intercept * w - slope * wv) / w
    residual[~eligible] = np.nan
    # sum of w (c - a - b v)^2 expanded into the sums, over eligible runs
    ss = (wcc + intercept**2 * w + slope**2 * wvv - 2 * intercept * wc
          - 2 * slope * wvc + 2 * intercept * slope * wv)[eligible].sum()
    fit["intercept_spm"] = float(intercept)
    fit["slope_spm_per_m_s"] = float(slope)
    fit["sample_residual_sd_spm"] = float(math.sqrt(max(ss, 0.0) / sw))
    if eligible.sum() >= MIN_FIT_RUNS:
        sd = float(np.nanstd(residual, ddof=1))
        fit["run_residual_sd_spm"] = sd
        if sd > 0:
            index = residual / sd
    return residual, index, fit


def _reasons(flag: dict[str, np.ndarray], columns: dict[str, np.ndarray], n: int,
             fit: dict[str, Any]) -> list[Any]:
    """One ``'; '``-joined string per run naming what was missing (None if nothing)."""
    if n == 0:
        return []
    checks = [
        (flag["n_samples"] == 0, "no records"),
        ((flag["n_samples"] > 0) & ~flag["moving"], "no moving samples"),
        (flag["moving"] & ~flag["speed"], "no speed"),
        (flag["moving"] & ~flag["cadence"], "no cadence"),
        (flag["moving"] & ~flag["dynamics"], "no running dynamics"),
        (flag["moving"] & flag["dynamics"] & ~flag["balance"], "no stance balance"),
        (flag["moving"] & ~flag["altitude"], "no altitude"),
        (flag["cadence"] & flag["speed"] & (columns["steady_flat_time_s"] < MIN_STEADY_FLAT_S),
         f"under {MIN_STEADY_FLAT_S:.0f} s of steady flat running"),
    ]
    if fit["n_runs"] < MIN_FIT_RUNS:
        checks.append((columns["steady_flat_time_s"] >= MIN_STEADY_FLAT_S,
                       f"overstride index needs {MIN_FIT_RUNS} runs with steady flat running "
                       f"({fit['n_runs']} found)"))
    texts = np.array([t for _, t in checks], dtype=object)
    matrix = np.column_stack([m for m, _ in checks])
    out: list[Any] = []
    for row in matrix:
        if row.any():
            out.append("; ".join(texts[row]))
        else:
            out.append(None)
    return out
