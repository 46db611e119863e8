"""kneedata.store: the Parquet store, incremental and parallel import, duplicates, safety.

Hand-built files: a run is 1 sample/s at 3 m/s heading due north from 52 N 4 E,
170 steps/min, 150 bpm, so its distance is 3 m x (n - 1) and its start time is the
one given. The same run is written as FIT (kneedata.testing.fitwrite) and as GPX (text
below); both readers then report the same start and a distance within 0.01 %
(GPX distance from the haversine track, FIT from the distance field).
"""

from __future__ import annotations

import concurrent.futures as cf
import gzip
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kneedata.io.exports import MEMBER_SEP, ZipLimits
from kneedata.io.read import read_activities
from kneedata.store import (
    STATUSES,
    ImportReport,
    Store,
    StoreBusyError,
    StoreNotFoundError,
    UnknownActivityError,
    default_store_path,
)
from kneedata.store.dataset import part_file, read_index, stored_ids
from kneedata.testing.fitwrite import write_activity_fit

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


class _Tty(io.StringIO):
    """A stderr that says it is a terminal (the progress bar is drawn only there)."""

    def isatty(self) -> bool:
        return True


def run_records(start: pd.Timestamp = T0, n: int = 301, speed: float = 3.0,
                lon0: float = 4.0) -> pd.DataFrame:
    """A steady run: n samples 1 s apart at ``speed`` m/s due north (see module docstring)."""
    index = pd.date_range(start, periods=n, freq="1s", name="timestamp")
    dist = np.arange(n) * speed
    return pd.DataFrame(
        {
            "distance_m": dist,
            "speed_m_s": np.full(n, speed),
            "latitude_deg": 52.0 + dist / 111_195.0,  # metres per degree of latitude
            "longitude_deg": np.full(n, lon0),
            "heart_rate_bpm": np.full(n, 150.0),
            "cadence_spm": np.full(n, 170.0),
            "altitude_m": np.full(n, 10.0),
        },
        index=index,
    )


def gpx_bytes(records: pd.DataFrame, sport: str = "running") -> bytes:
    """GPX 1.1 with Garmin TrackPointExtension hr and cad (strides/min)."""
    pts = []
    for ts, row in zip(records.index, records.itertuples(), strict=True):
        pts.append(
            f'<trkpt lat="{row.latitude_deg:.7f}" lon="{row.longitude_deg:.7f}"><ele>{row.altitude_m:.1f}</ele>'
            f"<time>{ts.strftime('%Y-%m-%dT%H:%M:%SZ')}</time><extensions><gpxtpx:TrackPointExtension>"
            f"<gpxtpx:hr>{int(row.heart_rate_bpm)}</gpxtpx:hr><gpxtpx:cad>{int(row.cadence_spm / 2)}</gpxtpx:cad>"
            "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="kneedata tests" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>Run</name><type>{sport}</type><trkseg>" + "".join(pts) + "</trkseg></trk></gpx>"
    ).encode()


def fit_bytes(records: pd.DataFrame, sport: str = "running") -> bytes:
    frame = records.copy()
    if sport == "cycling":
        frame = frame.rename(columns={"cadence_spm": "cadence_rpm"}).assign(cadence_rpm=90.0)
    return write_activity_fit(None, frame, sport=sport)


def statuses(report: ImportReport) -> dict[str, str]:
    """path -> status, asserting that every path occurs once."""
    frame = report.to_frame()
    assert frame["path"].is_unique, frame["path"][frame["path"].duplicated()].tolist()
    return dict(zip(frame["path"], frame["status"], strict=True))


def by_name(report: ImportReport) -> dict[str, dict]:
    return {Path(r["path"].split(MEMBER_SEP)[-1]).name if MEMBER_SEP not in r["path"]
            else r["path"].split(MEMBER_SEP, 1)[1]: r for r in report.rows}


# --------------------------------------------------------------------------------
# basics


def test_default_store_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KNEEDATA_STORE", str(tmp_path / "mine"))
    assert default_store_path() == tmp_path / "mine"
    monkeypatch.delenv("KNEEDATA_STORE")
    assert default_store_path() == Path.home() / ".kneedata" / "store"


def test_empty_store_is_readable(tmp_path):
    (tmp_path / "s").mkdir()  # an existing, empty folder reads as an empty store
    store = Store(tmp_path / "s")
    acts = store.activities()
    assert acts.empty and {"activity_id", "distance_m", "name", "gear", "rpe", "source_files"} <= set(acts)
    assert store.files().empty and store.duplicates().empty


