"""Apple Health exports, hand-made here from the layout of the Health app's export.

The layout (``apple_health_export/export.xml`` with ``Record``/``Workout`` elements,
``startDate`` text with its UTC offset, ``WorkoutStatistics`` and ``WorkoutRoute``/
``FileReference`` in newer exports, ``workout-routes/*.gpx``, the internal DTD that
iOS 16 wrote broken, stray ``\\x0b`` in source names) follows public readers of the
export (apple-health-parser style scripts and the many "iOS 16 export.xml DTD" bug
reports); the values are chosen here, so every expectation is computed by hand.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata import Store
from kneedata.errors import FileFormatError
from kneedata.io.apple_health import read_apple_health, read_apple_health_stream
from kneedata.store.wellness import daily_wellness

# An internal DTD expat cannot parse (an ATTLIST with a stray token, like the iOS 16 one)
BROKEN_DTD = """<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Workout)*)>
<!ATTLIST ExportDate value CDATA #REQUIRED>
<!ATTLIST Workout workoutActivityType CDATA #REQUIRED duration CDATA #IMPLIED durationUnit CDATA #IMPLIED
  sourceName CDATA #REQUIRED startDate CDATA #REQUIRED endDate CDATA #REQUIRED CDATA #IMPLIED>
]>
"""
HK = "HKQuantityTypeIdentifier"


def _record(kind: str, value: float | str, unit: str, start: str, end: str | None = None,
            source: str = "Anna\x0bs Apple Watch") -> str:
    return (f'<Record type="{kind}" sourceName="{source}" unit="{unit}" startDate="{start}" '
            f'endDate="{end or start}" value="{value}"/>\n')


def _export_xml(*, dtd: str = BROKEN_DTD) -> str:
    rows = [_record(f"{HK}RestingHeartRate", 52, "count/min", "2024-04-02 07:10:00 +0200"),
            _record(f"{HK}HeartRateVariabilitySDNN", 40, "ms", "2024-04-02 03:00:00 +0200"),
            _record(f"{HK}HeartRateVariabilitySDNN", 60, "ms", "2024-04-02 21:00:00 +0200")]
    # a night from the watch (core+deep+rem) and the phone (asleep) overlapping: union, not sum
    for value, start, end, source in [
        ("HKCategoryValueSleepAnalysisInBed", "2024-04-01 22:30:00 +0200", "2024-04-02 06:30:00 +0200", "iPhone"),
        ("HKCategoryValueSleepAnalysisAsleepCore", "2024-04-01 23:00:00 +0200", "2024-04-02 02:00:00 +0200", "Watch"),
        ("HKCategoryValueSleepAnalysisAwake", "2024-04-02 02:00:00 +0200", "2024-04-02 02:30:00 +0200", "Watch"),
        ("HKCategoryValueSleepAnalysisAsleepDeep", "2024-04-02 02:30:00 +0200", "2024-04-02 04:00:00 +0200", "Watch"),
        ("HKCategoryValueSleepAnalysisAsleepREM", "2024-04-02 04:00:00 +0200", "2024-04-02 06:00:00 +0200", "Watch"),
        ("HKCategoryValueSleepAnalysisAsleepUnspecified", "2024-04-02 05:00:00 +0200",
         "2024-04-02 06:15:00 +0200", "iPhone"),
        # an afternoon nap
        ("HKCategoryValueSleepAnalysisAsleepCore", "2024-04-02 14:00:00 +0200", "2024-04-02 14:40:00 +0200", "Watch"),
    ]:
        rows.append(f'<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="{source}" '
                    f'startDate="{start}" endDate="{end}" value="{value}"/>\n')
    # running metrics during the run (07:30-08:00 local), and one outside it
    for i in range(6):
        t = f"2024-04-02 07:{30 + 5 * i:02d}:00 +0200"
        rows.append(_record(f"{HK}RunningStrideLength", 1.10 + 0.01 * i, "m", t))
        rows.append(_record(f"{HK}RunningGroundContactTime", 250 + i, "ms", t))
        rows.append(_record(f"{HK}RunningVerticalOscillation", 8.5, "cm", t))
        rows.append(_record(f"{HK}RunningPower", 250, "W", t))
        rows.append(_record(f"{HK}RunningSpeed", 10.8, "km/hr", t))
    rows.append(_record(f"{HK}RunningPower", 999, "W", "2024-04-03 12:00:00 +0200"))
    workout = (
        '<Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30" durationUnit="min" '
        'sourceName="Anna\x0bs Apple Watch" startDate="2024-04-02 07:30:00 +0200" '
        'endDate="2024-04-02 08:00:00 +0200">\n'
        ' <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        f' <WorkoutStatistics type="{HK}DistanceWalkingRunning" startDate="2024-04-02 07:30:00 +0200" '
        'endDate="2024-04-02 08:00:00 +0200" sum="5.4" unit="km"/>\n'
        f' <WorkoutStatistics type="{HK}HeartRate" average="151" minimum="120" maximum="170" unit="count/min"/>\n'
        ' <WorkoutRoute sourceName="Watch"><FileReference path="/workout-routes/route_2024-04-02_7.30am.gpx"/>'
        '</WorkoutRoute>\n</Workout>\n'
        '<Workout workoutActivityType="HKWorkoutActivityTypeCycling" duration="60" durationUnit="min" '
        'sourceName="Watch" startDate="2024-04-03 07:30:00 +0200" endDate="2024-04-03 08:30:00 +0200"/>\n')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + '<HealthData locale="en_GB">\n'
            ' <ExportDate value="2024-04-05 10:00:00 +0200"/>\n <Me HKCharacteristicTypeIdentifierSex=""/>\n'
            + "".join(rows) + workout + "</HealthData>\n")


def _route_gpx() -> str:
    # 31 points a minute apart going north ~180 m/min (5.4 km), 05:30-06:00 UTC
    points = "".join(
        f'<trkpt lat="{52.0 + i * 180 / 111_195:.6f}" lon="4.0"><ele>{10 + i % 3}</ele>'
        f'<time>2024-04-02T05:{30 + i:02d}:00Z</time></trkpt>' if i < 30 else
        f'<trkpt lat="{52.0 + i * 180 / 111_195:.6f}" lon="4.0"><ele>10</ele><time>2024-04-02T06:00:00Z</time></trkpt>'
        for i in range(31))
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="Apple Health Export" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>' + points + "</trkseg></trk></gpx>")


def _export_zip(tmp_path: Path, xml: str | None = None) -> Path:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("apple_health_export/export.xml", xml or _export_xml())
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        z.writestr("apple_health_export/workout-routes/route_2024-04-02_7.30am.gpx", _route_gpx())
    return path


def test_an_export_zip_gives_its_run_with_metrics_and_route(tmp_path):
    got = read_apple_health(_export_zip(tmp_path))
    assert any("DTD" in n for n in got.notes) and any("control character" in n for n in got.notes)
    assert len(got.activities) == 1  # the cycling workout is not a run
    run = got.activities[0]
    s = run.summary
    assert s["sport"] == "running" and s["source_format"] == "apple_health"
    assert s["start_time_utc"] == pd.Timestamp("2024-04-02T05:30:00Z")
    assert s["distance_m"] == pytest.approx(5400) and s["timer_time_s"] == pytest.approx(1800)
    assert s["avg_heart_rate_bpm"] == pytest.approx(151)
    assert s["utc_offset_min"] == 120 and str(s["local_date"]) == "2024-04-02"
    rec = run.records
    assert rec["latitude_deg"].notna().sum() == 31  # the route joined
    assert rec["step_length_m"].dropna().tolist() == pytest.approx([1.10, 1.11, 1.12, 1.13, 1.14, 1.15])
    assert rec["vertical_oscillation_mm"].dropna().unique().tolist() == [85.0]  # 8.5 cm
    assert rec["stance_time_ms"].dropna().iloc[0] == 250
    assert rec["power_w"].max() == 250  # the 999 W outside the run is not joined


def test_an_export_gives_sleep_rhr_and_sdnn_apart_from_rmssd(tmp_path):
    got = read_apple_health(_export_zip(tmp_path))
    items = got.wellness
    sleep = items[items["kind"] == "sleep"].sort_values("start_utc")
    # union of the asleep intervals 23:00-02:00, 02:30-06:15 = 3 h + 3.75 h; in bed and awake are not sleep
    assert sleep["value"].tolist() == pytest.approx([6.75, 40 / 60])
    assert sleep["is_nap"].tolist() == [False, True]
    assert set(items["source"]) == {"apple_health"}
    store_days = daily_wellness(items)
    day = store_days.set_index("date").loc["2024-04-02"]
    assert day["sleep_duration_h"] == pytest.approx(6.75) and day["nap_duration_h"] == pytest.approx(40 / 60)
    assert day["resting_hr_bpm"] == 52
    assert day["hrv_sdnn_ms"] == pytest.approx(50) and np.isnan(day["hrv_rmssd_ms"])


def test_entities_are_refused_even_in_an_apple_export():
    xml = _export_xml(dtd='<!DOCTYPE HealthData [<!ENTITY lol "lol">]>\n')
    with pytest.raises(FileFormatError, match="entities"):
        read_apple_health_stream(io.BytesIO(xml.encode()), "export.xml")
    undeclared = _export_xml(dtd="").replace('locale="en_GB"', 'locale="&lol;"')
    with pytest.raises(FileFormatError):
        read_apple_health_stream(io.BytesIO(undeclared.encode()), "export.xml")


def test_a_truncated_export_keeps_what_came_before():
    xml = _export_xml().encode()
    cut = xml[: xml.index(b"<Workout")]
    got = read_apple_health_stream(io.BytesIO(cut), "export.xml")
    assert any("damaged" in n for n in got.notes)
    assert (got.wellness["kind"] == "resting_hr").sum() == 1 and not got.activities


def test_the_store_imports_an_apple_export(tmp_path):
    store = Store(tmp_path / "store")
    report = store.import_paths([_export_zip(tmp_path)], workers=1, progress=False)
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in report.rows}
    assert rows["export.xml"]["status"] == "imported", rows["export.xml"]
    assert "Apple Health export: 1 running workout" in rows["export.xml"]["reason"]
    acts = store.activities()
    assert len(acts) == 1  # the route GPX imported on its own is the same run: a duplicate
    assert acts["source_format"].iloc[0] == "apple_health"
    days = store.wellness().set_index("date")
    assert days.loc["2024-04-02", "hrv_sdnn_ms"] == pytest.approx(50)
    assert days.loc["2024-04-02", "source"] == "apple_health"


def test_a_loose_export_folder_imports_with_its_route(tmp_path):
    folder = tmp_path / "apple_health_export"
    (folder / "workout-routes").mkdir(parents=True)
    (folder / "export.xml").write_text(_export_xml(), encoding="utf-8")
    (folder / "workout-routes" / "route_2024-04-02_7.30am.gpx").write_text(_route_gpx())
    store = Store(tmp_path / "store")
    report = store.import_paths([folder], workers=1, progress=False)
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in report.rows}
    assert rows["export.xml"]["status"] == "imported"
    assert rows["route_2024-04-02_7.30am.gpx"]["status"] == "duplicate"  # the same run, kept from Apple
    acts = store.activities()
    assert len(acts) == 1 and acts["source_format"].iloc[0] == "apple_health"
    rec = store.records(acts["activity_id"].iloc[0])
    assert rec["latitude_deg"].notna().sum() == 31 and rec["power_w"].notna().sum() == 6
