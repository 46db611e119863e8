"""gait_metrics on hand-built records whose answers are known, and on real watch files."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from kneedata import DataQualityWarning, SchemaError, read_activities
from kneedata.metrics.gait import gait_metrics
from kneedata.schema import GAIT, TABLES


class Runs(NamedTuple):
    """What gait_metrics takes: records by activity_id, and the activities table."""

    records: dict[str, pd.DataFrame]
    activities: pd.DataFrame


def _records(segments, *, start="2024-05-01 07:00", altitude_grade=0.0, **constant) -> pd.DataFrame:
    """1 Hz moving samples; ``segments`` = [(seconds, speed_m_s, cadence_spm), ...]."""
    speed = np.concatenate([np.full(n, v, dtype=float) for n, v, _ in segments])
    cadence = np.concatenate([np.full(n, c, dtype=float) for n, _, c in segments])
    distance = np.cumsum(speed) - speed[0]
    index = pd.date_range(start, periods=len(speed), freq="s", tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {"distance_m": distance, "speed_m_s": speed, "cadence_spm": cadence,
         "altitude_m": 100.0 + altitude_grade * distance},
        index=index,
    )
    for name, value in constant.items():
        frame[name] = value
    frame["moving"] = True
    return frame


def _store(runs: dict[str, pd.DataFrame]) -> Runs:
    # one run a day from 1 May 2024, in the order given
    summaries = [
        {"activity_id": aid, "sport": "running", "local_date": dt.date(2024, 5, 1 + i)}
        for i, aid in enumerate(runs)
    ]
    return Runs(runs, pd.DataFrame(summaries))


# --------------------------------------------------------------------- hand-built
def test_micro_run_by_hand():
    # 10 min at 3 m/s and 180 steps/min -> step length 3 x 60 / 180 = 1.0 m;
    # duty factor 250 ms x 180 / 120000 = 0.375; vertical ratio 80 mm / 1000 mm = 8 %;
    # balance 48 % left -> asymmetry 2 %; flat -> no descent, no downhill time
    rec = _records([(600, 3.0, 180.0)], stance_time_ms=250.0, vertical_oscillation_mm=80.0,
                   stance_time_balance_pct=48.0, step_length_m=1.0)
    out = gait_metrics(*_store({"a": rec}), height_m=1.80)
    row = out.iloc[0]
    assert row["cadence_moving_spm"] == pytest.approx(180.0)
    assert row["speed_moving_m_s"] == pytest.approx(3.0)
    assert row["step_length_m"] == pytest.approx(1.0)
    assert row["watch_step_length_m"] == pytest.approx(1.0)
    assert row["step_length_height_ratio"] == pytest.approx(1.0 / 1.80)
    assert row["step_length_leg_ratio"] == pytest.approx(1.0 / (0.53 * 1.80))
    assert row["duty_factor"] == pytest.approx(0.375)
    assert row["vertical_ratio_pct"] == pytest.approx(8.0)
    assert row["stance_balance_asym_pct"] == pytest.approx(2.0)
    assert row["cadence_drift_pct"] == pytest.approx(0.0)
    assert row["descent_m"] == pytest.approx(0.0) and row["downhill_time_s"] == 0.0
    # the first sample stands for the interval after it: 600 samples x 1 s
    assert row["moving_time_s"] == pytest.approx(600.0)
    assert list(out.columns) == list(GAIT)


def test_leg_length_given_wins():
    rec = _records([(300, 3.0, 180.0)])
    out = gait_metrics(*_store({"a": rec}), height_m=1.80, leg_length_m=0.9)
    assert out["step_length_leg_ratio"].iloc[0] == pytest.approx(1.0 / 0.9)
    assert out.attrs["leg_length_source"] == "given"


def test_cadence_drift_and_pauses_not_moving():
    # thirds of the cadence time: 170 spm then 180 then 187 -> drift (187/170 - 1) = +10 %
    rec = _records([(300, 3.0, 170.0), (300, 3.0, 180.0), (300, 3.0, 187.0)])
    rec.iloc[100:160, rec.columns.get_loc("moving")] = False  # a stop: left out
    rec.iloc[100:160, rec.columns.get_loc("cadence_spm")] = 0.0
    out = gait_metrics(*_store({"a": rec}))
    # the stop shifts the thirds by 60 s: first third = 240 s at 170 + 40 s at 180 ...
    # so compute the expected means from the same definition by hand:
    first = (240 * 170 + 40 * 180) / 280
    last = 187.0
    assert out["cadence_drift_pct"].iloc[0] == pytest.approx((last / first - 1) * 100)
    assert out["moving_time_s"].iloc[0] == pytest.approx(840.0)


def test_downhill_time_and_descent():
    # 600 s at 3 m/s flat, then 600 s at 3 m/s down a -10 % grade (180 m of descent)
    flat = _records([(600, 3.0, 175.0)])
    down = _records([(600, 3.0, 175.0)], start="2024-05-01 07:10")
    down["distance_m"] += flat["distance_m"].iloc[-1] + 3.0
    down["altitude_m"] = 100.0 - 0.10 * (down["distance_m"] - down["distance_m"].iloc[0] + 3.0)
    rec = pd.concat([flat, down])
    out = gait_metrics(*_store({"a": rec}))
    # the +-25 m smoothing rounds the corner: allow the ~17 s (50 m) around it
    assert out["downhill_time_s"].iloc[0] == pytest.approx(600.0, abs=17.0)
    # the smoothed altitude loses up to 25 m x 10 % = 2.5 m at each end of the slope
    assert out["descent_m"].iloc[0] == pytest.approx(180.0, abs=2.6)


def test_speed_matched_cadence_against_the_trailing_line():
    # the runner's line: cadence = 120 + 15 x speed. Ten daily runs on the line (5 min
    # at 2.5 m/s + 5 min at a speed from 2.6 to 3.5 m/s), then an 11th run 6 steps/min
    # below it. Steady stretches exclude +-15 s around the pace change, so each run's
    # point is the time-weighted mean of two points on the line: on the line itself
    # only if the two halves weigh the same (they do: 285 s each), so runs 1-10 read 0 %
    runs = {}
    speeds = np.linspace(2.6, 3.5, 10)
    for i, v2 in enumerate([*speeds, 3.0]):
        offset = -6.0 if i == 10 else 0.0
        segs = [(300, 2.5, 120 + 15 * 2.5 + offset), (300, v2, 120 + 15 * v2 + offset)]
        runs[f"run{i:02d}"] = _records(segs, start=f"2024-05-{i + 1:02d} 07:00")
    out = gait_metrics(*_store(runs))
    assert out["form_basis"].eq("steady").all()
    # warm-up: the first 10 runs have fewer than 10 earlier runs
    assert out["cadence_deviation_pct"].iloc[:10].isna().all()
    assert out["n_baseline_runs"].tolist() == list(range(11))
    assert "warm-up: 0 of 10 runs" in out["gait_missing_reason"].iloc[0]
    last = out.iloc[10]
    # point: mean speed (2.5 + 3.0) / 2 = 2.75 m/s; usual cadence 120 + 15 x 2.75 = 161.25.
    # The window's run speeds (2.55-3.0 m/s, SD 0.14) let the prior slope (10) pull the
    # slope by ~11 %; 2.75 m/s is 0.025 m/s from their mean: < 0.02 steps/min off
    assert last["form_speed_m_s"] == pytest.approx(2.75, abs=1e-6)
    assert last["baseline_cadence_spm"] == pytest.approx(161.25, abs=0.02)
    assert last["cadence_deviation_pct"] == pytest.approx(-6 / 161.25 * 100, abs=0.02)
    # step length at the same speed: 60 v / c -> (161.25 / 155.25 - 1) x 100 = +3.86 %
    assert last["step_length_deviation_pct"] == pytest.approx((161.25 / 155.25 - 1) * 100,
                                                              abs=0.02)
    line = out.attrs["cadence_speed_line"]
    assert line["window_days"] == 180 and line["n_runs"] == 11
    # a 5-day window holds the 5 runs of days 6-10 (points at 2.8-3.0 m/s, SD 0.07: the
    # prior slope weighs ~1/3, and 2.75 m/s lies below them): -3.72 % within 0.2 points
    short = gait_metrics(*_store(runs), baseline_days=5, min_baseline_runs=5)
    assert short["n_baseline_runs"].iloc[10] == 5
    assert short["cadence_deviation_pct"].iloc[10] == pytest.approx(-6 / 161.25 * 100, abs=0.2)


def test_hilly_run_falls_back_to_the_whole_run():
    hilly = _records([(600, 3.0, 170.0)], altitude_grade=0.06)  # 6 % climb: not flat
    flat = _records([(600, 3.0, 170.0)], start="2024-05-02 07:00")
    short = _records([(90, 3.0, 170.0)], start="2024-05-03 07:00", altitude_grade=0.06)
    out = gait_metrics(*_store({"hilly": hilly, "flat": flat, "short": short}))
    assert out["form_basis"].tolist()[:2] == ["whole_run", "steady"]
    assert out["form_cadence_spm"].iloc[:2].tolist() == pytest.approx([170.0, 170.0])
    # 90 s of running is under the 120 s the fallback needs: no figure, and it says why
    assert pd.isna(out["form_basis"].iloc[2]) and np.isnan(out["form_speed_m_s"].iloc[2])
    assert "under 120 s of running" in out["gait_missing_reason"].iloc[2]
    assert "warm-up" in out["gait_missing_reason"].iloc[1]


def test_missing_inputs_give_nan_and_reasons():
    no_cadence = _records([(300, 3.0, np.nan)], stance_time_ms=250.0)
    no_altitude = _records([(300, 3.0, 170.0)], start="2024-05-02 07:00").assign(altitude_m=np.nan)
    empty = _records([(1, 3.0, 170.0)], start="2024-05-03 07:00").iloc[:0]
    out = gait_metrics(*_store({"nc": no_cadence, "na": no_altitude, "empty": empty}))
    out = out.set_index("activity_id")
    assert np.isnan(out.loc["nc", "cadence_moving_spm"]) and np.isnan(out.loc["nc", "step_length_m"])
    assert np.isnan(out.loc["nc", "duty_factor"])  # needs cadence
    assert out.loc["nc", "gait_missing_reason"].startswith("no cadence")
    assert np.isnan(out.loc["na", "descent_m"]) and np.isnan(out.loc["na", "downhill_time_s"])
    assert "no altitude" in out.loc["na", "gait_missing_reason"]
    assert "no running dynamics" in out.loc["na", "gait_missing_reason"]
    assert out.loc["empty", "gait_missing_reason"] == "no records"
    assert np.isnan(out.loc["empty", "speed_moving_m_s"])


def test_speed_from_distance_when_speed_absent():
    rec = _records([(300, 2.5, 160.0)]).assign(speed_m_s=np.nan)
    out = gait_metrics(*_store({"a": rec}))
    # 2.5 m/s x 60 / 160 = 0.9375 m
    assert out["step_length_m"].iloc[0] == pytest.approx(0.9375)


def test_bad_arguments_and_records():
    rec = _records([(60, 3.0, 170.0)])
    with pytest.raises(ValueError, match="height_m=180"):
        gait_metrics(*_store({"a": rec}), height_m=180)
    with pytest.raises(SchemaError, match="DatetimeIndex"):
        gait_metrics(*_store({"a": rec.reset_index(drop=True)}))


def test_inputs_unchanged_and_schema():
    rec = _records([(300, 3.0, 170.0)], stance_time_ms=240.0)
    before = rec.copy(deep=True)
    runs = _store({"a": rec})
    acts_before = runs.activities.copy(deep=True)
    gait_metrics(*runs, height_m=1.7)
    pd.testing.assert_frame_equal(rec, before)
    pd.testing.assert_frame_equal(runs.activities, acts_before)
    assert TABLES["gait"] is GAIT
    out = gait_metrics(*runs)
    assert {k: str(v) for k, v in out.dtypes.items()} == {k: c.dtype for k, c in GAIT.items()}


# --------------------------------------------------------------------- real files
STEP_FILES = ["2019-09-07-11-22-19.fit", "Fr955v19.28andStryd.fit", "6860622783.fit"]


@functools.cache
def _read(path: str) -> list:
    """Each real file is decoded once per test process (gait_metrics never modifies it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return read_activities(path)


def _real_store(real_data, names) -> Runs:
    summaries, records = [], {}
    for name in names:
        for act in _read(str(real_data / "fit" / name)):
            if act.summary["sport"] != "running":
                continue
            summary = act.summary.to_dict()
            summary["file"] = name
            summaries.append(summary)
            records[summary["activity_id"]] = act.records
    return Runs(records, pd.DataFrame(summaries))


def _steady(records: pd.DataFrame) -> pd.DataFrame:
    """Moving samples with watch step length inside +-15 s windows of steady speed (CV < 3 %)."""
    speed = records["speed_m_s"]
    roll = speed.rolling("31s", center=True)
    cv = roll.std() / roll.mean()
    keep = (records["moving"] & (records["cadence_spm"] > 0) & (records["step_length_m"] > 0)
            & (cv < 0.03))
    return records.loc[keep]


@pytest.mark.real_data
@pytest.mark.parametrize("name", STEP_FILES)
def test_step_length_agrees_with_watch_on_steady_segments(real_data, name):
    runs = _real_store(real_data, [name])
    steady = {aid: _steady(rec) for aid, rec in runs.records.items()}
    assert all(len(r) > 100 for r in steady.values())
    out = gait_metrics(steady, runs.activities)
    ratio = out["step_length_m"] / out["watch_step_length_m"]
    # docs/design.md section 3: speed ~ step_length x spm / 60 (ratio 1.00); 3 % allows the
    # watch's 1 mm / 1 spm rounding and GPS-vs-accelerometer speed lag
    np.testing.assert_allclose(ratio.to_numpy(), 1.0, atol=0.03)


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "field", "column", "scale"), [
    ("2019-09-07-11-22-19.fit", "avg_step_length_mm", "step_length_m", 1000.0),
    ("Fr955v19.28andStryd.fit", "avg_step_length_mm", "step_length_m", 1000.0),
    ("2019-09-07-11-22-19.fit", "avg_vertical_ratio_pct", "vertical_ratio_pct", 1.0),
    ("Fr955v19.28andStryd.fit", "avg_vertical_ratio_pct", "vertical_ratio_pct", 1.0),
    ("2019-09-07-11-22-19.fit", "avg_stance_time_balance_pct", "stance_balance_asym_pct", None),
    ("2019-09-07-11-22-19.fit", "avg_stance_time_ms", "stance_time_ms", 1.0),
    ("Fr955v19.28andStryd.fit", "avg_stance_time_ms", "stance_time_ms", 1.0),
    ("2019-09-07-11-22-19.fit", "avg_vertical_oscillation_mm", "vertical_oscillation_mm", 1.0),
    ("Fr955v19.28andStryd.fit", "avg_vertical_oscillation_mm", "vertical_oscillation_mm", 1.0),
])
def test_whole_run_against_watch_session_totals(real_data, name, field, column, scale):
    with open(real_data / "fit_session_summaries.csv", newline="") as fh:
        truth = next(r for r in csv.DictReader(fh) if r["file"] == name and r["sport"] == "running")
    out = gait_metrics(*_real_store(real_data, [name]))
    value = out[column].iloc[0]
    if scale is None:  # asymmetry = |balance - 50|
        assert value == pytest.approx(abs(float(truth[field]) - 50.0), abs=0.05)
    else:
        # the watch averages over timer time incl. stops; ours over moving samples: 2 %
        assert value * scale == pytest.approx(float(truth[field]), rel=0.02)


