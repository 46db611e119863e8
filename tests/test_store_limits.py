"""Import limits: the per-file time limit (a file that takes too long fails, the rest go on)."""

from __future__ import annotations

import dataclasses
import shutil
import signal
import time

import pandas as pd
import pytest

from kneedata.io.exports import ZipLimits
from kneedata.store import Store
from kneedata.store import worker as worker_module
from kneedata.store.worker import FileTimeLimit, time_limit


def _rows(report):
    return {r["path"].rsplit("/", 1)[-1]: r for r in report.rows}


def test_time_limit_interrupts_a_python_loop_and_restores_the_handler():
    before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    with pytest.raises(FileTimeLimit), time_limit(0.2) as armed:
        assert armed
        while True:
            pass
    assert time.monotonic() - started < 30
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with time_limit(None) as armed:
        assert not armed


def test_a_file_over_the_time_limit_fails_and_the_others_import(tmp_path, real_data, monkeypatch):
    folder = tmp_path / "watch"
    folder.mkdir()
    for name in ("run.gpx", "run_garmin.tcx"):
        src = real_data / ("gpx" if name.endswith(".gpx") else "tcx") / name
        shutil.copy(src, folder / name)
    shutil.copy(real_data / "gpx" / "run.gpx", folder / "hangs.gpx")
    (folder / "hangs.gpx").write_bytes((folder / "hangs.gpx").read_bytes() + b"\n<!-- other -->")
    real_reader = worker_module.read_activities_bytes

    def reader(data, source_file, **kwargs):
        if source_file.endswith("hangs.gpx"):
            while True:  # a reader stuck in a loop
                pass
        return real_reader(data, source_file, **kwargs)

    monkeypatch.setattr(worker_module, "read_activities_bytes", reader)
    # the genuine files are read once first (lazy imports, time zone tables), and the
    # limit is far above their read time even on a loaded machine
    for name in ("run.gpx", "run_garmin.tcx"):
        real_reader((folder / name).read_bytes(), name)
    store = Store(tmp_path / "s", limits=ZipLimits(max_file_seconds=5.0))
    report = store.import_paths([folder], workers=1, progress=False)
    rows = _rows(report)
    assert set(rows) == {"run.gpx", "run_garmin.tcx", "hangs.gpx"}
    assert rows["hangs.gpx"]["status"] == "failed"
    reason = rows["hangs.gpx"]["reason"]
    assert "'hangs.gpx'" in reason and "time limit of 5 s" in reason and "--file-seconds" in reason
    assert rows["run.gpx"]["status"] == "imported" and rows["run_garmin.tcx"]["status"] == "imported"
    assert len(store.activities()) == 2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_holds_in_worker_processes(tmp_path, real_data):
    # a 3.5 MB TCX takes far longer than 1 ms to read; in a worker process too
    folder = tmp_path / "watch"
    folder.mkdir()
    shutil.copy(real_data / "tcx" / "6782987395.tcx", folder / "big.tcx")
    shutil.copy(real_data / "gpx" / "run.gpx", folder / "run.gpx")
    limits = dataclasses.replace(ZipLimits(), max_file_seconds=0.001)
    report = Store(tmp_path / "s", limits=limits).import_paths([folder], workers=2, progress=False)
    rows = _rows(report)
    assert set(rows) == {"big.tcx", "run.gpx"}
    assert rows["big.tcx"]["status"] == "failed"
    assert "time limit of 0.001 s" in rows["big.tcx"]["reason"]
    # with the default limit both import
    report = Store(tmp_path / "s2").import_paths([folder], workers=2, progress=False)
    assert {r["status"] for r in report.rows} == {"imported"}


def test_memory_limit_holds_in_worker_processes(tmp_path, real_data):
    # reading a 3.5 MB TCX takes ~20 MB more than a worker holds; the limit is 8 MiB
    folder = tmp_path / "watch"
    folder.mkdir()
    shutil.copy(real_data / "tcx" / "6782987395.tcx", folder / "big.tcx")
    shutil.copy(real_data / "gpx" / "run.gpx", folder / "run.gpx")
    limits = ZipLimits(max_file_memory_bytes=8 * 2**20)
    report = Store(tmp_path / "s", limits=limits).import_paths([folder], workers=2, progress=False)
    rows = _rows(report)
    assert set(rows) == {"big.tcx", "run.gpx"}
    assert rows["big.tcx"]["status"] == "failed"
    assert "'big.tcx' needed more than the per-file memory limit of 8 MiB" in rows["big.tcx"]["reason"]


def test_memory_limit_is_never_set_in_the_importing_process():
    import resource

    from kneedata.store.worker import memory_limit

    before = resource.getrlimit(resource.RLIMIT_AS)
    with memory_limit(2**20) as armed:
        assert not armed and resource.getrlimit(resource.RLIMIT_AS) == before


# --------------------------------------------------------------------------------
# one expansion budget across every nesting level of an archive


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def _nested_bomb() -> bytes:
    """8 x 8 zips of 8 members of 1 MiB of zeros: 512 MiB from a 4 kB file.

    Every member is at the ratio_min_bytes size (never refused alone) and every zip
    is within its own ratio budget: only a budget over all levels stops it.
    """
    inner = _zip_bytes([(f"m{i}.gpx", b"\0" * 2**20) for i in range(8)])
    middle = _zip_bytes([(f"inner{i}.zip", inner) for i in range(8)])
    return _zip_bytes([(f"middle{i}.zip", middle) for i in range(8)])


