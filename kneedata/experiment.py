"""A runner's own experiment: plan, check adherence, and analyse alternating A/B blocks.

"Test, try, repeat": the usual (``A``) and a change (``B``: higher cadence, strength
work, other shoes, ...) alternate in blocks of ``block_days`` days, the order
randomised within each pair (AB or BA), with daily pain as the outcome. This is an
N-of-1 trial (Kravitz & Duan 2014, the AHRQ *Design and Implementation of N-of-1
Trials* guide): unlike the observational models it compares the change with the
usual *within the same runner at the same time of life*, and the randomisation makes
a causal statement about this runner possible.

The analysis (:func:`analyse_experiment`) compares mean daily pain in the B days
with the A days, leaving out the first ``carryover_days`` of each block (the old
condition may still act) and every day without a diary entry (unknown, never
pain-free). Two answers are given:

* a regression of daily pain on the condition with AR(1) errors (pain today is
  like pain yesterday), fitted by generalised least squares on the observed days,
  gaps included exactly (:func:`ar1_regression`); its interval is the headline;
* a randomisation test over every block order the plan could have drawn: exact
  whatever the autocorrelation, but coarse with few pairs (with 4 pairs there are
  16 orders and the smallest two-sided p is 2/16 = 0.125).

:func:`detectable_effects` simulates the plan on the runner's own pain history to
say how big an effect a given number of pairs and block length could detect.
"""

from __future__ import annotations

import itertools
import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, signal, stats

from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.targets import CHANGES, check_change, parse_target

__all__ = [
    "CHANGES",
    "EFFECT_COLUMNS",
    "SCHEDULE_COLUMNS",
    "AR1Fit",
    "allowed_orders",
    "analyse_experiment",
    "ar1_regression",
    "ar1_whitened",
    "block_adherence",
    "detectable_effects",
    "effect_row",
    "experiment_days",
    "experiment_verdict",
    "parse_target",
    "plan_experiment",
    "plan_text",
    "randomisation_p",
    "shoe_km_per_block",
    "write_schedule",
]

SCHEDULE_COLUMNS = ["block", "start", "end", "condition"]
#: Exact enumeration of block orders up to this many; Monte Carlo beyond.
MAX_EXACT_ORDERS = 4096
N_RANDOM_ORDERS = 5000
#: A block needs this many analysed days of each condition for the model.
MIN_DAYS_PER_CONDITION = 3
_PHI_BOUNDS = (-0.9, 0.98)


# --------------------------------------------------------------------------- plan
def _day(value: Any, what: str) -> pd.Timestamp:
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} {value!r} is not a date (write e.g. 2026-01-05).") from err
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    return day.normalize()


def plan_experiment(change: str, *, start: Any, block_days: int = 14, n_pairs: int = 4,
                    seed: int | None = None, target: Any = None) -> pd.DataFrame:
    """Plan alternating, randomised blocks of the usual (A) and a change (B).

    Parameters
    ----------
    change
        ``cadence``, ``strength``, ``shoes`` or ``other`` (see :data:`CHANGES`).
    start
        First day of the first block (a local day, e.g. ``"2026-01-05"``).
    block_days
        Length of each block [days]; 7 or more (the first ``carryover_days``, 3 by
        default, are left out of the analysis).
    n_pairs
        Number of pairs; each pair is AB or BA at random.
    seed
        Seed of the randomisation. ``None`` draws one (recorded in ``attrs["seed"]``
        so the plan can be reproduced).
    target
        See :func:`parse_target`: cadence % over your usual speed-matched cadence,
        strength sessions per week, the B shoe's ``shoe_id``, or free text.

    Returns
    -------
    pandas.DataFrame
        One row per block: ``block`` (1, 2, ...), ``start``, ``end`` (first and last
        local day, inclusive, datetime64[ns]), ``condition`` (``A`` usual, ``B``
        the change). ``attrs`` holds ``change``, ``target``, ``target_text``,
        ``carryover_days`` (3), ``block_days``, ``n_pairs`` and ``seed``.

    Examples
    --------
    >>> plan = plan_experiment("cadence", start="2026-01-05", target="+7%", seed=1)
    >>> plan.shape, sorted(plan["condition"].unique())
    ((8, 4), ['A', 'B'])
    """
    value, text = parse_target(change, target)
    first = _day(start, "start")
    if int(block_days) != block_days or block_days < 7:
        raise ValueError(f"block_days={block_days!r}: give a whole number of days, 7 or "
                         "more (shorter blocks are mostly carry-over).")
    if int(n_pairs) != n_pairs or n_pairs < 2:
        raise ValueError(f"n_pairs={n_pairs!r}: give 2 or more pairs (with 1 pair the "
                         "randomisation cannot tell anything).")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**31)  # type: ignore[operator]
    rng = np.random.default_rng(seed)
    conditions = [c for _ in range(int(n_pairs))
                  for c in (("A", "B") if rng.random() < 0.5 else ("B", "A"))]
    n = len(conditions)
    starts = first + pd.to_timedelta(np.arange(n) * int(block_days), unit="D")
    plan = pd.DataFrame({
        "block": np.arange(1, n + 1, dtype="int64"),
        "start": pd.DatetimeIndex(starts).as_unit("ns"),
        "end": pd.DatetimeIndex(starts + pd.Timedelta(days=int(block_days) - 1)).as_unit("ns"),
        "condition": pd.Series(conditions, dtype="str"),
    })
    plan.attrs.update(change=change, target=value, target_text=text, carryover_days=3,
                      block_days=int(block_days), n_pairs=int(n_pairs), seed=int(seed))
    return plan


