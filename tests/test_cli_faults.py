"""Command-line faults of the second fault campaign: disk advice by cause, Ctrl-C."""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys

import pytest

from kneedata.cli import main
from kneedata.store import Store
from kneedata.store import core as store_module
from kneedata.store import worker as worker_module


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("code", "advice", "not_advice"), [
    (errno.EROFS, "cannot be written (read-only", "disk space"),
    (errno.ENOSPC, "Free some disk space", "read-only"),
])
def test_disk_error_advice_follows_the_cause(tmp_path, monkeypatch, capsys, code, advice, not_advice):
    (tmp_path / "in").mkdir()

    def refuse(self):
        raise OSError(code, os.strerror(code), str(tmp_path / "s" / ".lock"))

    monkeypatch.setattr(store_module.Store, "_lock", refuse)
    assert main(["import", str(tmp_path / "in"), "--store", str(tmp_path / "s"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert advice in err and not_advice not in err  # before: 'Free some disk space' for a read-only disk
    assert len(err.strip().splitlines()) == 1


def test_ctrl_c_during_import_is_one_line_and_the_bar_does_not_jump(tmp_path, real_data, monkeypatch, capsys):
    import tqdm

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.gpx", "b.gpx", "c.gpx"):
        shutil.copy(real_data / "gpx" / "run.gpx", folder / name)
    real_reader = worker_module.read_activities_bytes

    def reader(data, source_file, **kwargs):
        if source_file.endswith("b.gpx"):
            raise KeyboardInterrupt
        return real_reader(data, source_file, **kwargs)

    seen: list[tuple[float, float]] = []

    class Recording(tqdm.tqdm):
        def update(self, n=1):
            out = super().update(n)
            seen.append((self.n, self.total))
            return out

    monkeypatch.setattr(tqdm, "tqdm", Recording)
    monkeypatch.setattr(worker_module, "read_activities_bytes", reader)
    monkeypatch.setattr(sys, "stderr", _Tty())
    code = main(["import", str(folder), "--store", str(tmp_path / "s"), "--workers", "1"])
    err = sys.stderr.getvalue()
    monkeypatch.undo()
    assert code == 130
    assert "Traceback" not in err and "interrupted" in err and "run the same command again" in err
    assert seen and seen[-1][0] < seen[-1][1]  # before: the bar jumped to 100 % on the interrupt
    assert len(Store(tmp_path / "s").activities()) == 1  # a.gpx, read before the interrupt, is kept
