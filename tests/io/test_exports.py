"""kneedata.io.exports: Strava activities.csv, zip walking with safety limits, gzip limits."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.io.exports import (
    MEMBER_SEP,
    LimitExceeded,
    ZipLimits,
    activity_suffix,
    gunzip_limited,
    is_strava_activities_csv,
    iter_zip,
    join_member_path,
    read_strava_activities,
    unsafe_member_reason,
)

# Two rows shaped like a real Strava bulk export (repeated Distance / Elapsed Time columns).
CSV = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Distance,Activity Gear,"
    "Filename,Elapsed Time,Moving Time,Distance,Perceived Exertion\n"
    '9391754987,"Jul 5, 2023, 8:45:34 AM",Positive split - 1st,Run,1500,4.73,pegasus,'
    "activities/9391754987.gpx,1500.0,1450.0,4736.240234375,8.0\n"
    '4689591795,"Jan 27, 2021, 1:57:47 PM","Afternoon Ride, windy",Ride,1275,5.61,,'
    "activities/4689591795.fit.gz,1275.0,1258.0,,\n"
)


def test_strava_csv_repeated_columns_dates_and_gear():
    frame = read_strava_activities(CSV.encode())
    assert list(frame["strava_id"]) == ["9391754987", "4689591795"]
    # 1:57:47 PM is 13:57:47 UTC (Strava writes UTC)
    assert frame["start_time_utc"].tolist() == [
        pd.Timestamp("2023-07-05 08:45:34", tz="UTC"), pd.Timestamp("2021-01-27 13:57:47", tz="UTC")]
    # second Distance copy is metres; when it is empty the first (km) copy x 1000 is used
    np.testing.assert_allclose(frame["distance_m"], [4736.240234375, 5610.0])
    assert frame["gear"].iloc[0] == "pegasus" and pd.isna(frame["gear"].iloc[1])
    assert frame["rpe"].iloc[0] == 8.0 and np.isnan(frame["rpe"].iloc[1])
    assert frame["name"].iloc[1] == "Afternoon Ride, windy"  # quoted comma kept
    assert list(frame["elapsed_time_s"]) == [1500.0, 1275.0]
    assert list(frame["filename"]) == ["activities/9391754987.gpx", "activities/4689591795.fit.gz"]
    assert list(frame["source_line"]) == [2, 3]


def test_strava_csv_real_export(real_data):
    path = real_data / "exports" / "activities.csv"
    frame = read_strava_activities(path)
    # SOURCES.md: 112 activities, gear "pegasus" on 10 runs, 87 .gpx and 6 .fit.gz files
    assert len(frame) == 112
    assert (frame["gear"] == "pegasus").sum() == 10
    assert frame["filename"].str.endswith(".gpx").sum() == 87
    assert frame["filename"].str.endswith(".fit.gz").sum() == 6
    assert frame["start_time_utc"].notna().all()
    first = frame.iloc[0]  # "Jan 27, 2021, 1:57:47 PM", Distance 5.61 then 5612.39990234375
    assert first["start_time_utc"] == pd.Timestamp("2021-01-27 13:57:47", tz="UTC")
    assert first["distance_m"] == pytest.approx(5612.39990234375)
    assert is_strava_activities_csv(path.read_bytes()[:4096])


def test_strava_csv_missing_column_and_bad_date():
    with pytest.raises(SchemaError, match=r"'Filename'.*missing"):
        read_strava_activities(b"Activity ID,Activity Date\n1,x\n", source_name="a.csv")
    text = "Activity ID,Activity Date,Filename\n1,not a date,\n2,2023-07-05T08:45:34Z,\n"
    with pytest.warns(DataQualityWarning, match="1 'Activity Date' value"):
        frame = read_strava_activities(text.encode())
    assert pd.isna(frame["start_time_utc"].iloc[0])
    assert frame["start_time_utc"].iloc[1] == pd.Timestamp("2023-07-05 08:45:34", tz="UTC")
    assert not is_strava_activities_csv(b"date,time,side,site,pain_0_10\n")


@pytest.mark.parametrize(
    ("name", "why"),
    [("../x.fit", "'..'"), ("a/../../x.fit", "'..'"), ("/etc/x.fit", "absolute"),
     ("\\\\server\\x.fit", "absolute"), ("C:\\x.fit", "drive letter"), ("a\x00b", "NUL")],
)
def test_unsafe_member_names(name, why):
    assert why in unsafe_member_reason(name)


def test_safe_member_names():
    for name in ("a.fit", "activities/1.gpx", "x..y.fit", "DI_CONNECT/a/b.zip"):
        assert unsafe_member_reason(name) is None


def test_activity_suffix():
    assert activity_suffix("A.FIT") == ".fit"
    assert activity_suffix("x.tcx.gz") == ".tcx"
    assert activity_suffix("x.csv") is None and activity_suffix("x.gz") is None


def test_join_member_path():
    assert join_member_path("/d/export/activities.csv", "activities/1.gpx") == "/d/export/activities/1.gpx"
    assert join_member_path("/z.zip::exp/activities.csv", "activities/1.gpx") == (
        "/z.zip" + MEMBER_SEP + "exp/activities/1.gpx")


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def test_iter_zip_nesting_and_depth_limit():
    level2 = _zip({"deep.fit": b"x"}).getvalue()
    level1 = _zip({"inner.zip": level2, "a.txt": b"hello"}).getvalue()
    outer = _zip({"mid.zip": level1, "b.fit": b"y"})
    members = list(iter_zip(outer, "o.zip"))
    keys = [(m.key, m.is_archive, m.error is None) for m in members]
    assert keys == [
        ("o.zip", True, True), ("o.zip::mid.zip", True, True), ("o.zip::mid.zip::inner.zip", True, True),
        ("o.zip::mid.zip::inner.zip::deep.fit", False, True), ("o.zip::mid.zip::a.txt", False, True),
        ("o.zip::b.fit", False, True)]
    assert members[3].data == b"x"
    outer.seek(0)
    limited = list(iter_zip(outer, "o.zip", limits=ZipLimits(max_depth=1)))
    refused = [m for m in limited if m.error]
    assert [m.key for m in refused] == ["o.zip::mid.zip::inner.zip"]
    assert "nested deeper than 1" in refused[0].error


def test_iter_zip_ratio_limit():
    buf = _zip({"zeros.gpx": bytes(2 * 2**20)})  # ~2000:1
    members = list(iter_zip(buf, "z.zip", limits=ZipLimits(max_ratio=100, ratio_min_bytes=2**20)))
    assert "compression ratio" in members[1].error and "'zeros.gpx'" in members[1].error


def test_gunzip_limited():
    data = b"abc" * 1000
    assert gunzip_limited(gzip.compress(data), limit=3000, what="x") == data
    with pytest.raises(LimitExceeded, match="more than 2999 bytes"):
        gunzip_limited(gzip.compress(data), limit=2999, what="x")
    # concatenated members are all decoded (as gzip.decompress does)
    assert gunzip_limited(gzip.compress(b"ab") + gzip.compress(b"cd"), limit=10, what="x") == b"abcd"
    # larger than one read chunk (1 MiB) of incompressible bytes: exact round trip
    noise = np.random.default_rng(7).bytes(3 * 2**20)
    assert gunzip_limited(gzip.compress(noise), limit=2**23, what="x") == noise
    # truncated stream: what was decoded before the damage
    partial = gunzip_limited(gzip.compress(bytes(range(256)) * 400)[:-200], limit=10**6, what="x")
    assert 0 < len(partial) <= 256 * 400
