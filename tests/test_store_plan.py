"""kneedata.store.plan and files_index: walking, classifying and planning on small hand-made files."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

import pytest

from kneedata.io.exports import MEMBER_SEP, ZipLimits
from kneedata.store.files_index import (
    children,
    files_frame,
    hash_bytes,
    hash_file,
    key_basename,
    new_entry,
    other_copies,
    providers,
    read_files_index,
    stat_unchanged,
)
from kneedata.store.plan import (
    Forget,
    PlanContext,
    Settle,
    Unchanged,
    classify,
    plan_file,
    plan_other,
    walk_paths,
)
from kneedata.store.worker import Task

GPX = b'<?xml version="1.0"?>\n<gpx version="1.1"><trk><trkseg></trkseg></trk></gpx>\n'
STRAVA = (b"Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
          b"1,\"May 1, 2024, 6:00:00 AM\",Morning run,Run,activities/1.fit\n")


def ctx(index=None, *, intact=True, force=False):
    return PlanContext(index=index or {}, intact=lambda key: intact, store_dir="/nowhere",
                       limits=ZipLimits(), force=force)


# ---- files index ---------------------------------------------------------------------


def test_entries_and_keys():
    entry = new_entry("/a/b.fit", status="imported", activity_ids=["x"], kind="activity")
    assert entry["size"] == entry["mtime_ns"] == -1 and entry["sha256"] == "" and entry["container"] == ""
    assert key_basename(f"/d/e.zip{MEMBER_SEP}x/y/run.fit") == "run.fit"
    assert key_basename("C:\\runs\\a.gpx") == "a.gpx"
    index = {k: new_entry(k) for k in ["/e.zip", f"/e.zip{MEMBER_SEP}a.fit", f"/e.zip{MEMBER_SEP}n.zip",
                                       f"/e.zip{MEMBER_SEP}n.zip{MEMBER_SEP}b.fit", "/e.zip2"]}
    assert children(index, "/e.zip") == [f"/e.zip{MEMBER_SEP}a.fit", f"/e.zip{MEMBER_SEP}n.zip",
                                         f"/e.zip{MEMBER_SEP}n.zip{MEMBER_SEP}b.fit"]


def test_providers_and_other_copies():
    index = {
        "w.fit": new_entry("w.fit", kind="activity", status="imported", activity_ids=["a"]),
        "copy.fit": new_entry("copy.fit", kind="activity", status="duplicate", activity_ids=["a"]),
        "bad.fit": new_entry("bad.fit", kind="activity", status="failed", activity_ids=["a"]),
        "x.csv": new_entry("x.csv", kind="strava_csv", activity_ids=["a"]),
    }
    assert providers(index) == {"a": {"w.fit", "copy.fit", "bad.fit"}}
    assert other_copies(index, {"a": {"source_file": "w.fit"}}) == {"a": ["copy.fit"]}
    assert other_copies(index, {}) == {}


def test_files_index_roundtrip_and_hashes(tmp_path):
    index = {"/a.fit": new_entry("/a.fit", kind="activity", status="imported", activity_ids=["x", "y"],
                                 size=10, mtime_ns=5, sha256="ab")}
    frame = files_frame(index)
    assert str(frame["size"].dtype) == "int64" and list(frame["path"]) == ["/a.fit"]
    frame.to_parquet(tmp_path / "files.parquet", index=False)
    assert read_files_index(tmp_path / "files.parquet") == index
    assert read_files_index(tmp_path / "nothing.parquet") == {}
    (tmp_path / "f").write_bytes(b"x" * (3 << 20))
    assert hash_file(str(tmp_path / "f")) == hash_bytes(b"x" * (3 << 20)) == \
        hashlib.sha256(b"x" * (3 << 20)).hexdigest()
    st = os.stat(tmp_path / "f")
    assert stat_unchanged({"size": st.st_size, "mtime_ns": st.st_mtime_ns}, st)
    assert not stat_unchanged({"size": st.st_size, "mtime_ns": st.st_mtime_ns + 1}, st)


# ---- walking and classifying ---------------------------------------------------------


def test_walk_paths_sorted_once_without_the_store(tmp_path):
    (tmp_path / "in" / "b").mkdir(parents=True)
    (tmp_path / "in" / "store" / "records").mkdir(parents=True)
    for name in ("in/z.fit", "in/a.gpx", "in/b/c.tcx", "in/store/records/r.parquet", "in/store/files.parquet"):
        (tmp_path / name).write_bytes(b"")
    files, missing = walk_paths([tmp_path / "in", tmp_path / "in" / "a.gpx", tmp_path / "nope"],
                                tmp_path / "in" / "store")
    assert [os.path.relpath(f, tmp_path) for f in files] == ["in/a.gpx", "in/z.fit", "in/b/c.tcx"]
    assert [(r["path"], r["status"]) for r in missing] == [(str(tmp_path / "nope"), "failed")]


@pytest.mark.parametrize(("name", "head", "kind"), [
    ("x.zip", b"", "archive"),
    ("noext", b"PK\x03\x04rest", "archive"),
    ("a.FIT", b"", "activity"),
    ("a.gpx.gz", b"", "activity"),
    ("activities.csv", STRAVA, "strava_csv"),
    ("other.csv", b"a,b\n1,2\n", "other"),
    ("track.xml", GPX, "activity"),  # by content
    ("notes.txt", b"hello", "other"),
])
def test_classify(name, head, kind):
    assert classify(name, head) == kind


def test_plan_other_reasons():
    other = plan_other("/in/notes.txt", "other", b"hi", size=2, mtime_ns=7, sha="s", container="")
    assert other.fields["status"] == "not_an_activity" and other.meta_rows is None
    assert other.fields["reason"] == "not an activity file (.txt: not FIT, GPX or TCX by name or content)"
    csv = plan_other("/in/activities.csv", "strava_csv", STRAVA, size=9, mtime_ns=1, sha="s", container="")
    assert csv.fields["kind"] == "strava_csv" and csv.fields["reason"] == "Strava activities.csv"
    assert list(csv.meta_rows["file_key"]) == ["/in/activities/1.fit"]
    assert list(csv.meta_rows["csv_path"]) == ["/in/activities.csv"]
    bad = plan_other("/in/activities.csv", "strava_csv", b"Activity ID,Activity Date\n1,x\n",
                     size=9, mtime_ns=1, sha="s", container="")
    assert bad.fields["status"] == "failed" and bad.meta_rows is None
    assert "Filename" in bad.fields["reason"] and "missing" in bad.fields["reason"]


# ---- planning files ------------------------------------------------------------------


def test_plan_a_new_unchanged_touched_or_changed_file(tmp_path):
    path = tmp_path / "run.gpx"
    path.write_bytes(GPX)
    key = str(path)
    st = os.stat(key)
    [task] = plan_file(key, ctx())
    assert isinstance(task, Task) and task.path == key and task.size == len(GPX) and task.sha256 == ""
    entry = new_entry(key, kind="activity", status="imported", size=st.st_size, mtime_ns=st.st_mtime_ns,
                      sha256=hash_bytes(GPX))
    assert list(plan_file(key, ctx({key: entry}))) == [Unchanged(key)]
    assert isinstance(next(plan_file(key, ctx({key: entry}, force=True))), Task)
    assert isinstance(next(plan_file(key, ctx({key: entry}, intact=False))), Task)  # a record file lost
    os.utime(key, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes
    assert list(plan_file(key, ctx({key: entry}))) == [
        Unchanged(key, new_stat=(st.st_size, st.st_mtime_ns + 10**9))]
    path.write_bytes(GPX + b"\n")
    assert isinstance(next(plan_file(key, ctx({key: entry}))), Task)


def test_plan_files_no_worker_reads(tmp_path):
    missing = str(tmp_path / "gone.fit")
    [step] = plan_file(missing, ctx())
    assert isinstance(step, Settle) and step.fields["status"] == "failed"
    assert step.fields["reason"].startswith("cannot read the file")
    os.mkfifo(tmp_path / "pipe")
    [step] = plan_file(str(tmp_path / "pipe"), ctx())
    assert step.fields["reason"] == "not a regular file (device, pipe or socket)"
    (tmp_path / "activities.csv").write_bytes(STRAVA)
    [step] = plan_file(str(tmp_path / "activities.csv"), ctx())
    assert isinstance(step, Settle) and len(step.meta_rows) == 1
    assert step.fields["sha256"] == hash_bytes(STRAVA)


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_plan_archive_members(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(_zip({"a.gpx": GPX, "notes.txt": b"hi", "inner.zip": _zip({"b.gpx": GPX})}))
    key = str(path)
    steps = list(plan_file(key, ctx()))
    kinds = [(type(s).__name__, s.key.replace(key, "Z")) for s in steps]
    sep = MEMBER_SEP
    assert kinds == [
        ("Split", "Z"), ("Settle", "Z"),
        ("Task", f"Z{sep}a.gpx"), ("Settle", f"Z{sep}notes.txt"),
        ("Split", f"Z{sep}inner.zip"), ("Settle", f"Z{sep}inner.zip"),
        ("Task", f"Z{sep}inner.zip{sep}b.gpx"),
    ]
    top = steps[1]
    assert top.fields["kind"] == "archive" and top.fields["sha256"] == hash_file(key)
    assert "archive with 3 file(s)" in top.fields["reason"]
    task = steps[2]
    assert task.data == GPX and task.sha256 == hash_bytes(GPX) and task.mtime_ns == -1
    assert steps[6].container == f"{key}{sep}inner.zip"
    # read again: a member indexed with the same bytes is unchanged, a member gone is forgotten
    index = {s.key: new_entry(s.key, sha256=hash_bytes(GPX), kind="activity") for s in steps}
    index[f"{key}{sep}old.fit"] = new_entry(f"{key}{sep}old.fit")
    again = list(plan_file(key, ctx(index)))
    assert [type(s).__name__ for s in again] == [
        "Split", "Settle", "Unchanged", "Settle", "Split", "Settle", "Unchanged", "Forget"]
    assert again[2] == Unchanged(f"{key}{sep}a.gpx", recurse=False)
    assert again[-1] == Forget(f"{key}{sep}old.fit")
    # a member whose record file was lost is read again
    again = list(plan_file(key, ctx(index, intact=False)))
    assert isinstance(again[2], Task) and again[2].key == f"{key}{sep}a.gpx"
