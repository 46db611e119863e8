"""Speed-matched cadence on a runner whose watch records every 10 s (hand-built FIT files).

The runner is made by an independent generator (numpy and the FIT writer only; it
never imports the gait code): a usual cadence-speed line, day-to-day scatter, GPS
speed noise, gentle hills, and two 8-week blocks at 12 steps/min below the line.
The files go through the real FIT reader before :func:`kneedata.gait_metrics`.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from kneedata import DataQualityWarning
from kneedata.io.read import read_activities_bytes
from kneedata.testing.fitwrite import write_activity_fit

START = dt.date(2024, 1, 1)
WEEKS = 70
RUN_WEEKDAYS = (1, 3, 6)  # Tue, Thu, Sun: 3 runs a week
# weeks [start, end): two 8-week blocks, 36 weeks apart, so that each trailing 180-day
# window holds at most one (a change filling over half the window becomes the usual)
BLOCKS = ((12, 20), (48, 56))
BLOCK_OFFSET_SPM = -12.0
SAMPLE_S = 10


def usual_cadence_spm(speed_m_s):
    """The generator's runner: 128 + 12 x speed (164 steps/min at 3 m/s)."""
    return 128.0 + 12.0 * np.asarray(speed_m_s)


def _one_run(rng: np.random.Generator, day: dt.date, offset_spm: float) -> pd.DataFrame:
    """A 30-60 min run sampled every 10 s: a pace, GPS noise, a surge, gentle hills."""
    n = int(rng.integers(180, 361))
    pace = rng.uniform(2.6, 3.6)
    speed = np.full(n, pace)
    surge = int(rng.integers(20, n - 30))
    speed[surge:surge + 12] += 0.6  # two minutes faster: not steady around it
    true_speed = speed.copy()
    speed = speed + rng.normal(0.0, 0.04, n)  # GPS speed noise
    day_offset = rng.normal(0.0, 1.5)  # day-to-day scatter of the runner's form
    cadence = (usual_cadence_spm(true_speed) + offset_spm + day_offset
               + rng.normal(0.0, 1.5, n))
    distance = np.concatenate([[0.0], np.cumsum(true_speed[:-1] * SAMPLE_S)])
    altitude = 80.0 + 6.0 * np.sin(distance / 900.0 * 2 * np.pi)  # <= 4.2 % grade
    start = pd.Timestamp(day).tz_localize("UTC") + pd.Timedelta(hours=6)
    index = pd.date_range(start, periods=n, freq=f"{SAMPLE_S}s", name="timestamp")
    return pd.DataFrame({"distance_m": distance, "speed_m_s": speed,
                         "cadence_spm": cadence, "altitude_m": altitude}, index=index)


def ten_second_runner(seed: int = 7) -> tuple[list[bytes], pd.DataFrame]:
    """FIT files of the runner and the truth (date, in_block) per run."""
    rng = np.random.default_rng(seed)
    files, truth = [], []
    for week in range(WEEKS):
        in_block = any(a <= week < b for a, b in BLOCKS)
        for weekday in RUN_WEEKDAYS:
            day = START + dt.timedelta(days=7 * week + weekday)
            frame = _one_run(rng, day, BLOCK_OFFSET_SPM if in_block else 0.0)
            files.append(write_activity_fit(None, frame, laps=None))
            truth.append({"date": pd.Timestamp(day), "in_block": in_block})
    return files, pd.DataFrame(truth)


def _tables(activities) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """gait_metrics' inputs: records by activity_id, and the activities table."""
    records = {a.summary["activity_id"]: a.records for a in activities}
    return records, pd.DataFrame([a.summary for a in activities])


@functools.cache
def _activities_and_truth():
    files, truth = ten_second_runner()
    acts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        for i, data in enumerate(files):
            acts.extend(read_activities_bytes(data, f"run{i:03d}.fit"))
    return acts, truth


@functools.cache
def _gait_and_truth():
    from kneedata import gait_metrics

    acts, truth = _activities_and_truth()
    return gait_metrics(*_tables(acts)), truth


@pytest.mark.slow
def test_planted_blocks_read_minus_seven_percent_at_10s_sampling():
    gait, truth = _gait_and_truth()
    assert len(gait) == len(truth) == WEEKS * len(RUN_WEEKDAYS)
    np.testing.assert_array_equal(gait["date"].to_numpy(), truth["date"].to_numpy())
    # the records really are 10 s apart, and the steady-segment detection still finds
    # steady flat stretches in almost every run (hills of <= 4.2 %, one surge)
    assert (gait["form_basis"] == "steady").mean() > 0.9
    # every run after the warm-up (10 earlier runs) has a deviation
    after = gait["n_baseline_runs"] >= 10
    assert after.sum() == len(gait) - 10
    assert gait.loc[after, "cadence_deviation_pct"].notna().all()
    assert gait.loc[~after, "cadence_deviation_pct"].isna().all()
    dev = gait["cadence_deviation_pct"]
    block = truth["in_block"].to_numpy()
    # planted: -12 steps/min at ~164 steps/min = -7.3 %; the robust trailing line
    # resists the first block when the second one arrives (within 1 point)
    for a, b in BLOCKS:
        weeks = ((gait["date"] - pd.Timestamp(START)).dt.days // 7).to_numpy()
        inside = (weeks >= a) & (weeks < b)
        assert dev[inside].median() == pytest.approx(-7.3, abs=1.0), (a, b)
    # the rest reads about 0 (day-to-day scatter 1.5 steps/min ~ 0.9 %)
    assert dev[after & ~block].median() == pytest.approx(0.0, abs=0.7)
    assert dev[after & ~block].abs().quantile(0.9) < 3.0
    # step length at matched speed: +7.9 % in the blocks (1 / (1 - 0.073) - 1)
    assert gait.loc[block, "step_length_deviation_pct"].median() == pytest.approx(7.9, abs=1.2)


@pytest.mark.slow
def test_future_runs_never_change_earlier_deviations():
    from kneedata import gait_metrics

    gait, _ = _gait_and_truth()
    acts, _ = _activities_and_truth()
    first_100 = gait_metrics(*_tables(acts[:100]))
    cols = ["cadence_deviation_pct", "step_length_deviation_pct", "baseline_cadence_spm",
            "n_baseline_runs"]
    # the same 100 runs, once alone and once followed by 110 later runs: identical
    pd.testing.assert_frame_equal(first_100[cols], gait[cols].iloc[:100])