@pytest.mark.real_data
def test_duty_factor_units_on_real_run(real_data):
    # watch session: 255.9 ms contact, 2 x (81 + 0.8516) = 163.7 steps/min
    # -> 255.9 x 163.7 / 120000 = 0.349 (a fraction of the stride, not a percentage)
    out = gait_metrics(*_real_store(real_data, ["2019-09-07-11-22-19.fit"]))
    assert out["duty_factor"].iloc[0] == pytest.approx(255.9 * 163.7 / 120000, rel=0.02)


@pytest.mark.real_data
def test_speed_matched_form_on_real_runs(real_data):
    # six real runs from 2019-2024 (1 s and smart recording): a window of 100 years and
    # a warm-up of 3 runs, so that runs 4-6 are compared with the earlier ones
    names = ["2019-09-07-11-22-19.fit", "Fr955v19.28andStryd.fit", "6916663933.fit",
             "4077461142.fit", "6782987395.fit", "6860622783.fit"]
    out = gait_metrics(*_real_store(real_data, names), height_m=1.78, baseline_days=36500,
                       min_baseline_runs=3)
    line = out.attrs["cadence_speed_line"]
    # every run gives a form point, most of them from steady flat stretches
    assert out["form_basis"].notna().all() and (out["form_basis"] == "steady").sum() >= 4
    assert line["n_runs"] == len(out) and line["slope_spm_per_m_s"] > 0  # faster -> quicker
    assert out["cadence_deviation_pct"].iloc[:3].isna().all()
    # several watches and runners: within 15 % of the line, not more
    assert out["cadence_deviation_pct"].iloc[3:].abs().lt(15).all()
    # treadmill file (no altitude) keeps its cadence metrics and says what it lacks
    tread = out.loc[out["date"] == pd.Timestamp(dt.date(2020, 2, 2))].iloc[0]
    assert np.isfinite(tread["cadence_moving_spm"]) and "no altitude" in tread["gait_missing_reason"]
    assert tread["form_basis"] == "whole_run"  # no altitude: never "flat", run-level fallback


