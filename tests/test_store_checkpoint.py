"""kneedata.store.checkpoint and executor helpers: table writes and worker counts, in isolation."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from kneedata.store.checkpoint import (
    CheckpointClock,
    activities_frame,
    atomic_parquet,
    remove_orphans,
    remove_temp_files,
    write_tables,
)
from kneedata.store.executor import TaskRunner, worker_count
from kneedata.store.files_index import files_frame, new_entry
from kneedata.store.tables import stored_ids
from kneedata.store.worker import Task, failure, read_task

T0 = pd.Timestamp("2024-05-01 06:00:00", tz="UTC")


def test_atomic_parquet_replaces_and_leaves_no_temporary_file(tmp_path):
    dest = tmp_path / "t.parquet"
    atomic_parquet(pd.DataFrame({"a": [1]}), dest, index=False)
    atomic_parquet(pd.DataFrame({"a": [2, 3]}), dest, index=False, fsync=True)
    assert pd.read_parquet(dest)["a"].tolist() == [2, 3]
    assert sorted(os.listdir(tmp_path)) == ["t.parquet"]
    with pytest.raises(Exception):  # noqa: B017 - an unwritable frame: old file kept, no temporary
        atomic_parquet(pd.DataFrame({"a": [object()]}), dest, index=False)
    assert pd.read_parquet(dest)["a"].tolist() == [2, 3] and sorted(os.listdir(tmp_path)) == ["t.parquet"]


def test_activities_frame_sorts_and_types_metadata():
    rows = [{"activity_id": "b", "start_time_utc": T0, "name": None},
            {"activity_id": "a", "start_time_utc": T0, "name": "Easy"},
            {"activity_id": "c", "start_time_utc": T0 - pd.Timedelta(days=1), "name": None}]
    frame = activities_frame(rows)
    assert frame["activity_id"].tolist() == ["c", "a", "b"]
    assert frame["name"].isna().tolist() == [True, False, True] and frame["name"].iloc[1] == "Easy"
    assert pd.api.types.is_string_dtype(frame["name"])
    assert len(activities_frame([])) == 0 and "activity_id" in activities_frame([]).columns


def test_write_tables_removes_emptied_tables(tmp_path):
    files = files_frame({"/a.fit": new_entry("/a.fit")})
    one = pd.DataFrame({"activity_id": ["x"]})
    write_tables(tmp_path, activities=one, duplicates=one, exports=one, files=files)
    assert {p.name for p in tmp_path.iterdir()} == {
        "activities.parquet", "duplicates.parquet", "exports.parquet", "files.parquet"}
    write_tables(tmp_path, activities=one.iloc[:0], duplicates=one.iloc[:0], exports=pd.DataFrame(), files=files)
    assert {p.name for p in tmp_path.iterdir()} == {"activities.parquet", "files.parquet"}


def test_orphans_and_temporary_files_are_removed(tmp_path):
    for name in ("records/a.parquet", "records/b.parquet", "laps/b.parquet", ".x.parquet.1.tmp",
                 "records/.c.parquet.2.tmp"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    remove_orphans(tmp_path, {"a"})
    remove_temp_files(tmp_path)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["records/a.parquet"]


def test_worker_count():
    assert worker_count(3) == 3 and worker_count(None) == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="1 or more worker processes"):
        worker_count(-1)
    assert TaskRunner(workers=1, executor=None).serial
    assert not TaskRunner(workers=2, executor=None).serial


def test_serial_runner_reports_every_task(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "laps").mkdir()
    tasks = [Task(key=str(tmp_path / "gone.fit"), path=str(tmp_path / "gone.fit"), data=None,
                  store_dir=str(tmp_path), limits=None, size=1, mtime_ns=1),  # type: ignore[arg-type]
             Task(key="mem.gpx", path=None, data=b"not xml", store_dir=str(tmp_path),
                  limits=None, size=7, mtime_ns=-1)]  # type: ignore[arg-type]
    got: list[dict] = []
    runner = TaskRunner(workers=1, executor=None)
    runner.run(iter(tasks), got.append)
    runner.close()
    assert [r["key"] for r in got] == [t.key for t in tasks]
    assert got[0]["reason"].startswith("cannot read the file") and got[0]["size"] == -1
    assert "not a FIT, GPX or TCX" in got[1]["reason"] and got[1]["size"] == 7
    assert got[1]["sha256"] and not got[1]["ok"]
    assert read_task(tasks[1])["sha256"] == got[1]["sha256"]
    assert failure(tasks[0], "why")["reason"] == "why"


def test_checkpoint_clock_counts_files_and_seconds():
    now = [100.0]
    clock = CheckpointClock(3, 60.0, clock=lambda: now[0])
    assert [clock.read_one() for _ in range(3)] == [False, False, True]
    clock.reset()
    assert not clock.read_one()
    now[0] += 60.0
    assert clock.read_one()  # a minute went by
    clock.reset()
    assert clock.files == 0 and clock.since == 160.0


def test_stored_ids(tmp_path):
    assert stored_ids(tmp_path) == (set(), {})
    pd.DataFrame({"activity_id": ["k", "j"], "x": [1, 2]}).to_parquet(tmp_path / "activities.parquet")
    pd.DataFrame({"activity_id": ["d"], "duplicate_of": ["k"]}).to_parquet(tmp_path / "duplicates.parquet")
    assert stored_ids(tmp_path) == ({"k", "j", "d"}, {"d": "k"})
