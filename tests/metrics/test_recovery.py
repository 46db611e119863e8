"""The recovery exposures: hand-built nights, the real wellness files, hand-built exports.

Expected values are worked out by hand in the comments (means and SDs of a few
numbers). The export layouts are the ones of tests/io/test_wellness.py (Garmin
account export JSON) and tests/io/test_apple_health.py (Apple Health export.xml),
written here again with a month of days so that the baselines have history.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kneedata as kd
from kneedata import Store
from kneedata.metrics.recovery import (
    MIN_BAND_DAYS,
    MIN_USUAL_DAYS,
    recovery_bands,
    recovery_daily,
    trailing_band,
)

DAYS = pd.date_range("2024-03-01", periods=40, freq="D")


def _wellness(**columns: object) -> pd.DataFrame:
    n = len(next(iter(columns.values())))  # type: ignore[arg-type]
    base = {"date": DAYS[:n], "sleep_duration_h": np.nan, "resting_hr_bpm": np.nan,
            "hrv_rmssd_ms": np.nan, "hrv_sdnn_ms": np.nan}
    base.update(columns)  # type: ignore[arg-type]
    return pd.DataFrame(base)


def _diary(dates: pd.DatetimeIndex, **ratings: object) -> pd.DataFrame:
    return pd.DataFrame({"date": dates, "pain_0_10": 0.0, "timing": "next_morning",
                         "side": "both", "site": "around_kneecap", **ratings})


def test_short_sleep_and_sleep_against_the_usual():
    # 10 nights of 8 h, then one of 6 h: short (< 7 h); 6 - mean(8 x 10) = -2 h
    sleep = [8.0] * 10 + [6.0]
    got = recovery_daily(_wellness(sleep_duration_h=sleep))
    assert got["short_sleep"].tolist() == [False] * 10 + [True]
    # the usual needs 7 known nights before the day: days 0-6 unknown, not 0
    assert got["sleep_vs_usual_h"].iloc[:MIN_USUAL_DAYS].isna().all()
    assert got["sleep_vs_usual_h"].iloc[7:10].tolist() == [0.0, 0.0, 0.0]
    assert got["sleep_vs_usual_h"].iloc[10] == pytest.approx(-2.0)
    assert str(got["short_sleep"].dtype) == "boolean"


def test_a_night_without_sleep_data_is_unknown_not_short():
    got = recovery_daily(_wellness(sleep_duration_h=[8.0, np.nan, 5.0]))
    assert got["short_sleep"].isna().tolist() == [False, True, False]
    assert bool(got["short_sleep"].iloc[2]) is True


def test_baselines_use_past_days_only():
    rng = np.random.default_rng(3)
    sleep = rng.uniform(5, 9, 40)
    rhr = rng.normal(50, 2, 40)
    before = recovery_daily(_wellness(sleep_duration_h=sleep, resting_hr_bpm=rhr))
    later = sleep.copy(), rhr.copy()
    later[0][30:] += 3  # change only days 30..39
    later[1][30:] += 20
    after = recovery_daily(_wellness(sleep_duration_h=later[0], resting_hr_bpm=later[1]))
    pd.testing.assert_frame_equal(before.iloc[:30], after.iloc[:30])
    assert not before.iloc[30:].equals(after.iloc[30:])


def test_the_resting_hr_band_needs_14_past_days():
    # 49, 51, 49, ... : the past days' mean 50, SD about 1.03 -> band up to 51.03
    rhr = [49.0, 51.0] * 10 + [53.0]
    got = recovery_daily(_wellness(resting_hr_bpm=rhr))["resting_hr_high"]
    assert got.iloc[:MIN_BAND_DAYS].isna().all()  # days 0..13: under 14 past days
    # by hand with numpy: above mean + SD (ddof 1, at least 1 bpm) of the days before
    want = [rhr[t] > np.mean(rhr[:t]) + max(np.std(rhr[:t], ddof=1), 1.0)
            for t in range(MIN_BAND_DAYS, 21)]
    assert got.iloc[MIN_BAND_DAYS:].tolist() == want
    assert want[-1] and not want[0]  # 53 is above; 49 after 49, 51, ... is not
    band = recovery_bands(_wellness(resting_hr_bpm=rhr))["resting_hr_bpm"]
    assert band["high"].iloc[20] == pytest.approx(50 + np.std([49, 51] * 10, ddof=1))


def test_hrv_is_banded_on_the_log_scale():
    # ln 60 = 4.094 and ln 66 = 4.190 alternate: the mean's exp is sqrt(60 x 66) = 62.9 ms
    hrv = [60.0, 66.0] * 10 + [50.0]
    band = recovery_bands(_wellness(hrv_rmssd_ms=hrv))["hrv_rmssd_ms"]
    sd = np.std(np.log([60.0, 66.0] * 10), ddof=1)
    assert band["low"].iloc[20] == pytest.approx(np.sqrt(60 * 66) * np.exp(-sd))
    got = recovery_daily(_wellness(hrv_rmssd_ms=hrv))
    assert bool(got["hrv_rmssd_low"].iloc[20]) is True
    assert "hrv_sdnn_low" not in got.columns


def test_sdnn_and_rmssd_are_never_pooled():
    # a Garmin watch (RMSSD) for 30 days, then an Apple Watch (SDNN): the SDNN band
    # starts with no history, whatever the RMSSD said
    rmssd = [70.0, 72.0] * 15 + [np.nan] * 10
    sdnn = [np.nan] * 30 + [40.0] * 10
    got = recovery_daily(_wellness(hrv_rmssd_ms=rmssd, hrv_sdnn_ms=sdnn))
    assert got["hrv_sdnn_low"].iloc[30:].isna().all()  # 10 SDNN days < 14: unknown
    assert got["hrv_rmssd_low"].iloc[30:].isna().all()  # no RMSSD those nights
    assert not got["hrv_rmssd_low"].iloc[14:30].any()


def test_ratings_against_the_usual_and_blank_is_not_rated():
    dates = pd.date_range("2024-03-01", periods=12, freq="D")
    fatigue = [2.0] * 7 + [np.nan, 2.0, 2.0, 2.0, 7.0]
    got = recovery_daily(None, _diary(dates, fatigue_0_10=fatigue))
    assert list(got.columns) == ["fatigue_vs_usual_pts"]
    series = got["fatigue_vs_usual_pts"]
    assert series.iloc[:7].isna().all() and np.isnan(series.iloc[7])  # blank: not rated
    assert series.iloc[11] == pytest.approx(5.0)  # 7 - mean of ten 2s


def test_without_data_there_are_no_recovery_columns():
    assert recovery_daily(None, None).empty
    assert recovery_daily(_wellness(sleep_duration_h=[np.nan] * 3)).columns.empty
    with pytest.raises(ValueError, match="min_days"):
        trailing_band(pd.Series([1.0], index=DAYS[:1]), window_days=3, min_days=4)


# ---- the real wellness files ---------------------------------------------------------


def test_the_real_files_give_unknown_not_false(real_wellness, tmp_path):
    store = Store(tmp_path / "store")
    store.import_paths([real_wellness], workers=1, progress=False)
    wellness = store.wellness()
    diary = _diary(pd.date_range("2024-12-30", "2025-01-03", freq="D"))
    derived = kd.derive(store, diary)
    assert derived.wellness is not None and len(derived.wellness) == len(wellness)
    frame = kd.analysis_frame(derived)
    # two days of resting HR and one night of RMSSD: far from the 14 days a band needs
    assert "resting_hr_high" in frame.columns
    assert frame["resting_hr_high"].isna().all()
    # the sleep files hold no asleep epoch: no sleep exposure at all (not 'short')
    assert "short_sleep" not in frame.columns


# ---- hand-built exports through the store ---------------------------------------------


def _garmin_export(tmp_path: Path) -> Path:
    """30 nights: 7.5 h (7.4/7.6 alternating), RHR 48/50, RMSSD 60/66; night 30: 5 h, 58, 40."""
    sleep, uds, health = [], [], []
    for i, day in enumerate(pd.date_range("2024-03-01", periods=30, freq="D")):
        last = i == 29
        hours = 5.0 if last else (7.4 if i % 2 else 7.6)
        wake = day + pd.Timedelta(hours=6)
        sleep.append({"calendarDate": f"{day:%Y-%m-%d}",
                      "sleepStartTimestampGMT": f"{wake - pd.Timedelta(hours=hours + 0.25):%Y-%m-%dT%H:%M:%S}.0",
                      "sleepEndTimestampGMT": f"{wake:%Y-%m-%dT%H:%M:%S}.0",
                      "sleepTimeSeconds": int(hours * 3600)})
        uds.append({"calendarDate": f"{day:%Y-%m-%d}",
                    "restingHeartRate": 58 if last else (48 if i % 2 else 50)})
        health.append({"calendarDate": f"{day:%Y-%m-%d}",
                       "metrics": [{"type": "HRV", "value": 40.0 if last else (60.0 if i % 2 else 66.0)}]})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("DI_CONNECT/DI-Connect-Wellness/2024-03-01_2024-03-30_9_sleepData.json",
                   json.dumps(sleep))
        z.writestr("DI_CONNECT/DI-Connect-Aggregator/UDSFile_2024-03-01_2024-03-30.json",
                   json.dumps(uds))
        z.writestr("DI_CONNECT/DI-Connect-Wellness/9_healthStatusData.json", json.dumps(health))
    path = tmp_path / "garmin_export.zip"
    path.write_bytes(buffer.getvalue())
    return path


def test_a_garmin_export_gives_the_recovery_exposures(tmp_path):
    store = Store(tmp_path / "store")
    store.import_paths([_garmin_export(tmp_path)], workers=1, progress=False)
    diary = _diary(pd.date_range("2024-03-01", periods=30, freq="D"),
                   fatigue_0_10=[3.0] * 29 + [8.0])
    frame = kd.analysis_frame(kd.derive(store, diary)).set_index("date")
    last = frame.loc["2024-03-30"]
    assert last["sleep_duration_h"] == pytest.approx(5.0)
    assert bool(last["short_sleep"]) is True
    assert last["sleep_vs_usual_h"] == pytest.approx(-2.5)  # 5 - mean(7.4, 7.6, ...) = 7.5
    assert bool(last["resting_hr_high"]) is True and bool(last["hrv_rmssd_low"]) is True
    assert last["fatigue_vs_usual_pts"] == pytest.approx(5.0)
    assert not frame.loc["2024-03-15":"2024-03-29", "resting_hr_high"].any()
    assert "hrv_sdnn_low" not in frame.columns  # a Garmin export holds no SDNN


def _apple_export(tmp_path: Path) -> Path:
    """20 days of SDNN readings 45 and 55 ms (mean 50), day 21: 25 ms; one run on day 21."""
    rows = []
    for i, day in enumerate(pd.date_range("2024-04-01", periods=21, freq="D")):
        values = (25, 25) if i == 20 else (45, 55)
        for hour, value in zip((3, 21), values, strict=True):
            rows.append('<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" '
                        f'sourceName="Watch" unit="ms" startDate="{day:%Y-%m-%d} {hour:02d}:00:00 +0200" '
                        f'endDate="{day:%Y-%m-%d} {hour:02d}:01:00 +0200" value="{value + i % 2}"/>\n')
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_GB">\n'
           ' <ExportDate value="2024-04-25 10:00:00 +0200"/>\n' + "".join(rows) + "</HealthData>\n")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("apple_health_export/export.xml", xml)
    return path


def test_an_apple_export_gives_its_sdnn_band_apart(tmp_path):
    store = Store(tmp_path / "store")
    store.import_paths([_apple_export(tmp_path)], workers=1, progress=False)
    diary = _diary(pd.date_range("2024-04-01", periods=21, freq="D"))
    frame = kd.analysis_frame(kd.derive(store, diary)).set_index("date")
    assert "hrv_rmssd_low" not in frame.columns  # Apple's SDNN is never an RMSSD
    assert frame.loc["2024-04-01":"2024-04-14", "hrv_sdnn_low"].isna().all()
    assert not frame.loc["2024-04-15":"2024-04-20", "hrv_sdnn_low"].any()
    assert bool(frame.loc["2024-04-21", "hrv_sdnn_low"]) is True


def test_run_features_carry_the_night_before_the_run():
    acts = pd.DataFrame({"activity_id": ["a", "b"], "sport": ["running"] * 2,
                         "local_date": pd.to_datetime(["2024-03-09", "2024-03-11"]),
                         "distance_m": [5000.0, 6000.0], "timer_time_s": [1800.0, 2100.0],
                         "avg_heart_rate_bpm": [150.0, 148.0]})
    well = _wellness(sleep_duration_h=[8.0] * 10 + [6.0])
    with pytest.warns(kd.DataQualityWarning):  # HR bounds estimated
        derived = kd.derive(acts, _diary(DAYS[:11]), wellness=well)
    features = kd.run_features(derived).set_index("activity_id")
    assert bool(features.loc["a", "short_sleep"]) is False
    assert bool(features.loc["b", "short_sleep"]) is True
    assert features.loc["b", "sleep_vs_usual_h"] == pytest.approx(-2.0)
    assert features["hrv_rmssd_low"].isna().all()  # no HRV: unknown, not False