@pytest.mark.real_data
@pytest.mark.slow
def test_with_the_real_store(real_data, tmp_path):
    # the contract end to end: import real files into a Parquet store, then the
    # metrics read Store.activities() and Store.records_map(); the records round-trip
    # through Parquet must give the same gait numbers as the in-memory reader
    from kneedata import Store

    names = ["2019-09-07-11-22-19.fit", "Fr955v19.28andStryd.fit", "6916663933.fit"]
    store = Store(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        report = store.import_paths([real_data / "fit" / n for n in names], workers=1,
                                    progress=False)
    assert report.counts()["imported"] == 3
    from_store = gait_metrics(store.records_map(), store.activities(),
                              height_m=1.75).set_index("date")
    in_memory = gait_metrics(*_real_store(real_data, names), height_m=1.75).set_index("date")
    cols = ["step_length_m", "cadence_moving_spm", "form_cadence_spm", "descent_m"]
    pd.testing.assert_frame_equal(from_store[cols], in_memory[cols])


def test_gap_in_samples_is_not_counted_as_running_time():
    # 300 s at 1 Hz, a 10-minute gap in the samples (watch paused), 300 s more:
    # the sample after the gap stands for 1 s, not for the gap
    a = _records([(300, 3.0, 170.0)])
    b = _records([(300, 3.0, 170.0)], start="2024-05-01 07:15")
    b["distance_m"] += a["distance_m"].iloc[-1] + 3.0
    out = gait_metrics(*_store({"a": pd.concat([a, b])}))
    assert out["moving_time_s"].iloc[0] == pytest.approx(600.0)


def test_chunking_does_not_change_results(monkeypatch, rng):
    # runs are processed in chunks of samples; chunk edges must not leak between runs
    runs = {}
    for i in range(6):
        n = 400 + 50 * i
        v = 3.0 + 0.3 * np.sin(np.arange(n) / 30) + rng.normal(0, 0.03, n)
        rec = _records([(n, 3.0, 170.0)], start=f"2024-05-0{i + 1} 07:00",
                       altitude_grade=0.0, stance_time_ms=245.0)
        rec["speed_m_s"] = v
        rec["cadence_spm"] = 120 + 15 * v + rng.normal(0, 1.5, n) + i
        rec["distance_m"] = np.cumsum(v)
        rec["altitude_m"] = 50 + 8 * np.sin(rec["distance_m"] / 300)
        runs[f"run{i}"] = rec
    whole = gait_metrics(*_store(runs), min_baseline_runs=3)
    import kneedata.metrics.gait as gait_module

    monkeypatch.setattr(gait_module, "_CHUNK_SAMPLES", 500)  # about one run per chunk
    pd.testing.assert_frame_equal(gait_metrics(*_store(runs), min_baseline_runs=3), whole,
                                  rtol=1e-9)
    assert whole["cadence_deviation_pct"].iloc[3:].notna().all()
