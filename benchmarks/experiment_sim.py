"""An independent generator of N-of-1 experiments: AR(1) daily pain, A/B blocks.

Never imports kneedata, so what it draws is not shaped by the code under test. Used
by ``benchmarks/bench_experiment.py`` and ``tests/test_experiment.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) with marginal SD ``sd`` (loop, no scipy)."""
    u = np.empty(n)
    u[0] = rng.normal(0, sd)
    for t in range(1, n):
        u[t] = phi * u[t - 1] + rng.normal(0, sd * math.sqrt(1 - phi**2))
    return u


def simulated_experiment(rng: np.random.Generator, *, effect: float, phi: float = 0.6,
                         sd: float = 1.2, mean: float = 3.0, block_days: int = 14,
                         n_pairs: int = 4, missing: float = 0.1, start: str = "2026-01-05"
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(schedule, diary): AB/BA pairs, ``effect`` points added on every B day, pain
    rounded to whole points and clipped to 0-10, a share ``missing`` of days left out."""
    first_b = rng.random(n_pairs) < 0.5
    conditions = [c for b in first_b for c in (("B", "A") if b else ("A", "B"))]
    starts = pd.date_range(start, periods=2 * n_pairs, freq=f"{block_days}D")
    schedule = pd.DataFrame({"block": np.arange(1, 2 * n_pairs + 1),
                             "start": starts,
                             "end": starts + pd.Timedelta(days=block_days - 1),
                             "condition": conditions})
    n = 2 * n_pairs * block_days
    is_b = np.repeat(np.array(conditions) == "B", block_days)
    pain = np.clip(np.round(mean + ar1(rng, n, phi, sd) + effect * is_b), 0, 10)
    keep = rng.random(n) >= missing
    dates = pd.date_range(start, periods=n)
    diary = pd.DataFrame({"date": dates[keep], "side": "left", "pain_0_10": pain[keep]})
    return schedule, diary