def plan_text(schedule: pd.DataFrame) -> str:
    """The plan in words: blocks, what A and B mean, and the carry-over days left out."""
    change = schedule.attrs.get("change", "other")
    target_text = schedule.attrs.get("target_text") or "the change"
    carry = int(schedule.attrs.get("carryover_days", 3))
    days = (schedule["end"] - schedule["start"]).dt.days + 1
    lines = [
        f"{len(schedule)} blocks of {_range_text(days)} days, "
        f"{schedule['start'].min():%Y-%m-%d} to {schedule['end'].max():%Y-%m-%d}: "
        f"A = your usual, B = {target_text} ({CHANGES.get(change, CHANGES['other'])[0]}).",
        "Order: " + " ".join(schedule["condition"]) + " (randomised within each pair).",
        f"The first {carry} days of every block are carry-over: the analysis leaves "
        "them out. Write your pain every day, 0 on pain-free days.",
    ]
    return "\n".join(lines)


def _target_cell(change: str, target: Any) -> str:
    if target is None:
        return ""
    if change == "cadence":
        return f"{float(target):+g}%"
    if change == "strength":
        return f"{float(target):g}/week"
    return str(target)


def write_schedule(schedule: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a plan as the CSV :func:`kneedata.read_experiment` reads.

    Columns ``block,start,end,condition`` (ISO dates), then ``change``, ``target``
    and ``carryover_days`` from ``attrs`` on every line, and an empty
    ``adherence_pct`` and ``notes`` to fill in.
    """
    change = schedule.attrs.get("change", "other")
    out = pd.DataFrame({
        "block": schedule["block"],
        "start": schedule["start"].dt.strftime("%Y-%m-%d"),
        "end": schedule["end"].dt.strftime("%Y-%m-%d"),
        "condition": schedule["condition"],
        "change": change,
        "target": _target_cell(change, schedule.attrs.get("target")),
        "carryover_days": int(schedule.attrs.get("carryover_days", 3)),
        "adherence_pct": "",
        "notes": "",
    })
    out.to_csv(path, index=False, lineterminator="\n")


def _range_text(days: pd.Series) -> str:
    lo, hi = int(days.min()), int(days.max())
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


# ------------------------------------------------------------------ AR(1) model
@dataclass
class AR1Fit:
    """A regression with AR(1) errors on (possibly gappy) daily data."""

    params: np.ndarray
    std_errors: np.ndarray
    df_resid: int
    phi: float
    sigma: float
    results: Any  # statsmodels OLS results on the whitened rows

    def interval(self, i: int, alpha: float = 0.05) -> tuple[float, float]:
        """``1 - alpha`` interval of coefficient ``i`` (Student t, ``df_resid``)."""
        q = stats.t.ppf(1 - alpha / 2, self.df_resid)
        return (float(self.params[i] - q * self.std_errors[i]),
                float(self.params[i] + q * self.std_errors[i]))

    def p_value(self, i: int) -> float:
        """Two-sided t-test p value of coefficient ``i`` being 0."""
        t = self.params[i] / self.std_errors[i]
        return float(2 * stats.t.sf(abs(t), self.df_resid))


def _whiten(day: np.ndarray, phi: float) -> tuple[np.ndarray, np.ndarray]:
    """AR(1) whitening weights and lag coefficients for observations on ``day``."""
    gap = np.diff(day)
    lag = np.concatenate([[0.0], phi ** gap])
    scale = np.empty(len(day))
    scale[0] = math.sqrt(1 - phi**2)
    scale[1:] = np.sqrt((1 - phi**2) / (1 - lag[1:] ** 2))
    return scale, lag


def _whitened(values: np.ndarray, scale: np.ndarray, lag: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[1:] = values[1:] - (lag[1:] * values[:-1].T).T
    return (scale * out.T).T


def ar1_whitened(day: Any, values: Any, phi: float) -> np.ndarray:
    """``values`` (a vector or an n x p matrix) whitened for AR(1) errors with ``phi``.

    The transformation of :func:`ar1_regression` (gaps included exactly): ordinary
    least squares on the whitened outcome and design is the GLS fit, and
    ``sigma**2 * inv(Xw.T @ Xw)`` the covariance of its coefficients.
    """
    scale, lag = _whiten(np.asarray(day, dtype=float), phi)
    return _whitened(np.asarray(values, dtype=float), scale, lag)


def _reml_objective(phi: float, day: np.ndarray, y: np.ndarray, X: np.ndarray) -> float:
    scale, lag = _whiten(day, phi)
    yw, Xw = _whitened(y, scale, lag), _whitened(X, scale, lag)
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    rss = float(np.sum((yw - Xw @ beta) ** 2))
    n, p = X.shape
    sign, logdet = np.linalg.slogdet(Xw.T @ Xw)
    if rss <= 0 or sign <= 0:
        return math.inf
    return (n - p) * math.log(rss / (n - p)) - 2 * float(np.sum(np.log(scale))) + logdet


def ar1_regression(day: Any, y: Any, X: Any) -> AR1Fit:
    """Regression with AR(1) errors on observations at whole-day times, gaps allowed.

    Parameters
    ----------
    day
        Day number of each observation (integers, strictly increasing) [days].
    y
        Outcome, e.g. daily pain [0-10].
    X
        Design matrix (n x p), an intercept column included by the caller.

    Returns
    -------
    AR1Fit
        Coefficients, standard errors (t with ``n - p`` degrees of freedom), the
        AR(1) coefficient ``phi`` per day and the innovation SD ``sigma``.

    Notes
    -----
    The errors follow :math:`u_t = \\phi u_{t-1} + \\varepsilon_t` on every calendar
    day, observed or not. Observed days :math:`t_1 < t_2 < ...` are whitened
    exactly (Prais-Winsten generalised to gaps :math:`g_i = t_i - t_{i-1}`):
    :math:`z_1 = \\sqrt{1-\\phi^2}\\,u_1`, :math:`z_i = (u_i - \\phi^{g_i} u_{i-1})
    \\sqrt{(1-\\phi^2)/(1-\\phi^{2 g_i})}`, after which ordinary least squares is
    generalised least squares. :math:`\\phi` maximises the restricted (REML)
    likelihood (less biased towards 0 than ML in short series; Cheang & Reinsel
    2000, doi:10.1111/1467-9892.00183), bounded to [-0.9, 0.98].
    """
    import statsmodels.api as sm

    day, y, X, phi = _phi_reml(day, y, X)
    scale, lag = _whiten(day, phi)
    results = sm.OLS(_whitened(y, scale, lag), _whitened(X, scale, lag)).fit()
    return AR1Fit(params=np.asarray(results.params), std_errors=np.asarray(results.bse),
                  df_resid=int(results.df_resid), phi=phi,
                  sigma=float(math.sqrt(results.scale)), results=results)


def _phi_reml(day: Any, y: Any, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    day = np.asarray(day, dtype=float)
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    if n <= p + 1:
        raise ValueError(f"{n} observations cannot estimate {p} coefficients and an "
                         "AR(1) coefficient.")
    if np.any(np.diff(day) <= 0):
        raise ValueError("day must be strictly increasing (one observation per day).")
    found = optimize.minimize_scalar(_reml_objective, bounds=_PHI_BOUNDS,
                                     args=(day, y, X), method="bounded",
                                     options={"xatol": 1e-4})
    return day, y, X, float(found.x)


def _fast_fit(day: np.ndarray, y: np.ndarray, X: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, int, float, float]:
    """As :func:`ar1_regression` without statsmodels: (beta, se, df, phi, sigma)."""
    day, y, X, phi = _phi_reml(day, y, X)
    scale, lag = _whiten(day, phi)
    yw, Xw = _whitened(y, scale, lag), _whitened(X, scale, lag)
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    df = len(y) - X.shape[1]
    s2 = float(np.sum((yw - Xw @ beta) ** 2)) / df
    se = np.sqrt(s2 * np.diag(np.linalg.inv(Xw.T @ Xw)))
    return beta, se, df, phi, math.sqrt(s2)


# ----------------------------------------------------------- randomisation test
def allowed_orders(conditions: Iterable[str], *, paired: bool | None = None,
                   seed: int = 0) -> tuple[np.ndarray, str]:
    """Every block order the randomisation could have produced (True = B).

    Parameters
    ----------
    conditions
        The schedule's conditions in block order.
    paired
        Randomised within consecutive pairs (AB/BA); ``None``: when every
        consecutive pair holds one A and one B.
    seed
        Seed of the Monte Carlo sample when there are more than
        :data:`MAX_EXACT_ORDERS` orders.

    Returns
    -------
    (orders, scheme)
        Boolean array (orders x blocks), the observed order first, and a
        description of the scheme.
    """
    observed = np.array([c == "B" for c in conditions])
    n = len(observed)
    if paired is None:
        paired = n % 2 == 0 and bool(np.all(observed[0::2] != observed[1::2]))
    rng = np.random.default_rng(seed)
    if paired:
        k = n // 2
        if 2**k <= MAX_EXACT_ORDERS:
            first_b = np.array(list(itertools.product([False, True], repeat=k)))
        else:
            # Monte Carlo: the observed order counts as one of the draws
            first_b = np.vstack([observed[0::2],
                                 rng.random((N_RANDOM_ORDERS - 1, k)) < 0.5])
        orders = np.repeat(first_b, 2, axis=1)
        orders[:, 1::2] = ~orders[:, 1::2]
        scheme = f"AB or BA within each of {k} pairs ({2**k} orders)"
    else:
        n_b = int(observed.sum())
        if math.comb(n, n_b) <= MAX_EXACT_ORDERS:
            orders = np.array([[i in chosen for i in range(n)]
                               for chosen in itertools.combinations(range(n), n_b)])
        else:
            orders = np.array([observed] + [rng.permutation(observed)
                                            for _ in range(N_RANDOM_ORDERS - 1)])
        scheme = (f"any order of {n_b} B and {n - n_b} A blocks "
                  f"({math.comb(n, n_b)} orders)")
    return np.vstack([observed, orders]), scheme


def randomisation_p(values: np.ndarray, block_index: np.ndarray,
                    orders: np.ndarray) -> float:
    """Two-sided randomisation p of the B - A difference in mean daily values.

    ``values`` are the analysed days, ``block_index`` their block (0-based),
    ``orders`` from :func:`allowed_orders` (observed first). The statistic is
    the difference in means; p counts the orders at least as extreme
    (Edgington & Onghena, *Randomization Tests*, 4th ed., 2007).
    """
    is_b = orders[:, block_index]                       # orders x days
    n_b = is_b.sum(axis=1)
    n_a = is_b.shape[1] - n_b
    ok = (n_b > 0) & (n_a > 0)
    sum_b = is_b.astype(float) @ values
    diff = np.full(len(orders), np.nan)
    diff[ok] = sum_b[ok] / n_b[ok] - (values.sum() - sum_b[ok]) / n_a[ok]
    if not ok[0]:
        return math.nan
    extreme = np.abs(diff[1:][ok[1:]]) >= abs(diff[0]) - 1e-9
    return float((extreme.sum()) / max(ok[1:].sum(), 1))


# ------------------------------------------------------------------ inputs
def _as_schedule(schedule: Any) -> pd.DataFrame:
    if isinstance(schedule, (str, os.PathLike)):
        from kneedata.io.diary import read_experiment

        return read_experiment(schedule)
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        raise SchemaError(f"The schedule lacks the column(s) {', '.join(missing)}; it "
                          "needs block, start, end, condition (as from "
                          "plan_experiment or read_experiment).")
    return schedule


def _as_table(table: Any, reader: str) -> pd.DataFrame | None:
    if table is None or isinstance(table, pd.DataFrame):
        return table
    from kneedata.io import diary as readers

    return getattr(readers, reader)(table)


def _daily_outcome(diary: pd.DataFrame, outcome: str) -> pd.Series:
    """Highest value of ``outcome`` per local day (days without an entry absent)."""
    for column in ("date", outcome):
        if column not in diary.columns:
            raise SchemaError(f"The diary has no column {column!r} (found: "
                              f"{', '.join(map(str, diary.columns))}); give the diary as "
                              "read by read_pain_diary and an outcome column in it.")
    values = pd.to_numeric(diary[outcome], errors="coerce")
    dates = pd.to_datetime(diary["date"]).dt.normalize()
    daily = values.groupby(dates).max().dropna()
    daily.index.name = "date"
    return daily.rename(outcome)


def experiment_days(schedule: pd.DataFrame, daily: pd.Series, *,
                    carryover_days: int = 3) -> pd.DataFrame:
    """One row per calendar day of the experiment, with what the analysis uses.

    Returns ``date``, ``day`` (days since the first block's start), ``block``,
    ``condition``, ``day_in_block`` (1 = first day), ``carryover`` (one of the
    first ``carryover_days``), the outcome (NaN without a diary entry), ``observed``
    and ``used`` (observed and not carry-over).
    """
    pieces = []
    for block, start, end, condition in _block_rows(schedule):
        dates = pd.date_range(start, end, freq="D", unit="ns")
        pieces.append(pd.DataFrame({
            "date": dates, "block": np.int64(block),
            "condition": str(condition),
            "day_in_block": np.arange(1, len(dates) + 1, dtype="int64")}))
    days = pd.concat(pieces, ignore_index=True)
    days.insert(1, "day", (days["date"] - days["date"].iloc[0]).dt.days.astype("int64"))
    days["carryover"] = days["day_in_block"] <= carryover_days
    days[daily.name] = daily.reindex(pd.DatetimeIndex(days["date"])).to_numpy()
    days["observed"] = days[daily.name].notna()
    days["used"] = days["observed"] & ~days["carryover"]
    return days


# ------------------------------------------------------------------ adherence
def _is_derived(source: Any) -> bool:
    """A :class:`kneedata.pipeline.Derived` (runs, shoes and gait already derived)."""
    return hasattr(source, "runs") and hasattr(source, "gait")


def _runs(source: Any) -> pd.DataFrame:
    """The runs of a Store or a Derived, with their local ``date``."""
    if _is_derived(source):
        runs = source.runs.copy()
    else:
        activities = source.activities()
        runs = activities[activities["sport"].astype(str).str.lower() == "running"].copy()
    runs["date"] = pd.to_datetime(runs["local_date"]).dt.normalize()
    return runs


def _per_block(schedule: pd.DataFrame, dates: pd.Series) -> pd.Series:
    """Block number of each date (NaN outside the schedule)."""
    block = pd.Series(np.nan, index=dates.index)
    for number, start, end, _ in _block_rows(schedule):
        block[(dates >= start) & (dates <= end)] = number
    return block


def _block_rows(schedule: pd.DataFrame) -> list[tuple[Any, Any, Any, Any]]:
    """(block, start, end, condition) of each block, in order."""
    return list(zip(schedule["block"], schedule["start"], schedule["end"],
                    schedule["condition"], strict=True))


def _strength_adherence(schedule: pd.DataFrame, routines: pd.DataFrame) -> pd.Series:
    strength = routines[routines["kind"].astype(str) == "strength"]
    block = _per_block(schedule, pd.to_datetime(strength["date"]))
    counts = block.value_counts().reindex(schedule["block"], fill_value=0).to_numpy()
    weeks = ((schedule["end"] - schedule["start"]).dt.days + 1).to_numpy() / 7
    return pd.Series(counts / weeks, index=schedule.index)


def shoe_km_per_block(schedule: pd.DataFrame, store: Any, shoes: pd.DataFrame
                      ) -> pd.DataFrame:
    """km run in each shoe in each block (rows: blocks; columns: shoe ids) [km].

    Runs get their shoe from :func:`kneedata.gear.assign_shoes`; runs it could
    not assign are the column ``unassigned``.
    """
    from kneedata.gear import assign_shoes

    runs = _runs(store)
    if "shoe_id" not in runs:  # a Derived has them already (shoe periods included)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)  # the report counts them
            runs = assign_shoes(runs, shoes)
    runs["block"] = _per_block(schedule, runs["date"])
    runs = runs[runs["block"].notna()]
    shoe = runs["shoe_id"].fillna("unassigned").astype(str)
    km = (runs["distance_m"] / 1000).groupby([runs["block"].astype("int64"), shoe]).sum()
    table = km.unstack(fill_value=0).reindex(schedule["block"], fill_value=0.0)
    table.columns.name = "shoe_id"
    return table


def _cadence_per_run(store: Any) -> pd.DataFrame:
    """Per-run speed-matched cadence deviation [%] and distance [km].

    The deviation is :func:`kneedata.gait_metrics`' ``cadence_deviation_pct``: the
    run's cadence against the runner's own cadence-speed line of the previous 180
    days. During an experiment that line slowly takes in the B runs too, which
    shrinks later B-A contrasts a little (conservative for the adherence check).
    """
    from kneedata.metrics.gait import gait_metrics

    gait = store.gait if _is_derived(store) else gait_metrics(store.records_map(), store.activities())
    if gait is None or gait.empty:
        return pd.DataFrame(columns=["date", "deviation", "km"])
    runs = _runs(store).set_index("activity_id")
    km = runs["distance_m"].reindex(gait["activity_id"]).to_numpy() / 1000
    return pd.DataFrame({"date": pd.to_datetime(gait["date"]).dt.normalize(),
                         "deviation": gait["cadence_deviation_pct"].to_numpy(dtype=float),
                         "km": km})


def _cadence_adherence(schedule: pd.DataFrame, store: Any) -> pd.Series:
    runs = _cadence_per_run(store).dropna(subset=["deviation"])
    runs["block"] = _per_block(schedule, runs["date"])
    runs = runs[runs["block"].notna()]
    weight = runs["km"].fillna(1.0).clip(lower=0.1)
    weighted = (runs["deviation"] * weight).groupby(runs["block"]).sum()
    mean = weighted / weight.groupby(runs["block"]).sum()
    return pd.Series(mean.reindex(schedule["block"]).to_numpy(), index=schedule.index)


def _adherence_rule(change: str, target: Any) -> tuple[float, float, str]:
    """(B needs at least, A must stay below, rule in words) for a change."""
    if change == "cadence":
        half = float(target) / 2
        return half, half, (f"B blocks need at least half the planned change "
                            f"({half:+.1f} %), A blocks stay short of it")
    if change == "strength":
        return 0.75 * float(target), float(target), (
            f"B blocks need at least {0.75 * float(target):.2g} sessions/week "
            f"(75 % of {float(target):g}), A blocks fewer than {float(target):g}")
    if change == "shoes":
        return 80.0, 20.0, (f"B blocks need at least 80 % of their km in {target}, "
                            "A blocks at most 20 %")
    return 75.0, math.inf, "blocks need adherence_pct of at least 75 % (logged by hand)"


def block_adherence(schedule: pd.DataFrame, *, change: str | None = None,
                    target: Any = None, store: Any = None,
                    routines: pd.DataFrame | None = None,
                    shoes: pd.DataFrame | None = None) -> pd.DataFrame:
    """How well each block followed the plan, from data the runner already records.

    Parameters
    ----------
    schedule
        As from :func:`plan_experiment` / :func:`kneedata.read_experiment`.
    change, target
        Default: ``schedule.attrs``.
    store
        A :class:`kneedata.Store`, or the :class:`kneedata.pipeline.Derived` of
        :func:`kneedata.derive` (its shoe assignment and gait are used as they
        are). cadence: the runs' speed-matched cadence deviation [%]
        (distance-weighted mean per block); shoes: runs for the shoe assignment.
    routines
        strength: strength sessions per week in each block.
    shoes
        shoes: the shoes table; the share of each block's km in the target shoe [%].

    Returns
    -------
    pandas.DataFrame
        ``block``, ``condition``, ``adherence`` (the measure, in ``adherence_unit``),
        ``adherence_unit``, ``adherence_ok`` (boolean, <NA> when there is nothing to
        judge by) and ``adherence_note``. ``attrs["rule"]`` states the rule and, for
        shoes, ``attrs["shoe_km"]`` the km per shoe per block.
    """
    change = change or schedule.attrs.get("change") or "other"
    check_change(change)
    if target is None:
        target = schedule.attrs.get("target")
    if change != "other":
        target, _ = parse_target(change, target)
    unit = CHANGES[change][1]
    out = schedule[["block", "condition"]].copy()
    value = pd.Series(np.nan, index=schedule.index)
    need = {"cadence": (store, "a store with the runs' watch files"),
            "strength": (routines, "a routines log"),
            "shoes": (store if shoes is not None else None, "a store and a shoes table"),
            "other": (None, "")}[change]
    note = ""
    shoe_km = None
    if change == "other":
        if "adherence_pct" in schedule.columns:
            value = pd.to_numeric(schedule["adherence_pct"], errors="coerce")
        else:
            note = "no adherence_pct column in the schedule"
    elif need[0] is None:
        note = f"not checked: needs {need[1]}"
    elif change == "strength":
        value = _strength_adherence(schedule, routines)  # type: ignore[arg-type]
    elif change == "cadence":
        value = _cadence_adherence(schedule, store)
    else:
        shoe_km = shoe_km_per_block(schedule, store, shoes)  # type: ignore[arg-type]
        total = shoe_km.sum(axis=1).to_numpy()
        in_target = (shoe_km[target].to_numpy() if target in shoe_km.columns
                     else np.zeros(len(shoe_km)))
        value = pd.Series(np.where(total > 0, 100 * in_target / np.where(total > 0, total, 1),
                                   np.nan), index=schedule.index)
    b_min, a_max, rule = _adherence_rule(change, target)
    is_b = (schedule["condition"] == "B").to_numpy()
    toward = value * (-1.0 if change == "cadence" and float(target) < 0 else 1.0)
    ok = np.where(is_b, toward >= abs(b_min), (toward >= b_min) if change == "other"
                  else toward < abs(a_max))
    out["adherence"] = value.to_numpy(dtype=float)
    out["adherence_unit"] = unit
    out["adherence_ok"] = pd.array(
        [None if math.isnan(v) else bool(o) for v, o in zip(out["adherence"], ok,
                                                             strict=True)],
        dtype="boolean")
    out["adherence_note"] = np.where(
        out["adherence_ok"].isna(), note or "no data in this block",
        np.where(out["adherence_ok"].fillna(True), "", "poor adherence"))
    out.attrs["rule"] = rule
    if shoe_km is not None:
        out.attrs["shoe_km"] = shoe_km
    return out


# ------------------------------------------------------------------ the effect
EFFECT_COLUMNS = ["term", "estimate", "ci_low", "ci_high", "p_value", "p_randomization",
                  "n_days_a", "n_days_b", "std_error", "ar1_phi", "estimable", "status"]


def effect_row(days: pd.DataFrame, outcome: str, term: str,
               orders: np.ndarray | None, alpha: float = 0.05
               ) -> tuple[dict[str, Any], AR1Fit | None]:
    """The ``B - A`` row (columns :data:`EFFECT_COLUMNS`) from the ``used`` days.

    ``days`` from :func:`experiment_days`; ``orders`` from :func:`allowed_orders`
    (``None``: no randomisation p). Not estimable (NaN estimate) with fewer than
    :data:`MIN_DAYS_PER_CONDITION` analysed days of A or B, or no variation.
    """
    used = days[days["used"]]
    is_b = (used["condition"] == "B").to_numpy()
    row: dict[str, Any] = dict.fromkeys(EFFECT_COLUMNS, math.nan)
    row.update(term=term, n_days_a=int((~is_b).sum()), n_days_b=int(is_b.sum()),
               estimable=False, status="too_few_days")
    y = used[outcome].to_numpy(dtype=float)
    if min(row["n_days_a"], row["n_days_b"]) < MIN_DAYS_PER_CONDITION:
        return row, None
    if np.ptp(y) == 0:
        row["status"] = "no_variation"
        return row, None
    X = np.column_stack([np.ones(len(y)), is_b.astype(float)])
    fit = ar1_regression(used["day"].to_numpy(), y, X)
    low, high = fit.interval(1, alpha)
    row.update(estimate=float(fit.params[1]), ci_low=low, ci_high=high,
               p_value=fit.p_value(1), std_error=float(fit.std_errors[1]),
               ar1_phi=fit.phi, estimable=True, status="ok")
    if orders is not None:
        block_pos = {b: i for i, b in enumerate(days["block"].drop_duplicates())}
        index = used["block"].map(block_pos).to_numpy()
        row["p_randomization"] = randomisation_p(y, index, orders)
    return row, fit


def _block_summary(days: pd.DataFrame, schedule: pd.DataFrame, diary: pd.DataFrame,
                   outcome: str) -> pd.DataFrame:
    """Per block: days, analysed days, missing days, mean outcome, pain days, onsets."""
    from kneedata.episodes import pain_episodes

    grouped = days.groupby("block", sort=False)
    used_mean = days[outcome].where(days["used"]).groupby(days["block"], sort=False).mean()
    out = pd.DataFrame({
        "block": schedule["block"].to_numpy(),
        "condition": schedule["condition"].to_numpy(),
        "start": schedule["start"].to_numpy(),
        "end": schedule["end"].to_numpy(),
        "n_days": grouped.size().to_numpy(),
        "n_days_used": grouped["used"].sum().to_numpy(),
        "n_days_missing": (~days["observed"]).groupby(days["block"], sort=False)
        .sum().to_numpy(),
        f"mean_{outcome}": used_mean.to_numpy(),
    })
    if outcome == "pain_0_10":
        pain_day = (days[outcome] >= 3).groupby(days["block"], sort=False).sum()
        out["n_pain_days"] = pain_day.to_numpy()
        episodes = pain_episodes(diary) if len(diary) else pd.DataFrame(
            {"onset_date": pd.Series(dtype="datetime64[ns]")})
        onsets = _per_block(schedule, pd.to_datetime(episodes["onset_date"]))
        out["n_onsets"] = (onsets.value_counts().reindex(out["block"], fill_value=0)
                           .to_numpy().astype("int64"))
    return out


def _pts(value: float) -> str:
    """Pain points for a person: 1.1, 0.45, 12."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2g}"


def _p_text(p: float) -> str:
    return "n/a" if not math.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.2g}")


def experiment_verdict(row: pd.Series | dict, *, n_orders: int | None = None,
                       min_p: float | None = None, flagged: Iterable[int] = (),
                       unit: str = "points") -> str:
    """The plain-language verdict on a ``B - A`` row (see :func:`analyse_experiment`)."""
    est, low, high = row["estimate"], row["ci_low"], row["ci_high"]
    if not math.isfinite(est):
        text = (f"The data cannot tell yet: {row['n_days_a']} A days and "
                f"{row['n_days_b']} B days have a diary entry outside the carry-over "
                f"days (at least {MIN_DAYS_PER_CONDITION} of each, with some variation, "
                "are needed).")
    elif low > 0 or high < 0:
        word = "lower" if est < 0 else "higher"
        lo, hi = sorted((abs(low), abs(high)))
        text = (f"Pain was {_pts(abs(est))} {unit} {word} in the B blocks than in the A "
                f"blocks ({_pts(lo)} to {_pts(hi)}, 95 % interval).")
    else:
        text = (f"The data cannot tell yet: pain in the B blocks was {est:+.2g} {unit} "
                f"against the A blocks, but the 95 % interval ({_pts(low)} to "
                f"{_pts(high)}) includes no difference.")
    p = row.get("p_randomization", math.nan)
    if n_orders and math.isfinite(p):
        text += (f" Randomisation test over the {n_orders} possible block orders: "
                 f"p = {_p_text(p)}")
        if min_p is not None and min_p > 0.05:
            text += f" (with this few blocks it cannot go below {min_p:.3g})"
        text += "."
    flagged = list(flagged)
    if flagged:
        listed = ", ".join(str(b) for b in flagged)
        text += (f" Block{'s' if len(flagged) > 1 else ''} {listed} did not follow the "
                 "plan well (see adherence); the estimate compares blocks as planned.")
    return text


def _infer_change(schedule: pd.DataFrame, store: Any, routines: Any, shoes: Any) -> str:
    change = schedule.attrs.get("change")
    if change:
        return str(change)
    if routines is not None:
        return "strength"
    if shoes is not None:
        return "shoes"
    return "cadence" if store is not None else "other"


def analyse_experiment(schedule: Any, diary: Any, *, store: Any = None,
                       routines: Any = None, shoes: Any = None,
                       outcome: str = "pain_0_10", carryover_days: int = 3) -> Any:
    """Analyse a runner's A/B experiment: the effect of the change on daily pain.

    Parameters
    ----------
    schedule
        The plan (DataFrame from :func:`plan_experiment` or
        :func:`kneedata.read_experiment`, or the path of the schedule file).
        ``attrs["change"]``/``attrs["target"]`` say what B was; without them the
        change is taken from the logs given (routines: strength; shoes: shoes;
        store: cadence).
    diary
        The pain diary (DataFrame from :func:`kneedata.read_pain_diary` or its path).
        A day's value is its highest entry; days without an entry are left out,
        never taken as pain-free.
    store
        A :class:`kneedata.Store` with the runs, or what :func:`kneedata.derive`
        made of it (cadence and shoe adherence).
    routines, shoes
        The routines log and shoes table (DataFrames or paths), for adherence.
    outcome
        Numeric diary column compared between conditions [0-10 for pain].
    carryover_days
        First days of every block left out of the comparison [days].

    Returns
    -------
    kneedata.ModelResult
        ``model="experiment"``; ``table`` has the row ``B - A`` with ``term,
        estimate`` (difference in mean daily ``outcome``, B minus A, points on the
        0-10 scale), ``ci_low, ci_high`` (95 %), ``p_value`` (AR(1) regression),
        ``p_randomization`` (randomisation test over the allowed block orders),
        ``n_days_a, n_days_b`` (analysed days), ``std_error``, ``ar1_phi``,
        ``estimable`` and ``status`` (``ok``, ``too_few_days``: fewer than
        :data:`MIN_DAYS_PER_CONDITION` analysed days of A or B, ``no_variation``);
        ``ratio_kind`` is ``"difference"``; when
        a block followed the plan poorly, a second row ``B - A (adherent blocks
        only)`` (no randomisation p: leaving blocks out breaks the design).
        ``design`` is the day-by-day frame (:func:`experiment_days`);
        ``settings`` holds ``blocks`` (per block: days, analysed and missing days,
        mean outcome, pain days, episode onsets, adherence), ``verdict`` (plain
        language), ``change``, ``target``, ``carryover_days``, ``randomisation``
        (the scheme) and ``n_orders``.

    Notes
    -----
    The estimate is the coefficient of ``B`` in :math:`y_t = \\mu + \\delta B_t +
    u_t` with AR(1) errors :math:`u_t` (:func:`ar1_regression`) on the analysed
    days. Coverage of its interval and the randomisation test's false-positive
    rate were checked by simulation (README, ``benchmarks/bench_experiment.py``).
    A planned, randomised comparison within one runner: it says what the change
    did for this runner in these weeks, not what it does for others; not medical
    advice.
    """
    from kneedata.io.diary import read_pain_diary
    from kneedata.models.results import ModelResult

    schedule = _as_schedule(schedule)
    diary = read_pain_diary(diary) if not isinstance(diary, pd.DataFrame) else diary
    routines = _as_table(routines, "read_routines")
    shoes = _as_table(shoes, "read_shoes")
    if int(carryover_days) != carryover_days or carryover_days < 0:
        raise ValueError(f"carryover_days={carryover_days!r}: give 0 or a whole number "
                         "of days.")
    change = _infer_change(schedule, store, routines, shoes)
    target = schedule.attrs.get("target")
    days = experiment_days(schedule, _daily_outcome(diary, outcome),
                           carryover_days=int(carryover_days))
    orders, scheme = allowed_orders(schedule["condition"])
    row, fit = effect_row(days, outcome, "B - A", orders)
    blocks = _block_summary(days, schedule, diary, outcome)
    adherence = block_adherence(schedule, change=change, target=target, store=store,
                                routines=routines, shoes=shoes)
    blocks = blocks.merge(adherence.drop(columns="condition"), on="block", how="left")
    flagged = blocks.loc[blocks["adherence_ok"].eq(False).fillna(False), "block"].tolist()
    rows = [row]
    if flagged:
        kept = days.assign(used=days["used"] & ~days["block"].isin(flagged))
        rows.append(effect_row(kept, outcome, "B - A (adherent blocks only)", None)[0])
    n_b = int((schedule["condition"] == "B").sum())
    n_orders = len(orders) - 1
    min_p = (2 if 2 * n_b == len(schedule) else 1) / n_orders
    unit = "points" if outcome == "pain_0_10" else outcome
    verdict = experiment_verdict(row, n_orders=n_orders, min_p=min_p, flagged=flagged,
                                 unit=unit)
    notes = _experiment_warnings(days, blocks, adherence, row, flagged)
    table = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    settings = dict(change=change, target=target, outcome=outcome,
                    carryover_days=int(carryover_days), randomisation=scheme,
                    n_orders=n_orders, blocks=blocks, verdict=verdict,
                    adherence_rule=adherence.attrs.get("rule", ""),
                    n_episodes=int(blocks.get("n_onsets", pd.Series([0])).sum()))
    if "shoe_km" in adherence.attrs:
        settings["shoe_km"] = adherence.attrs["shoe_km"]
    return ModelResult(model="experiment", results=fit.results if fit else None,
                       table=table, warnings=notes, design=days, settings=settings,
                       ratio_kind="difference")


def _experiment_warnings(days: pd.DataFrame, blocks: pd.DataFrame,
                         adherence: pd.DataFrame, row: dict[str, Any],
                         flagged: list[int]) -> list[str]:
    notes = []
    n_missing = int((~days["observed"]).sum())
    if n_missing:
        notes.append(f"{n_missing} of {len(days)} experiment days have no diary entry; "
                     "they are left out (unknown, not pain-free).")
    if not math.isfinite(row["estimate"]):
        notes.append("Too few analysed days in A or B to estimate the effect.")
    empty = blocks.loc[blocks["n_days_used"] == 0, "block"].tolist()
    if empty:
        notes.append(f"Blocks without any analysed day: {', '.join(map(str, empty))}.")
    if flagged:
        notes.append(f"Poor adherence in block(s) {', '.join(map(str, flagged))} "
                     f"({adherence.attrs.get('rule', '')}); the main estimate keeps "
                     "them as planned, the second row leaves them out.")
    unknown = adherence.loc[adherence["adherence_ok"].isna(), "adherence_note"]
    if len(unknown):
        notes.append(f"Adherence unknown for {len(unknown)} block(s): "
                     f"{unknown.iloc[0]}.")
    return notes


# ------------------------------------------------------------ detectable effect
def _history(diary: pd.DataFrame, outcome: str, history_days: int
             ) -> tuple[float, float, float, float, int]:
    """(mean, phi, innovation SD, share of days missing, days) of the pain history."""
    daily = _daily_outcome(diary, outcome)
    if len(daily) < 30:
        raise ValueError(f"The diary has {len(daily)} days with an entry; at least 30 "
                         "are needed to simulate the plan on your own pain history.")
    daily = daily[daily.index > daily.index[-1] - pd.Timedelta(days=history_days)]
    day = (daily.index - daily.index[0]).days.to_numpy()
    span = int(day[-1]) + 1
    y = daily.to_numpy(dtype=float)
    if np.ptp(y) == 0:
        return float(y[0]), 0.0, 0.0, 1 - len(y) / span, span
    beta, _, _, phi, sigma = _fast_fit(day, y, np.ones((len(y), 1)))
    return float(beta[0]), phi, sigma, 1 - len(y) / span, span


def _simulate_design(rng: np.random.Generator, *, mean: float, phi: float, sigma: float,
                     missing: float, block_days: int, n_pairs: int, carryover_days: int,
                     effect: float) -> tuple[float, float, int] | None:
    """One simulated experiment: (estimate, SE, df) or None when not estimable."""
    n = 2 * n_pairs * block_days
    first_b = rng.random(n_pairs) < 0.5
    is_b_block = np.column_stack([first_b, ~first_b]).ravel()
    is_b = np.repeat(is_b_block, block_days)
    e = rng.normal(0.0, sigma, n)
    e[0] /= math.sqrt(1 - phi**2)          # stationary start
    u = signal.lfilter([1.0], [1.0, -phi], e)
    y = np.clip(np.round(mean + u + effect * is_b), 0, 10)
    keep = (rng.random(n) >= missing) & (np.tile(np.arange(block_days), 2 * n_pairs)
                                         >= carryover_days)
    day, y, b = np.flatnonzero(keep), y[keep], is_b[keep]
    if min(b.sum(), (~b).sum()) < MIN_DAYS_PER_CONDITION or np.ptp(y) == 0:
        return None
    beta, se, df, _, _ = _fast_fit(day, y, np.column_stack([np.ones(len(y)), b]))
    return float(beta[1]), float(se[1]), df


def detectable_effects(diary: Any, *, outcome: str = "pain_0_10",
                       block_days: Iterable[int] = (7, 14, 21, 28),
                       n_pairs: Iterable[int] = (2, 3, 4, 6), carryover_days: int = 3,
                       power: float = 0.8, alpha: float = 0.05, n_sim: int = 100,
                       history_days: int = 365, seed: int = 0) -> pd.DataFrame:
    """The smallest effect on daily pain each plan could detect, simulated on your history.

    Parameters
    ----------
    diary
        The pain diary (DataFrame or path); its last ``history_days`` days give the
        level, day-to-day persistence (AR(1) ``phi``), noise and missing days.
    outcome
        Diary column [0-10].
    block_days, n_pairs
        The plans to compare (every combination).
    carryover_days
        Days left out at the start of every block [days].
    power, alpha
        Wanted power and two-sided level of the interval.
    n_sim
        Simulated experiments per plan.
    history_days
        How much of the diary to learn from [days].
    seed
        Seed of the simulation.

    Returns
    -------
    pandas.DataFrame
        One row per plan: ``block_days``, ``n_pairs``, ``weeks``,
        ``analysed_days`` (expected), ``detectable_effect_0_10`` (the smallest
        B - A difference in mean daily pain found with the wanted power [points]),
        ``power_1_point_pct`` (share of simulated experiments with a true 1-point
        drop whose interval excluded 0 [%]). ``attrs`` holds the history's
        ``mean``, ``phi``, ``sigma`` and ``missing_pct``.

    Notes
    -----
    Each simulated experiment draws pain as the history's AR(1) series,
    randomises AB/BA within pairs, rounds to whole points, clips to 0-10, leaves
    out days at the history's missing rate and the carry-over days, and is
    analysed like :func:`analyse_experiment`. The detectable effect is
    :math:`(t_{1-\\alpha/2} + t_{power}) \\cdot \\mathrm{median}(SE)` over the
    no-effect simulations; rounding and the floor at 0 are in the simulated
    power of a 1-point drop (a runner who is mostly pain-free cannot show a
    drop in pain).
    """
    from kneedata.io.diary import read_pain_diary

    diary = read_pain_diary(diary) if not isinstance(diary, pd.DataFrame) else diary
    mean, phi, sigma, missing, _ = _history(diary, outcome, history_days)
    rng = np.random.default_rng(seed)
    rows = []
    for days, pairs in itertools.product(block_days, n_pairs):
        design: dict[str, Any] = dict(mean=mean, phi=phi, sigma=sigma, missing=missing,
                      block_days=int(days), n_pairs=int(pairs),
                      carryover_days=int(carryover_days))
        null = [_simulate_design(rng, effect=0.0, **design) for _ in range(n_sim)]
        drop = [_simulate_design(rng, effect=-1.0, **design) for _ in range(n_sim)]
        fits = [f for f in null if f is not None]
        if fits:
            se = float(np.median([f[1] for f in fits]))
            df = int(np.median([f[2] for f in fits]))
            mde = (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se
        else:
            mde = math.nan
        q = {f[2]: stats.t.ppf(1 - alpha / 2, f[2]) for f in drop if f is not None}
        hits = [f is not None and f[0] + q[f[2]] * f[1] < 0 for f in drop]
        rows.append(dict(block_days=int(days), n_pairs=int(pairs),
                         weeks=2 * int(pairs) * int(days) / 7,
                         analysed_days=round(2 * int(pairs) * (int(days) - carryover_days)
                                             * (1 - missing)),
                         detectable_effect_0_10=mde,
                         power_1_point_pct=100 * float(np.mean(hits))))
    table = pd.DataFrame(rows)
    table.attrs.update(mean=mean, phi=phi, sigma=sigma, missing_pct=100 * missing)
    return table
