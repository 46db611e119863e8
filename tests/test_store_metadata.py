"""kneedata.store.metadata: Strava activities.csv rows joined onto kept rows, by hand-made rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kneedata.store.metadata import METADATA_COLUMNS, csv_reason, join_metadata

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")
CSV = "/x/export.zip::activities.csv"


def kept(aid, sources, *, dt_s=0.0, dist=10_000.0):
    return {"activity_id": aid, "source_files": list(sources),
            "start_time_utc": T0 + pd.Timedelta(seconds=dt_s), "distance_m": dist}


def meta(*rows):
    cols = ["strava_id", "name", "activity_type", "gear", "rpe", "filename", "file_key",
            "start_time_utc", "distance_m", "csv_path"]
    frame = pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], columns=cols)
    frame["start_time_utc"] = pd.to_datetime(frame["start_time_utc"], utc=True)
    return frame


def test_rows_without_a_csv_get_empty_metadata():
    rows = [kept("a", ["a.fit"])]
    assert join_metadata(rows, pd.DataFrame()) == {}
    assert all(rows[0][c] is None for c in METADATA_COLUMNS) and math.isnan(rows[0]["rpe"])


def test_join_by_file_key_then_basename_then_start_time():
    rows = [kept("a", ["/x/export.zip::activities/1.fit"]),
            kept("b", ["/elsewhere/2.gpx"], dt_s=86400),
            kept("c", ["/phone/unnamed.fit"], dt_s=2 * 86400, dist=5000.0)]
    m = meta(
        ("1", "Morning run", "Run", "Pegasus", 4.0, "activities/1.fit", "/x/export.zip::activities/1.fit",
         T0, 10_000.0, CSV),
        ("2", "Long run", "Run", np.nan, np.nan, "activities/2.gpx", "/x/export.zip::activities/2.gpx",
         T0 + pd.Timedelta(days=1), 20_000.0, CSV),
        ("3", "Easy", "Run", "Kayano", 2.0, np.nan, None,
         T0 + pd.Timedelta(days=2, seconds=90), 5100.0, CSV),
        ("4", "Not in the store", "Run", np.nan, np.nan, "activities/4.fit", "/x/export.zip::activities/4.fit",
         T0 + pd.Timedelta(days=5), 8000.0, CSV),
    )
    used = join_metadata(rows, m)
    assert used == {0: "a", 1: "b", 2: "c"}
    a, b, c = rows
    assert (a["name"], a["gear"], a["rpe"], a["strava_id"], a["strava_type"], a["metadata_match"]) == \
        ("Morning run", "Pegasus", 4.0, "1", "Run", "file")
    assert b["metadata_match"] == "basename" and b["gear"] is None and math.isnan(b["rpe"])
    assert c["metadata_match"] == "start_time" and c["name"] == "Easy"
    text = csv_reason(m, CSV, used)
    assert text.startswith("Strava activities.csv: 4 activities listed; 3 joined")
    assert text.endswith("1 listed without an activity file in the store (e.g. activities/4.fit)")


def test_ambiguous_or_distant_rows_stay_unjoined():
    # two CSV rows with the same file name and one activity that could be either, by name
    rows = [kept("a", ["/in/1.fit"], dist=10_000.0)]
    m = meta(
        ("1", "x", "Run", np.nan, np.nan, "a/1.fit", "z::a/1.fit", T0 + pd.Timedelta(hours=3), 10_000.0, CSV),
        ("2", "y", "Run", np.nan, np.nan, "b/1.fit", "z::b/1.fit", T0 + pd.Timedelta(hours=5), 10_000.0, CSV),
    )
    assert join_metadata(rows, m) == {}
    assert rows[0]["name"] is None
    # by start time: within 2 min but 5 % longer is not the same run
    rows = [kept("a", ["/in/q.fit"])]
    m = meta(("1", "x", "Run", np.nan, np.nan, np.nan, None, T0 + pd.Timedelta(seconds=30), 10_500.0, CSV))
    assert join_metadata(rows, m) == {}


def test_each_csv_row_joins_one_activity():
    # two activities near one CSV row: the first in order takes it, the second finds it used
    rows = [kept("a", ["/in/a.fit"]), kept("b", ["/in/b.fit"], dt_s=10)]
    m = meta(("1", "x", "Run", np.nan, np.nan, np.nan, None, T0 + pd.Timedelta(seconds=5), 10_000.0, CSV))
    used = join_metadata(rows, m)
    assert used == {0: "a"}
    assert rows[1]["name"] is None
