"""Garmin wellness: the real FIT files, hand-made FIT files and a hand-made account export.

The expectations for the real files are computed here with fitdecode directly (not
through kneedata). The export's JSON layout (file names and fields) follows public
open-source readers of Garmin's "Export Your Data" archive (found by searching public
code for ``DI-Connect-Wellness``; several independent ingest scripts, written against
their authors' own exports, agree on these names; one notes that the sleep file gives
the stage seconds and not always a total, and that ``healthStatusData`` onboarding rows
carry no value): they read ``DI_CONNECT/DI-Connect-Wellness/*_sleepData.json`` (``calendarDate``,
``sleepStartTimestampGMT``/``sleepEndTimestampGMT`` as zone-less GMT text, stage
seconds, ``sleepScores.overallScore``, ``napList``),
``DI_CONNECT/DI-Connect-Aggregator/UDSFile_*.json`` (``restingHeartRate``,
``allDayStress.aggregatorList[type=TOTAL].averageStressLevel``,
``bodyBattery.bodyBatteryStatList[bodyBatteryStatType=HIGHEST].statsValue``),
``*_healthStatusData.json`` (``metrics[type=HRV].value``) and
``DI-Connect-Metrics/TrainingReadinessDTO_*.json`` (``score``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import fitdecode
import numpy as np
import pandas as pd
import pytest

from kneedata import Store
from kneedata.errors import FileFormatError
from kneedata.io import fit as fit_module
from kneedata.io.wellness import read_wellness, read_wellness_bytes
from kneedata.testing.fitwrite import FitWriter

UTC = dt.timezone.utc


def _messages(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                out.setdefault(frame.name, []).append({f.name: f.value for f in frame.fields})
    return out


# ---- the real files ------------------------------------------------------------------


def test_real_monitoring_files_give_the_resting_hr_and_stress_they_hold(real_wellness):
    for name in ("HealthMonitoringStressDay.fit", "HealthMonitoringStressFullDay.fit"):
        path = real_wellness / name
        msgs = _messages(path)
        info = msgs["monitoring_info"][0]
        offset = info["local_timestamp"] - info["timestamp"]
        items = read_wellness(str(path))
        rhr = items[items["kind"] == "resting_hr"]
        want = [m["current_day_resting_heart_rate"] for m in msgs["monitoring_hr_data"]]
        assert rhr["value"].tolist() == want
        assert (rhr["utc_offset_min"] == offset.total_seconds() / 60).all()
        # stress: the mean of the measured samples (0-100) of each local day
        samples = pd.DataFrame([(m["stress_level_time"], m["stress_level_value"]) for m in msgs["stress_level"]],
                               columns=["t", "v"])
        samples = samples[(samples["v"] >= 0) & (samples["v"] <= 100)]
        days = (samples["t"] + offset).dt.date.astype(str)
        want_stress = samples.groupby(days)["v"].agg(["mean", "size"])
        stress = items[items["kind"] == "stress_avg"].set_index("local_date")
        assert stress.index.tolist() == want_stress.index.tolist()
        assert np.allclose(stress["value"], want_stress["mean"])
        assert stress["weight"].tolist() == want_stress["size"].tolist()


def test_real_hrv_status_file_gives_the_overnight_rmssd(real_wellness):
    path = real_wellness / "HealthHrvOvernight.fit"
    summary = _messages(path)["hrv_status_summary"][0]
    items = read_wellness(str(path))
    assert items["kind"].tolist() == ["hrv_rmssd"]
    assert items["value"].iloc[0] == summary["last_night_average"]
    assert items["end_utc"].iloc[0] == pd.Timestamp(summary["timestamp"])


def test_real_sleep_files_without_an_asleep_epoch_say_so(real_wellness):
    for name in ("HealthSleepFullNight.fit", "HealthSleepOvernight.fit"):
        path = real_wellness / name
        levels = {m["sleep_level"] for m in _messages(path)["sleep_level"]}
        got = read_wellness_bytes(path.read_bytes(), str(path))
        if levels <= {"awake", "unmeasurable"}:  # what these two files hold
            assert len(got.items) == 0
            assert "none asleep" in got.summary
        else:
            assert (got.items["kind"] == "sleep").sum() == 1


def test_fitfast_and_fitdecode_read_the_same_items(real_wellness, monkeypatch):
    if fit_module.fitfast_module() is None:
        pytest.skip("fitfast is not installed: only fitdecode reads the files")
    fast = {p.name: read_wellness(str(p)) for p in sorted(real_wellness.glob("*.fit"))}
    monkeypatch.setattr(fit_module, "fitfast_module", lambda: None)
    for p in sorted(real_wellness.glob("*.fit")):
        slow = read_wellness(str(p))
        pd.testing.assert_frame_equal(fast[p.name].reset_index(drop=True), slow.reset_index(drop=True),
                                      check_dtype=False)


def test_the_real_files_import_as_wellness(real_wellness, tmp_path):
    store = Store(tmp_path / "store")
    report = store.import_paths([real_wellness], workers=1, progress=False)
    rows = {Path(r["path"]).name: r for r in report.rows}
    for name in ("HealthHrvOvernight.fit", "HealthMonitoringStressDay.fit", "HealthMonitoringStressFullDay.fit",
                 "HealthSleepFullNight.fit", "HealthSleepOvernight.fit"):
        assert rows[name]["status"] == "imported", rows[name]
        assert rows[name]["reason"].startswith("Garmin wellness FIT")
    assert "resting HR" in rows["HealthMonitoringStressDay.fit"]["reason"]
    assert store.activities().empty
    days = store.wellness().set_index("date")
    # 2025-01-01 local: the last resting HR written that day (08:59 local) is 54
    assert days.loc["2025-01-01", "resting_hr_bpm"] == 54
    assert days.loc["2026-05-22", "hrv_rmssd_ms"] == 48
    assert np.isnan(days["hrv_sdnn_ms"]).all()
    assert set(days["source"]) == {"garmin"}
    again = store.import_paths([real_wellness], workers=1, progress=False)
    assert {r["status"] for r in again.rows} == {"unchanged"}
    pd.testing.assert_frame_equal(store.wellness(), days.reset_index())


# ---- hand-made FIT files -------------------------------------------------------------


def _t(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def _sleep_file(levels: list[tuple[dt.datetime, int]], *, score: int | None = None) -> bytes:
    w = FitWriter()
    w.file_id(type=49, manufacturer="garmin", product=3110, serial_number=7, time_created=levels[0][0])
    for t, level in levels:
        w.message("sleep_level", timestamp=t, sleep_level=level)
    if score is not None:
        w.message("sleep_assessment", overall_sleep_score=score)
    return w.to_bytes()


def _minutes(runs: list[tuple[dt.datetime, dt.datetime, int]]) -> list[tuple[dt.datetime, int]]:
    """One sleep_level message a minute, as the real files write them (level repeated)."""
    out = []
    for start, end, level in runs:
        t = start
        while t < end:
            out.append((t, level))
            t += dt.timedelta(minutes=1)
    return out


def test_a_sleep_file_counts_light_deep_and_rem_as_asleep():
    # awake 22:00-22:30, light 22:30-01:00, deep 01:00-02:00, rem 02:00-05:30, awake 05:30-06:00
    levels = _minutes([(_t(22, 0, 1), _t(22, 30, 1), 1), (_t(22, 30, 1), _t(1), 2), (_t(1), _t(2), 3),
                       (_t(2), _t(5, 30), 4), (_t(5, 30), _t(6), 1)])
    got = read_wellness_bytes(_sleep_file(levels, score=81), "night.fit")
    sleep = got.items[got.items["kind"] == "sleep"].iloc[0]
    assert sleep["value"] == pytest.approx(2.5 + 1 + 3.5)  # awake epochs are not sleep
    assert sleep["start_utc"] == pd.Timestamp(_t(22, 30, 1))
    assert sleep["end_utc"] == pd.Timestamp(_t(5, 30))
    assert got.items.loc[got.items["kind"] == "sleep_score", "value"].tolist() == [81]


def test_a_gap_in_the_sleep_levels_is_not_counted_as_sleep():
    # light at 23:00, the next message 3 h later: the epoch is capped at 30 min
    levels = [(_t(23, 0, 1), 2), (_t(2), 3), (_t(2, 30), 1)]
    got = read_wellness_bytes(_sleep_file(levels), "gap.fit")
    assert got.items["value"].iloc[0] == pytest.approx(1.0)


def _monitoring_file(day: int, offset_h: int, rhr: int, stress: list[int]) -> bytes:
    t0 = _t(6, 0, day)
    w = FitWriter()
    w.file_id(type=32, manufacturer="garmin", product=3110, serial_number=7, time_created=t0)
    w.message("monitoring_info", timestamp=t0, local_timestamp=t0 + dt.timedelta(hours=offset_h))
    w.message("monitoring_hr_data", timestamp=t0, resting_heart_rate=rhr + 2, current_day_resting_heart_rate=rhr)
    for i, v in enumerate(stress):
        w.message("stress_level", stress_level_value=v, stress_level_time=t0 + dt.timedelta(minutes=3 * i))
    return w.to_bytes()


def test_monitoring_stress_leaves_out_unmeasured_samples():
    got = read_wellness_bytes(_monitoring_file(2, -5, 48, [20, -1, 40, -2, 30]), "m.fit")
    stress = got.items[got.items["kind"] == "stress_avg"].iloc[0]
    assert stress["value"] == 30 and stress["weight"] == 3
    assert stress["local_date"] == "2024-03-02" and stress["utc_offset_min"] == -300
    assert got.items.loc[got.items["kind"] == "resting_hr", "value"].tolist() == [48]


def test_a_damaged_wellness_file_keeps_what_came_before(monkeypatch):
    data = _monitoring_file(2, 1, 50, [10] * 50)
    got = read_wellness_bytes(data[: len(data) // 2], "cut.fit")
    assert got.items.loc[got.items["kind"] == "resting_hr", "value"].tolist() == [50]
    assert any("stopped" in n for n in got.notes)


def test_a_file_that_is_not_wellness_is_refused_by_read_wellness(tmp_path):
    w = FitWriter()
    w.file_id(type="settings", manufacturer="garmin", product=1, serial_number=1, time_created=_t(6))
    path = tmp_path / "settings.fit"
    path.write_bytes(w.to_bytes())
    with pytest.raises(FileFormatError, match="not a Garmin wellness file"):
        read_wellness(str(path))


# ---- a hand-made Garmin account export -----------------------------------------------


def _export(tmp_path: Path, *, broken_sleep: bool = False) -> Path:
    sleep = [
        {"calendarDate": "2024-03-02", "sleepStartTimestampGMT": "2024-03-01T22:10:00.0",
         "sleepEndTimestampGMT": "2024-03-02T05:40:00.0", "deepSleepSeconds": 5400,
         "lightSleepSeconds": 14400, "remSleepSeconds": 5400, "awakeSleepSeconds": 1800,
         "sleepScores": {"overallScore": 77, "qualityScore": 70},
         "napList": [{"napStartTimestampGMT": "2024-03-02T13:00:00.0",
                      "napEndTimestampGMT": "2024-03-02T13:30:00.0"}]},
        {"calendarDate": "2024-03-03", "sleepStartTimestampGMT": "2024-03-02T23:00:00.0",
         "sleepEndTimestampGMT": "2024-03-03T04:00:00.0", "deepSleepSeconds": 3600,
         "lightSleepSeconds": 10800, "remSleepSeconds": 3600, "sleepScores": {"overallScore": 55}},
        {"calendarDate": "2024-03-04", "sleepWindowConfirmationType": "OFF_WRIST"},  # no stages
    ]
    uds = [
        {"calendarDate": "2024-03-02", "restingHeartRate": 47,
         "allDayStress": {"aggregatorList": [{"type": "TOTAL", "averageStressLevel": 31},
                                             {"type": "AWAKE", "averageStressLevel": 38}]},
         "bodyBattery": {"bodyBatteryStatList": [{"bodyBatteryStatType": "HIGHEST", "statsValue": 88},
                                                 {"bodyBatteryStatType": "LOWEST", "statsValue": 20}]}},
        {"calendarDate": "2024-03-03", "restingHeartRate": 52,
         "allDayStress": {"aggregatorList": [{"type": "TOTAL", "averageStressLevel": -1}]}},
    ]
    health = [{"calendarDate": "2024-03-02", "metrics": [{"type": "HRV", "value": 61.0},
                                                        {"type": "HR", "value": 49.0}]}]
    readiness = [{"calendarDate": "2024-03-02", "timestamp": "2024-03-02T06:00:00.0", "score": 40},
                 {"calendarDate": "2024-03-02", "timestamp": "2024-03-02T07:00:00.0", "score": 64}]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("DI_CONNECT/DI-Connect-Wellness/2024-02-20_2024-05-30_123_sleepData.json",
                   json.dumps(sleep)[:-40] if broken_sleep else json.dumps(sleep))
        z.writestr("DI_CONNECT/DI-Connect-Aggregator/UDSFile_2024-02-20_2024-05-30.json", json.dumps(uds))
        z.writestr("DI_CONNECT/DI-Connect-Wellness/123_healthStatusData.json", json.dumps(health))
        z.writestr("DI_CONNECT/DI-Connect-Metrics/TrainingReadinessDTO_20240220_20240530_123.json",
                   json.dumps(readiness))
        # the watch's own FIT file of 2024-03-02 (resting HR 50): the export's daily figure wins
        z.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/wellness/123_WELLNESS.fit",
                   _monitoring_file(2, -5, 50, [25, 35]))
    path = tmp_path / "garmin_export.zip"
    path.write_bytes(inner.getvalue())
    return path


def test_a_garmin_export_imports_its_wellness_json(tmp_path):
    store = Store(tmp_path / "store")
    report = store.import_paths([_export(tmp_path)], workers=1, progress=False)
    status = {r["path"].rsplit("/", 1)[-1]: r for r in report.rows}
    for name in ("2024-02-20_2024-05-30_123_sleepData.json", "UDSFile_2024-02-20_2024-05-30.json",
                 "123_healthStatusData.json", "TrainingReadinessDTO_20240220_20240530_123.json",
                 "123_WELLNESS.fit"):
        assert status[name]["status"] == "imported", status[name]
    assert "1 of 3 entries held nothing" in status["2024-02-20_2024-05-30_123_sleepData.json"]["reason"]
    days = store.wellness().set_index("date")
    d2, d3 = days.loc["2024-03-02"], days.loc["2024-03-03"]
    assert d2["sleep_duration_h"] == pytest.approx(7.0) and d2["sleep_score"] == 77
    assert d2["nap_duration_h"] == pytest.approx(0.5)  # the nap is apart
    assert d2["resting_hr_bpm"] == 47  # the export's daily figure, not the FIT file's 50
    assert d2["stress_avg"] == 31 and d2["body_battery_max"] == 88
    assert d2["hrv_rmssd_ms"] == 61 and np.isnan(d2["hrv_sdnn_ms"])
    assert d2["training_readiness"] == 64  # the last of the day
    assert d2["wake_utc"] == pd.Timestamp("2024-03-02T05:40:00", tz="UTC")
    assert d3["sleep_duration_h"] == pytest.approx(5.0) and d3["nap_duration_h"] == 0
    assert np.isnan(d3["stress_avg"])  # -1: too little data
    assert "2024-03-04" not in days.index.strftime("%Y-%m-%d")


def test_a_broken_json_file_fails_alone_with_where(tmp_path):
    store = Store(tmp_path / "store")
    report = store.import_paths([_export(tmp_path, broken_sleep=True)], workers=1, progress=False)
    status = {r["path"].rsplit("/", 1)[-1]: r for r in report.rows}
    bad = status["2024-02-20_2024-05-30_123_sleepData.json"]
    assert bad["status"] == "failed" and "not valid JSON (line 1, column" in bad["reason"]
    assert status["UDSFile_2024-02-20_2024-05-30.json"]["status"] == "imported"
    days = store.wellness().set_index("date")
    assert days.loc["2024-03-02", "resting_hr_bpm"] == 47 and np.isnan(days.loc["2024-03-02", "sleep_duration_h"])


def test_an_empty_store_has_a_typed_empty_wellness_table(tmp_path):
    from kneedata.schema import WELLNESS

    store = Store(tmp_path / "store")
    store.import_paths([], workers=1, progress=False)
    got = store.wellness()
    assert got.empty and list(got.columns) == list(WELLNESS)


def test_loose_export_json_files_import_too(tmp_path):
    # Z-suffixed GMT times, no sleepTimeSeconds (stage seconds only), an HRV metric still onboarding (no value)
    folder = tmp_path / "DI-Connect-Wellness"
    folder.mkdir()
    (folder / "1_sleepData.json").write_text(json.dumps([
        {"calendarDate": "2024-05-10", "sleepStartTimestampGMT": "2024-05-09T21:30:00Z",
         "sleepEndTimestampGMT": "2024-05-10T04:00:00Z", "deepSleepSeconds": 3600,
         "lightSleepSeconds": 12600, "remSleepSeconds": 5400, "awakeSleepSeconds": 1800}]))
    (folder / "1_healthStatusData.json").write_text(json.dumps([
        {"calendarDate": "2024-05-10", "metrics": [{"type": "HRV", "value": None, "status": "ONBOARDING"}]},
        {"calendarDate": "2024-05-11", "metrics": [{"type": "HRV", "value": 52}]}]))
    store = Store(tmp_path / "store")
    report = store.import_paths([folder], workers=1, progress=False)
    status = {Path(r["path"]).name: r for r in report.rows}
    assert status["1_sleepData.json"]["status"] == "imported"
    assert "1 of 2 entries held nothing" in status["1_healthStatusData.json"]["reason"]
    days = store.wellness().set_index("date")
    assert days.loc["2024-05-10", "sleep_duration_h"] == pytest.approx(6.0)
    assert days.loc["2024-05-10", "sleep_start_utc"] == pd.Timestamp("2024-05-09T21:30:00", tz="UTC")
    assert np.isnan(days.loc["2024-05-10", "hrv_rmssd_ms"]) and days.loc["2024-05-11", "hrv_rmssd_ms"] == 52