def test_import_roundtrip_records_equal_reader(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.fit").write_bytes(fit_bytes(run_records()))
    store = Store(tmp_path / "s")
    report = store.import_paths(folder, workers=1, progress=False)
    assert report.counts()["imported"] == 1
    act = read_activities(folder / "a.fit")[0]
    aid = act.summary["activity_id"]
    assert report.rows[0]["activity_ids"] == [aid]
    # the stored records are the reader's records, dtypes and index included
    pd.testing.assert_frame_equal(store.records(aid), act.records)
    pd.testing.assert_frame_equal(store.laps(aid), act.laps)
    row = store.activities().set_index("activity_id").loc[aid]
    assert row["distance_m"] == pytest.approx(act.summary["distance_m"])
    assert row["source_files"] == [str(folder / "a.fit")]
    assert row["n_sources"] == 1


def test_unknown_activity_id_is_a_clear_value_error(tmp_path):
    (tmp_path / "s").mkdir()  # an empty store
    store = Store(tmp_path / "s")
    with pytest.raises(ValueError, match=r"'nope-0' is not in the store.*activities\(\)"):
        store.records("nope-0")
    with pytest.raises(UnknownActivityError, match="nope-0"):
        store.laps("nope-0")


def test_every_file_reported_once_with_reasons(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "run.fit").write_bytes(fit_bytes(run_records()))
    (folder / "sub" / "run.gpx.gz").write_bytes(gzip.compress(gpx_bytes(run_records(T0 + pd.Timedelta(days=1)))))
    (folder / "empty.fit").write_bytes(b"")
    (folder / "garbage.tcx").write_bytes(b"this is not xml at all")
    (folder / "broken.gpx.gz").write_bytes(b"\x1f\x8b\x08 not deflate data")
    (folder / "notes.txt").write_text("knee felt fine")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    (folder / "pain_diary.csv").write_text("date,time,side,site,pain_0_10,timing,activity_id,notes\n")
    (folder / "noext").write_bytes(fit_bytes(run_records(T0 + pd.Timedelta(days=2))))  # sniffed as FIT
    report = Store(tmp_path / "s").import_paths([folder], workers=1, progress=False)
    got = statuses(report)
    on_disk = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    assert sorted(got) == on_disk
    expect = {"run.fit": "imported", "run.gpx.gz": "imported", "noext": "imported",
              "empty.fit": "failed", "garbage.tcx": "failed", "broken.gpx.gz": "failed",
              "notes.txt": "not_an_activity",
              "photo.jpg": "not_an_activity", "pain_diary.csv": "not_an_activity"}
    assert {Path(p).name: s for p, s in got.items()} == expect
    rows = by_name(report)
    assert "0 bytes" in rows["empty.fit"]["reason"]
    assert "not a FIT, GPX or TCX" in rows["garbage.tcx"]["reason"]
    assert "cannot be decompressed" in rows["broken.gpx.gz"]["reason"]
    assert ".jpg" in rows["photo.jpg"]["reason"]
    assert all(r["reason"] for r in report.rows if r["status"] != "imported")
    assert "garbage.tcx" in report.summary() and "failed" in report.summary()


def test_progress_bar_on_stderr_and_nothing_on_stdout(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)  # a terminal: the bar is drawn
    Store(tmp_path / "s").import_paths([tmp_path / "a.fit"], workers=1, progress=True)
    out, _ = capsys.readouterr()
    assert out == ""
    assert "import" in tty.getvalue() and "100%" in tty.getvalue()


def test_store_folder_inside_input_is_skipped(tmp_path):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    store = Store(tmp_path / "store")
    store.import_paths([tmp_path], workers=1, progress=False)
    report = store.import_paths([tmp_path], workers=1, progress=False)  # store holds parquet now
    assert list(statuses(report)) == [str(tmp_path / "a.fit")]


def test_missing_input_path_is_a_failed_row(tmp_path):
    report = Store(tmp_path / "s").import_paths([tmp_path / "nope"], workers=1, progress=False)
    assert report.rows == [{"path": str(tmp_path / "nope"), "status": "failed", "activity_ids": [],
                            "reason": "no such file or folder; check the path"}]


def test_second_import_while_locked_is_refused(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    (tmp_path / "s").mkdir()
    store = Store(tmp_path / "s")
    with open(tmp_path / "s" / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StoreBusyError, match="another import"):
            store.import_paths([tmp_path], workers=1, progress=False)


# --------------------------------------------------------------------------------
# duplicates


def test_same_run_fit_gpx_is_one_activity_fit_kept(tmp_path):
    rec = run_records()
    (tmp_path / "watch.fit").write_bytes(fit_bytes(rec))
    (tmp_path / "app.gpx").write_bytes(gpx_bytes(rec))
    store = Store(tmp_path / "s")
    report = store.import_paths([tmp_path / "app.gpx", tmp_path / "watch.fit"], workers=1, progress=False)
    acts = store.activities()
    assert len(acts) == 1
    kept = acts.iloc[0]
    assert kept["source_format"] == "fit"
    assert kept["source_files"] == [str(tmp_path / "watch.fit"), str(tmp_path / "app.gpx")]
    assert kept["n_sources"] == 2
    rows = by_name(report)
    assert rows["app.gpx"]["status"] == "duplicate"
    assert rows["app.gpx"]["activity_ids"] == [kept["activity_id"]]  # the kept activity
    assert "same run as" in rows["app.gpx"]["reason"] and "kept the fit source" in rows["app.gpx"]["reason"]
    dups = store.duplicates()
    assert dups["duplicate_of"].tolist() == [kept["activity_id"]]
    # the duplicate's samples stay available under its own id
    assert len(store.records(dups["activity_id"].iloc[0])) == len(rec)


def test_later_richer_source_takes_over(tmp_path):
    rec = run_records()
    (tmp_path / "app.gpx").write_bytes(gpx_bytes(rec))
    (tmp_path / "watch.fit").write_bytes(fit_bytes(rec))
    store = Store(tmp_path / "s")
    first = store.import_paths([tmp_path / "app.gpx"], workers=1, progress=False)
    gpx_id = first.rows[0]["activity_ids"][0]
    second = store.import_paths([tmp_path / "watch.fit"], workers=1, progress=False)
    fit_id = second.rows[0]["activity_ids"][0]
    assert store.activities()["activity_id"].tolist() == [fit_id]
    files = store.files().set_index("path")
    assert files.loc[str(tmp_path / "app.gpx"), "status"] == "duplicate"
    third = store.import_paths([tmp_path], workers=1, progress=False)
    rows = by_name(third)
    assert rows["app.gpx"]["status"] == "unchanged"
    assert rows["app.gpx"]["activity_ids"] == [fit_id]
    assert "duplicate" in rows["app.gpx"]["reason"] and gpx_id in rows["app.gpx"]["reason"]


@pytest.mark.parametrize(
    ("shift_s", "speed", "sport", "n_expected"),
    [
        (90, 3.0, "running", 1),    # 90 s apart, same distance: same run
        (150, 3.0, "running", 2),   # 150 s > 120 s: two runs
        (0, 3.2, "running", 2),     # distance 6.25 % longer > 3 %: two runs
        (0, 3.06, "running", 1),    # distance 1.96 % longer <= 3 %: same run
        (0, 3.0, "cycling", 2),     # same time and distance but a ride: not the same activity
    ],
)
def test_duplicate_rule(tmp_path, shift_s, speed, sport, n_expected):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    other = run_records(T0 + pd.Timedelta(seconds=shift_s), speed=speed)
    (tmp_path / "b.gpx").write_bytes(gpx_bytes(other, sport=sport))
    store = Store(tmp_path / "s")
    store.import_paths([tmp_path], workers=1, progress=False)
    assert len(store.activities()) == n_expected


def test_identical_copies_at_two_paths(tmp_path):
    data = fit_bytes(run_records())
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.fit").write_bytes(data)
    (tmp_path / "b.fit.gz").write_bytes(gzip.compress(data))
    store = Store(tmp_path / "s")
    report = store.import_paths([tmp_path / "a", tmp_path / "b.fit.gz"], workers=1, progress=False)
    rows = by_name(report)
    assert rows["run.fit"]["status"] == "imported"
    assert rows["b.fit.gz"]["status"] == "duplicate"
    assert "identical content" in rows["b.fit.gz"]["reason"]
    assert rows["b.fit.gz"]["activity_ids"] == rows["run.fit"]["activity_ids"]
    acts = store.activities()
    assert len(acts) == 1 and acts.iloc[0]["n_sources"] == 2
    # removing the first copy's content hands the activity to the second copy
    (tmp_path / "a" / "run.fit").write_bytes(fit_bytes(run_records(T0 + pd.Timedelta(days=3))))
    store.import_paths([tmp_path / "a"], workers=1, progress=False)
    acts = store.activities().set_index("activity_id")
    assert len(acts) == 2
    aid = rows["b.fit.gz"]["activity_ids"][0]
    assert acts.loc[aid, "source_file"] == str(tmp_path / "b.fit.gz")
    assert len(store.records(aid)) == 301


# --------------------------------------------------------------------------------
# incremental


def test_reimport_unchanged_touch_and_change(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for day in range(3):
        (folder / f"r{day}.fit").write_bytes(fit_bytes(run_records(T0 + pd.Timedelta(days=day))))
    (folder / "notes.txt").write_text("x")
    store = Store(tmp_path / "s")
    first = store.import_paths(folder, workers=1, progress=False)
    assert first.counts()["imported"] == 3
    files_before = (tmp_path / "s" / "files.parquet").stat().st_mtime_ns

    again = store.import_paths(folder, workers=1, progress=False)
    assert set(statuses(again).values()) == {"unchanged"}
    assert again.n_files_read == 0
    assert (tmp_path / "s" / "files.parquet").stat().st_mtime_ns == files_before  # nothing rewritten
    old_ids = {r["path"]: r["activity_ids"] for r in first.rows}
    assert {r["path"]: r["activity_ids"] for r in again.rows} == old_ids

    # new mtime, same bytes: unchanged (hash check), and the new stat is remembered
    target = folder / "r0.fit"
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    touched = store.import_paths(folder, workers=1, progress=False)
    assert statuses(touched)[str(target)] == "unchanged" and touched.n_files_read == 0
    files = store.files().set_index("path")
    assert files.loc[str(target), "mtime_ns"] == target.stat().st_mtime_ns

    # new content: re-read, the old activity replaced
    target.write_bytes(fit_bytes(run_records(T0 + pd.Timedelta(days=10), n=401)))
    changed = store.import_paths(folder, workers=1, progress=False)
    st = statuses(changed)
    assert st[str(target)] == "imported" and changed.n_files_read == 1
    new_id = by_name(changed)["r0.fit"]["activity_ids"][0]
    old_id = old_ids[str(target)][0]
    ids = store.activities()["activity_id"].tolist()
    assert new_id in ids and old_id not in ids and len(ids) == 3
    assert not (tmp_path / "s" / "records" / f"{old_id}.parquet").exists()
    with pytest.raises(UnknownActivityError):
        store.records(old_id)


def test_missing_records_file_is_redone(tmp_path):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    store = Store(tmp_path / "s")
    aid = store.import_paths([tmp_path / "a.fit"], workers=1, progress=False).rows[0]["activity_ids"][0]
    part = part_file(tmp_path / "s", aid)
    assert part is not None
    part.unlink()
    with pytest.raises(UnknownActivityError, match="missing; run the import again"):
        store.records(aid)
    report = store.import_paths([tmp_path / "a.fit"], workers=1, progress=False)
    assert report.rows[0]["status"] == "imported"
    assert len(store.records(aid)) == 301


def test_force_rereads(tmp_path):
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    store = Store(tmp_path / "s")
    store.import_paths([tmp_path / "a.fit"], workers=1, progress=False)
    report = store.import_paths([tmp_path / "a.fit"], workers=1, progress=False, force=True)
    assert report.rows[0]["status"] == "imported" and report.n_files_read == 1
    assert len(store.activities()) == 1


# --------------------------------------------------------------------------------
# zips and exports


def _zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data,
                        compress_type=compression)
    return buf.getvalue()


def test_garmin_account_export_with_nested_zips(tmp_path):
    part1 = _zip({"14000000001_ACTIVITY.fit": fit_bytes(run_records()),
                  "14000000002_ACTIVITY.fit": fit_bytes(run_records(T0 + pd.Timedelta(days=1)))})
    part2 = _zip({"14000000003_ACTIVITY.fit": fit_bytes(run_records(T0 + pd.Timedelta(days=2)))})
    outer = _zip({
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": part1,
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part2.zip": part2,
        "DI_CONNECT/DI-Connect-Fitness/summarizedActivities.json": b"[]",
    })
    path = tmp_path / "garmin_export.zip"
    path.write_bytes(outer)
    store = Store(tmp_path / "s")
    report = store.import_paths([path], workers=1, progress=False)
    got = statuses(report)
    inner = f"{path}::DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
    assert got[str(path)] == "not_an_activity"  # the archive itself
    assert got[inner] == "not_an_activity"
    assert got[f"{inner}::14000000001_ACTIVITY.fit"] == "imported"
    assert got[f"{inner}::14000000002_ACTIVITY.fit"] == "imported"
    assert got[f"{path}::DI_CONNECT/DI-Connect-Fitness/summarizedActivities.json"] == "not_an_activity"
    assert report.counts() == {"imported": 3, "duplicate": 0, "unchanged": 0, "failed": 0,
                               "not_an_activity": 4}
    assert len(store.activities()) == 3
    again = store.import_paths([path], workers=1, progress=False)
    assert set(statuses(again).values()) == {"unchanged"} and len(again.rows) == 7

    # the export is re-downloaded with one file fewer: that member's activity goes
    path.write_bytes(_zip({
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": part1,
    }))
    third = store.import_paths([path], workers=1, progress=False)
    st = statuses(third)
    assert st[f"{inner}::14000000001_ACTIVITY.fit"] == "unchanged"  # same bytes inside
    assert len(store.activities()) == 2


def test_zip_path_traversal_and_bomb_refused(tmp_path):
    good = fit_bytes(run_records())
    bomb = bytes(3 * 2**20)  # 3 MiB of zeros compresses about 1000:1
    path = tmp_path / "evil.zip"
    path.write_bytes(_zip({"../../etc/evil.fit": good, "/abs/evil2.fit": good,
                           "C:/win/evil3.fit": good, "bomb.fit": bomb, "ok.fit": good}))
    store = Store(tmp_path / "s", limits=ZipLimits(max_member_bytes=2 * 2**20, max_ratio=100,
                                                  ratio_min_bytes=2**20))
    report = store.import_paths([path], workers=1, progress=False)
    rows = by_name(report)
    assert rows["ok.fit"]["status"] == "imported"
    for name, why in [("../../etc/evil.fit", "'..'"), ("/abs/evil2.fit", "absolute"),
                      ("C:/win/evil3.fit", "drive letter"), ("bomb.fit", "limit")]:
        assert rows[name]["status"] == "failed", name
        assert "refused" in rows[name]["reason"] and why in rows[name]["reason"]
    assert repr("../../etc/evil.fit") in rows["../../etc/evil.fit"]["reason"]  # names the member
    # nothing was written outside the store
    assert not (tmp_path / "etc").exists()


def test_lying_zip_header_is_stream_limited(tmp_path):
    """A member whose header under-states its size cannot expand past the limit."""
    from kneedata.io.exports import LimitExceeded, _read_limited

    with pytest.raises(LimitExceeded, match="more than 1000 bytes"):
        _read_limited(io.BytesIO(bytes(5000)), 1000, "member 'x'")
    big = gzip.compress(bytes(4 * 2**20))
    (tmp_path / "bomb.fit.gz").write_bytes(big)
    store = Store(tmp_path / "s", limits=ZipLimits(max_member_bytes=2**20))
    report = store.import_paths([tmp_path / "bomb.fit.gz"], workers=1, progress=False)
    assert report.rows[0]["status"] == "failed" and "refused" in report.rows[0]["reason"]


def test_bad_zip_is_failed_not_fatal(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated nonsense")
    (tmp_path / "a.fit").write_bytes(fit_bytes(run_records()))
    report = Store(tmp_path / "s").import_paths([tmp_path], workers=1, progress=False)
    rows = by_name(report)
    assert rows["broken.zip"]["status"] == "failed" and "zip" in rows["broken.zip"]["reason"]
    assert rows["a.fit"]["status"] == "imported"


STRAVA_HEADER = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,"
    "Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,"
    "Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Perceived Exertion\n"
)


def _strava_row(sid, when, name, dist_m, gear, filename, rpe):
    # first Distance in km, second in metres (as Strava writes them)
    return (f'{sid},"{when}",{name},Run,,300,{dist_m / 1000:.2f},,,false,,{gear},{filename},,,'
            f"300.0,300.0,{dist_m},3.1,{rpe}\n")


def test_strava_bulk_export_zip_joins_name_gear_rpe(tmp_path):
    run_a = run_records()
    run_b = run_records(T0 + pd.Timedelta(days=1))
    csv_text = STRAVA_HEADER + _strava_row(
        111, "May 1, 2024, 6:00:00 AM", "Easy run", 900.0, "pegasus", "activities/111.gpx", 3
    ) + _strava_row(
        222, "May 2, 2024, 6:00:00 AM", "Tempo", 900.0, "", "activities/222.fit.gz", 8
    ) + _strava_row(333, "May 9, 2024, 6:00:00 AM", "Manual entry", 5000.0, "pegasus", "", 5)
    path = tmp_path / "export_12345.zip"
    path.write_bytes(_zip({
        "activities.csv": csv_text.encode(),
        "activities/111.gpx": gpx_bytes(run_a),
        "activities/222.fit.gz": gzip.compress(fit_bytes(run_b)),
        "media/photo.jpg": b"\xff\xd8\xff\xe0",
        "profile.csv": b"Athlete ID,Email\n1,x@y\n",
    }))
    store = Store(tmp_path / "s")
    report = store.import_paths([path], workers=1, progress=False)
    rows = by_name(report)
    assert rows["activities/111.gpx"]["status"] == "imported"
    assert rows["activities/222.fit.gz"]["status"] == "imported"
    assert rows["media/photo.jpg"]["status"] == "not_an_activity"
    csv_reason = rows["activities.csv"]["reason"]
    assert rows["activities.csv"]["status"] == "not_an_activity"
    assert "3 activities listed; 2 joined" in csv_reason and "1 listed without an activity file" in csv_reason
    acts = store.activities().set_index("strava_id")
    assert acts.loc["111", "name"] == "Easy run" and acts.loc["111", "gear"] == "pegasus"
    assert acts.loc["111", "rpe"] == 3.0
    assert acts.loc["222", "name"] == "Tempo" and pd.isna(acts.loc["222", "gear"])
    assert acts.loc["222", "rpe"] == 8.0 and acts.loc["222", "metadata_match"] == "file"
    meta = store.strava_activities().set_index("strava_id")
    assert meta.loc["333", "activity_id"] is None or pd.isna(meta.loc["333", "activity_id"])


def test_loose_strava_csv_matches_watch_file_by_start_time(tmp_path):
    """The CSV of a Strava export next to the watch's own FIT (not Strava's file)."""
    (tmp_path / "watch.fit").write_bytes(fit_bytes(run_records()))  # 900 m, starts T0
    (tmp_path / "activities.csv").write_text(STRAVA_HEADER + _strava_row(
        555, "May 1, 2024, 6:01:00 AM", "Morning run", 905.0, "pegasus", "activities/555.gpx", 4))
    store = Store(tmp_path / "s")
    store.import_paths([tmp_path], workers=1, progress=False)
    row = store.activities().iloc[0]
    assert (row["name"], row["gear"], row["rpe"], row["metadata_match"]) == (
        "Morning run", "pegasus", 4.0, "start_time")
    # a later change of the CSV is picked up; the FIT is unchanged
    (tmp_path / "activities.csv").write_text(STRAVA_HEADER + _strava_row(
        555, "May 1, 2024, 6:01:00 AM", "Renamed", 905.0, "vaporfly", "activities/555.gpx", 4))
    report = store.import_paths([tmp_path], workers=1, progress=False)
    assert statuses(report)[str(tmp_path / "watch.fit")] == "unchanged"
    assert store.activities().iloc[0]["gear"] == "vaporfly"


# --------------------------------------------------------------------------------
# parallel and crash safety


def _many_runs(folder: Path, n: int, samples: int = 301) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rec = run_records(T0 + pd.Timedelta(hours=6 * i), n=samples, lon0=4.0 + 0.001 * i)
        data = fit_bytes(rec) if i % 2 else gpx_bytes(rec)
        (folder / f"run{i:03d}.{'fit' if i % 2 else 'gpx'}").write_bytes(data)


def _comparable(store: Store) -> pd.DataFrame:
    frame = store.activities().drop(columns=["source_files", "warnings"])
    return frame.sort_values("activity_id").reset_index(drop=True)


@pytest.mark.slow
def test_process_pool_gives_the_same_store(tmp_path):
    _many_runs(tmp_path / "in", 8)
    serial, pooled = Store(tmp_path / "s1"), Store(tmp_path / "s2")
    r1 = serial.import_paths(tmp_path / "in", workers=1, progress=False)
    r2 = pooled.import_paths(tmp_path / "in", workers=2, progress=False)
    assert r1.counts() == r2.counts() == {**dict.fromkeys(STATUSES, 0), "imported": 8}
    # the pool reads the largest files first, but the report keeps the folder order
    assert [r["path"] for r in r2.rows] == [r["path"] for r in r1.rows] == sorted(
        str(p) for p in (tmp_path / "in").iterdir())
    pd.testing.assert_frame_equal(_comparable(serial), _comparable(pooled))


class _FlakyExecutor(cf.ThreadPoolExecutor):
    """Any concurrent.futures.Executor works; this one loses the task for one file."""

    def submit(self, fn, /, *args, **kwargs):
        if args and getattr(args[0], "key", "").endswith("run001.fit"):
            fut: cf.Future = cf.Future()
            fut.set_exception(ConnectionError("worker lost"))
            return fut
        return super().submit(fn, *args, **kwargs)


def test_any_executor_and_a_lost_task(tmp_path):
    _many_runs(tmp_path / "in", 4)
    store = Store(tmp_path / "s")
    with _FlakyExecutor(max_workers=2) as pool:
        report = store.import_paths(tmp_path / "in", executor=pool, progress=False)
    rows = by_name(report)
    assert rows["run001.fit"]["status"] == "failed"
    assert rows["run001.fit"]["reason"] == "worker error (ConnectionError: worker lost)"
    assert report.counts()["imported"] == 3
    # the next import retries the failed file only
    again = store.import_paths(tmp_path / "in", workers=1, progress=False)
    assert {r["status"] for r in again.rows if r["path"].endswith("run001.fit")} == {"imported"}
    assert again.n_files_read == 1 and len(store.activities()) == 4


class _CrashingExecutor(cf.ThreadPoolExecutor):
    """Reports a broken process pool for one file, ``crashes`` times."""

    def __init__(self, crashes: int):
        super().__init__(max_workers=2)
        self.crashes = crashes

    def submit(self, fn, /, *args, **kwargs):
        if args and getattr(args[0], "key", "").endswith("run002.gpx") and self.crashes:
            self.crashes -= 1
            fut: cf.Future = cf.Future()
            fut.set_exception(BrokenProcessPool("a worker died"))
            return fut
        return super().submit(fn, *args, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("crashes", [1, 2, 5])
def test_broken_pool_never_blames_a_file_that_reads_alone(tmp_path, crashes):
    # the pool breaks around run002.gpx (1, 2 or 5 times) though the file is fine:
    # retried once, then read alone in a fresh worker, where it imports
    _many_runs(tmp_path / "in", 4)
    with _CrashingExecutor(crashes) as pool:
        report = Store(tmp_path / "s").import_paths(tmp_path / "in", executor=pool, progress=False)
    rows = by_name(report)
    assert rows["run002.gpx"]["status"] == "imported", rows["run002.gpx"]["reason"]
    assert report.counts()["imported"] == 4


@pytest.mark.slow
@pytest.mark.parametrize("how", ["script", "module"])
def test_unguarded_script_imports_once_in_parallel(tmp_path, how):
    # issue 13: a plain script with import_paths at its top level, no __main__ guard,
    # used to re-run in every worker (StoreBusyError, BrokenProcessPool, good files
    # blamed for "crashing their worker process")
    _many_runs(tmp_path / "in", 6)
    (tmp_path / "myimport.py").write_text(
        "import kneedata as kd\n"
        "print('top level ran', flush=True)\n"
        "report = kd.Store('s').import_paths(['in'], workers=2, progress=False)\n"
        "print(report.counts())\n"
    )
    cmd = [sys.executable, "myimport.py"] if how == "script" else [sys.executable, "-m", "myimport"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("top level ran") == 1, proc.stdout
    assert "'imported': 6" in proc.stdout and "'failed': 0" in proc.stdout, proc.stdout
    assert "Error" not in proc.stderr, proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_import_leaves_readable_store_and_next_import_completes(tmp_path):
    n = 30
    _many_runs(tmp_path / "in", n, samples=1201)
    store_dir = tmp_path / "s"
    script = (
        "import sys\nfrom kneedata.store import Store\n"
        "Store(sys.argv[1], checkpoint_every=4).import_paths([sys.argv[2]], workers=1, progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(store_dir), str(tmp_path / "in")])
    deadline = time.monotonic() + 60
    # wait until at least two checkpoints were written, then kill without warning
    while time.monotonic() < deadline and proc.poll() is None:
        files = store_dir / "files.parquet"
        if files.exists() and len(list((store_dir / "records").glob("part-*.parquet"))) >= 2:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"

    store = Store(store_dir)
    done = store.activities()
    assert 4 <= len(done) < n  # a readable, partial store
    indexed = set(store.files()["path"])
    report = store.import_paths(tmp_path / "in", workers=1, progress=False)
    st = statuses(report)
    assert sorted(st) == sorted(str(p) for p in (tmp_path / "in").iterdir())
    assert {p for p, s in st.items() if s == "unchanged"} == indexed
    assert {s for p, s in st.items() if p not in indexed} == {"imported"}
    acts = store.activities()
    assert len(acts) == n and acts["activity_id"].is_unique
    assert stored_ids(store_dir) == set(acts["activity_id"])  # orphans from the killed run removed
    named = set(read_index(store_dir)["part"])
    assert {p.name for p in (store_dir / "records").glob("*.parquet")} <= named
    assert not list(store_dir.rglob("*.tmp"))


# --------------------------------------------------------------------------------
# the real files


@pytest.mark.slow
@pytest.mark.real_data
def test_real_data_import(real_data, tmp_path):
    """All of ../shared/real_data (folders and exports together), once, then again.

    One test (not three sharing a fixture) so that pytest-xdist imports it only once.
    """
    store = Store(tmp_path / "store")
    first = store.import_paths([real_data], workers=1, progress=False)

    # every file accounted for, exactly once; the zip member as <zip>::<member>
    st = statuses(first)
    on_disk = {str(p) for p in real_data.rglob("*") if p.is_file()}
    members = {p for p in st if MEMBER_SEP in p}
    assert set(st) - members == on_disk
    assert members == {f"{real_data / 'exports' / 'GarminFR955v18.zip'}::14211916346_ACTIVITY.fit"}
    assert st[next(iter(members))] == "imported"
    # SOURCES.md: empty-sessions.fit has 0 bytes, empty-activities.fit a header only
    failed = {Path(p).name for p, s in st.items() if s == "failed"}
    assert failed == {"empty-sessions.fit", "empty-activities.fit"}
    assert {Path(p).name for p, s in st.items() if s == "not_an_activity"} == {
        "SOURCES.md", "fit_session_summaries.csv", "activities.csv", "GarminFR955v18.zip"}
    rows = by_name(first)
    # the real Strava CSV lists 112 activities whose files are not in real_data
    assert "112 activities listed; 0 joined" in rows["activities.csv"]["reason"]

    # 6782987395 as FIT, GPX and TCX (SOURCES.md: the same activity) is one activity
    fit_id = rows["6782987395.fit"]["activity_ids"]
    assert rows["6782987395.fit"]["status"] == "imported"
    for name in ("6782987395.gpx", "6782987395.tcx"):
        assert rows[name]["status"] == "duplicate"
        assert rows[name]["activity_ids"] == fit_id
    acts = store.activities().set_index("activity_id")
    kept = acts.loc[fit_id[0]]
    assert kept["n_sources"] == 3 and kept["source_format"] == "fit"
    assert {Path(p).suffix for p in kept["source_files"]} == {".fit", ".gpx", ".tcx"}
    # the other same-run pairs named in SOURCES.md are folded the same way
    for base in ("6860622783", "2067489619", "10kUNLP2014-Garmin15"):
        assert acts.loc[rows[f"{base}.fit"]["activity_ids"][0], "n_sources"] == 2, base
    assert rows["run.gpx"]["activity_ids"] == rows["run.tcx"]["activity_ids"]

    # re-import (overlapping inputs): every file once, unchanged, nothing read
    # (the >= 20x speed-up is measured by benchmarks/bench_import.py, not asserted here)
    second = store.import_paths([real_data / "fit", real_data], workers=1, progress=False)
    was = statuses(first)
    # every file unchanged, except that a broken one stays failed until it changes
    assert {p: ("failed" if was[p] == "failed" else "unchanged") for p in was} == statuses(second)
    assert len(second.rows) == len(first.rows)
    assert second.n_files_read == 0
    pd.testing.assert_frame_equal(store.activities(), acts.reset_index())


def _recording_tqdm(monkeypatch) -> list[tuple[float, float]]:
    import tqdm

    seen: list[tuple[float, float]] = []

    class Recording(tqdm.tqdm):
        def update(self, n=1):
            out = super().update(n)
            seen.append((self.n, self.total))
            return out

    monkeypatch.setattr(tqdm, "tqdm", Recording)
    return seen


@pytest.mark.parametrize("again", [False, True])
def test_progress_total_is_fixed_before_the_first_file(tmp_path, monkeypatch, again):
    # issue 13: the total used to grow as archives were opened (280 -> 351 files)
    part = _zip({f"1400000000{i}_ACTIVITY.fit": fit_bytes(run_records(T0 + pd.Timedelta(days=i)))
                 for i in range(3)})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.zip").write_bytes(_zip({"a/Part1.zip": part, "a/notes.json": b"[]"}))
    (tmp_path / "in" / "loose.gpx").write_bytes(gpx_bytes(run_records(T0 + pd.Timedelta(days=9))))
    store = Store(tmp_path / "s")
    if again:
        store.import_paths(tmp_path / "in", workers=1, progress=False)
    seen = _recording_tqdm(monkeypatch)
    monkeypatch.setattr(sys, "stderr", _Tty())
    store.import_paths(tmp_path / "in", workers=1, progress=True)
    totals = {total for _, total in seen}
    assert len(totals) == 1, totals
    if not again:  # moves through the archive's members, not only at its end
        assert len(seen) >= 5
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    assert seen[-1][0] == pytest.approx(seen[-1][1])


def test_no_progress_bar_when_not_a_terminal(tmp_path, monkeypatch):
    # issue 13: piped output got hundreds of progress lines
    _many_runs(tmp_path / "in", 3)
    seen = _recording_tqdm(monkeypatch)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    report = Store(tmp_path / "s").import_paths(tmp_path / "in", workers=1, progress=True)
    assert report.counts()["imported"] == 3
    assert seen == [] and err.getvalue() == ""


def test_reading_a_store_that_does_not_exist_creates_nothing(tmp_path):
    # issue 13: Store("typo") used to create an empty store for a read
    store = Store(tmp_path / "typo")
    assert not (tmp_path / "typo").exists() and not store.exists()
    with pytest.raises(StoreNotFoundError, match="no store at .*typo.*kneedata import"):
        store.activities()
    with pytest.raises(FileNotFoundError):  # StoreNotFoundError is one
        store.files()
    assert not (tmp_path / "typo").exists()


def test_still_broken_file_stays_failed_until_it_changes(tmp_path):
    # issue 13: a re-import reported "unchanged 2, failed 0" for a broken file
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.fit").write_bytes(fit_bytes(run_records()))
    (tmp_path / "in" / "broken.fit").write_bytes(b"")
    store = Store(tmp_path / "s")
    first = store.import_paths(tmp_path / "in", workers=1, progress=False)
    again = store.import_paths(tmp_path / "in", workers=1, progress=False)
    assert again.counts()["failed"] == first.counts()["failed"] == 1
    row = by_name(again)["broken.fit"]
    assert row["status"] == "failed" and "0 bytes" in row["reason"]
    assert "unchanged since the last import" in row["reason"]
    assert again.n_files_read == 0  # nothing re-read
    assert "broken.fit" in again.summary()


def test_a_fit_file_that_is_not_an_activity_says_why(tmp_path):
    # issue 13: watches keep settings and monitoring data in FIT files too
    from kneedata.testing.fitwrite import FitWriter

    w = FitWriter()
    w.file_id(type="settings", manufacturer="garmin", product=2691, serial_number=1,
              time_created=T0.to_pydatetime())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "12345_WELLNESS.fit").write_bytes(w.to_bytes())
    report = Store(tmp_path / "s").import_paths(tmp_path / "in", workers=1, progress=False)
    row = by_name(report)["12345_WELLNESS.fit"]
    assert row["status"] == "not_an_activity"
    assert "'settings' file" in row["reason"] and "not an activity" in row["reason"]


def test_quality_notes_name_the_file_and_the_activity(tmp_path):
    # issue 13: notes were counted by text alone, with no file or activity to act on
    from kneedata.store import quality_notes

    (tmp_path / "in").mkdir()
    whole = fit_bytes(run_records())
    (tmp_path / "in" / "cut.fit").write_bytes(whole[: len(whole) * 2 // 3])
    (tmp_path / "in" / "good.gpx").write_bytes(gpx_bytes(run_records(T0 + pd.Timedelta(days=2))))
    store = Store(tmp_path / "s")
    store.import_paths(tmp_path / "in", workers=1, progress=False)
    acts = store.activities()
    notes = quality_notes(acts)
    assert list(notes.columns) == ["file", "activity_id", "local_date", "sport", "note"]
    cut = notes[notes["file"] == str(tmp_path / "in" / "cut.fit")]
    assert len(cut) >= 1 and cut["note"].str.contains("decoding stopped at byte").any()
    cut_id = acts.loc[acts["source_file"] == str(tmp_path / "in" / "cut.fit"), "activity_id"]
    assert set(cut["activity_id"]) == set(cut_id)
    assert quality_notes(acts.iloc[:0]).empty