def test_nested_zips_share_one_expansion_budget():
    import io
    import zipfile

    from kneedata.io.exports import iter_zip

    bomb = _nested_bomb()
    limits = ZipLimits()
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        budget = max(limits.ratio_min_bytes, limits.max_ratio * sum(i.compress_size for i in zf.infolist()))
    assert len(bomb) < 100_000 and budget < 32 * 2**20
    members = list(iter_zip(io.BytesIO(bomb), "bomb.zip", limits=limits))
    read = sum(len(m.data) for m in members if m.data is not None)
    nested_opened = [m for m in members if m.is_archive and not m.error and m.key != "bomb.zip"]
    assert read <= budget  # before: 512 MiB of members read from a 4 kB zip
    refused = [m for m in members if m.error]
    assert refused and all("across all nesting levels" in m.error for m in refused)
    # a refused nested zip is one row, never opened: far fewer rows than the 512 members
    assert len(members) < 100 and len(nested_opened) < 8


def test_import_of_a_nested_bomb_reports_the_budget(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(_nested_bomb())
    report = Store(tmp_path / "s").import_paths([path], workers=1, progress=False)
    failed = [r for r in report.rows if r["status"] == "failed"]
    assert failed and all("across all nesting levels" in r["reason"] for r in failed)
    assert len(report.rows) < 100


# --------------------------------------------------------------------------------
# links to folders


def test_a_linked_watch_folder_is_imported_and_a_loop_is_reported(tmp_path, real_data):
    import os

    synced = tmp_path / "synced"
    synced.mkdir()
    shutil.copy(real_data / "gpx" / "run.gpx", synced / "run.gpx")
    shutil.copy(real_data / "tcx" / "run_garmin.tcx", synced / "run_garmin.tcx")
    runner = tmp_path / "runner"
    runner.mkdir()
    os.symlink(synced, runner / "watch")  # the runner's watch/ is a link
    os.symlink(runner, synced / "back")  # ... and a link back up: a loop
    os.symlink(synced, runner / "again")  # a second link to the same folder
    os.symlink(tmp_path / "gone", runner / "dangling")
    report = Store(tmp_path / "s").import_paths([runner], workers=1, progress=False)
    rows = {r["path"]: r for r in report.rows}
    imported = sorted(os.path.basename(p) for p, r in rows.items() if r["status"] == "imported")
    assert imported == ["run.gpx", "run_garmin.tcx"]  # each once (before: 0 imported)
    linked = [r for r in report.rows if "not read twice" in r["reason"]]
    # walked in sorted order: again/ is read first, then again/back (the runner folder)
    # and watch/ (the same folder as again/) are rows
    assert sorted(os.path.basename(r["path"]) for r in linked) == ["back", "watch"]
    assert all(r["status"] == "not_an_activity" for r in linked)
    assert rows[str(runner / "dangling")]["status"] == "failed"
    assert len(Store(tmp_path / "s").activities()) == 2


# --------------------------------------------------------------------------------
# the reader version in the files index


def _as_if_an_older_reader_wrote(store_dir, *, drop_column: bool) -> None:
    """Make a store look written by an older kneedata: no (or another) reader version,
    and an activity row with a time zone the current reader does not give."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = pq.read_table(store_dir / "files.parquet")
    if drop_column:
        files = files.drop_columns(["reader_version"])
    else:
        files = files.set_column(files.schema.get_field_index("reader_version"), "reader_version",
                                 pa.array(["2025-01-01a"] * files.num_rows))
    pq.write_table(files, store_dir / "files.parquet")
    acts = pd.read_parquet(store_dir / "activities.parquet")
    acts["timezone"] = "America/New_York"
    acts["utc_offset_min"] = -240.0
    acts.to_parquet(store_dir / "activities.parquet")


@pytest.mark.parametrize("drop_column", [True, False], ids=["no version", "older version"])
def test_files_read_by_an_older_reader_are_read_again(tmp_path, real_data, drop_column):
    import io
    import zipfile

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(real_data / "gpx" / "run.gpx", folder / "run.gpx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.write(real_data / "tcx" / "run_garmin.tcx", "run_garmin.tcx")
    (folder / "export.zip").write_bytes(buffer.getvalue())
    store = Store(tmp_path / "s")
    first = store.import_paths([folder], workers=1, progress=False)
    good = store.activities().set_index("activity_id")[["timezone", "utc_offset_min"]]
    assert first.notes == []
    _as_if_an_older_reader_wrote(tmp_path / "s", drop_column=drop_column)

    second = Store(tmp_path / "s").import_paths([folder], workers=1, progress=False)
    statuses = {r["path"].rsplit("/", 1)[-1]: r["status"] for r in second.rows}
    assert statuses["run.gpx"] == "imported" and statuses["export.zip::run_garmin.tcx"] == "imported"
    assert second.n_files_read == 2  # before: both 'unchanged' forever
    assert any("2 file(s) re-read with the new reader" in n for n in second.notes)
    assert "re-read with the new reader" in second.summary()
    fixed = Store(tmp_path / "s").activities().set_index("activity_id")[["timezone", "utc_offset_min"]]
    pd.testing.assert_frame_equal(fixed, good)

    third = Store(tmp_path / "s").import_paths([folder], workers=1, progress=False)
    assert third.n_files_read == 0 and third.notes == []
    assert {r["status"] for r in third.rows if r["path"].endswith((".gpx", ".tcx"))} == {"unchanged"}
