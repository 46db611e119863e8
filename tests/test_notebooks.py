"""Execute every notebook (jupytext py:percent -> nbformat -> nbclient) on sample_data/.

A broken notebook fails the test command. The notebooks share one store, built once
per test session by running ``01-import`` (under pytest-xdist the workers share it
through a lock file), so the sample runner is imported once. Kernels run in a
temporary working directory: nothing is written into the repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.py"))
SAMPLE = REPO / "sample_data"
FIRST = "01-import"
TIMEOUT_S = 600  # per cell; the four notebooks together take well under this (README)

pytestmark = pytest.mark.slow


def _snapshot() -> set[Path]:
    """Files a notebook could leave behind in the repository (caches excluded)."""
    found = set()
    for folder in (REPO, REPO / "notebooks", REPO / "sample_data"):
        for path in folder.iterdir():
            if not path.name.startswith(".") and path.name != "__pycache__":
                found.add(path)
    return found


def _execute(path: Path, *, workdir: Path, store: Path,
             data: Path = SAMPLE) -> tuple[float, str, list[str], str]:
    """Run one notebook in a fresh venv kernel.

    Returns seconds taken, the kernel's ``sys.prefix``, any files that
    appeared in the repository meanwhile, and the cells' plain-text outputs.
    """
    before = _snapshot()
    nb = jupytext.read(path, fmt="py:percent")
    # first cell reports which Python environment the kernel runs in (must be this one)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    env = dict(os.environ, KNEEDATA_DATA=str(data), KNEEDATA_STORE=str(store),
               MPLBACKEND="Agg", PYTHONWARNINGS="ignore::DeprecationWarning")
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    kernel_python = "".join(o.get("text", "") for o in nb.cells[0].outputs).strip()
    shown = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                      for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    return seconds, kernel_python, sorted(str(p) for p in _snapshot() - before), shown


try:
    import fcntl

    _HAVE_FLOCK = True
except ImportError:  # pragma: no cover - Windows: each worker builds its own store
    _HAVE_FLOCK = False


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    if not _HAVE_FLOCK:  # pragma: no cover
        yield
        return
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def notebook_root(tmp_path_factory) -> Path:
    """Folder shared by every pytest-xdist worker of this session (needs fcntl)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and _HAVE_FLOCK:
        return base.parent / "notebooks"  # xdist: basetemp/.. is this run's own folder
    return base / "notebooks"


@pytest.fixture(scope="session")
def imported_store(notebook_root) -> dict:
    """Run 01-import once per session into a shared store; later callers reuse it."""
    notebook_root.mkdir(parents=True, exist_ok=True)
    marker = notebook_root / "01-import.json"
    with _locked(notebook_root / "store.lock"):
        if not marker.exists():
            store = notebook_root / "store"
            work = notebook_root / "work-01"
            work.mkdir(exist_ok=True)
            result: dict = {"store": str(store)}
            try:
                seconds, kernel, new, shown = _execute(REPO / "notebooks" / f"{FIRST}.py",
                                                       workdir=work, store=store)
                result.update(ok=True, seconds=seconds, kernel=kernel, new_files=new,
                              shown=shown)
            except Exception as err:  # reported by the 01 test, not swallowed
                result.update(ok=False, error=f"{type(err).__name__}: {err}")
            marker.write_text(json.dumps(result))
    return json.loads(marker.read_text())


def test_notebooks_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01-import", "02-load-and-shoes", "03-form", "04-what-precedes-pain",
                     "05-try-a-change", "06-a-cohort", "07-which-runs-flare"]


def test_sample_data_present():
    assert (SAMPLE / "pain_diary.csv").is_file(), "sample_data/ is generated by make_sample_runner.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, imported_store, notebook_root, record_property):
    if path.stem == FIRST:
        assert imported_store["ok"], f"{FIRST} failed:\n{imported_store.get('error')}"
        seconds, kernel, new = (imported_store[k] for k in ("seconds", "kernel", "new_files"))
    else:
        if not imported_store["ok"]:
            pytest.fail(f"{FIRST} failed, so the shared store is missing; fix it first")
        work = notebook_root / f"work-{path.stem}"
        work.mkdir(exist_ok=True)
        seconds, kernel, new, _ = _execute(path, workdir=work,
                                           store=Path(imported_store["store"]))
    record_property("seconds", round(seconds, 1))
    # the kernel ran in this venv, not in whatever `python` is first on PATH
    assert Path(kernel) == Path(sys.prefix)
    # nothing written into the repository
    assert new == []


def test_import_notebook_shows_reasons_and_notes_in_full(imported_store):
    # issue 13: notebook 01 cut every reason at pandas' 50 characters, and its
    # data-quality notes named neither the file nor the activity
    if not imported_store["ok"]:
        pytest.fail(f"{FIRST} failed:\n{imported_store.get('error')}")
    shown = imported_store["shown"]
    # sample_data/shoes.csv is skipped with a 68-character reason
    assert "not an activity file (.csv: not FIT, GPX or TCX by name or content)" in shown
    assert "activity_id" in shown and "note" in shown  # kd.quality_notes table


@pytest.fixture(scope="session")
def own_folder(notebook_root) -> Path:
    """A runner's own folder: watch files and a pain diary only (no shoes, routines,
    experiment or truth.json), from the sample-runner generator (60 days)."""
    import shutil
    import subprocess

    folder = notebook_root / "own-folder"
    notebook_root.mkdir(parents=True, exist_ok=True)
    with _locked(notebook_root / "own-folder.lock"):
        if not (folder / "pain_diary.csv").is_file():
            subprocess.run([sys.executable, str(SAMPLE / "make_sample_runner.py"), "--out",
                            str(folder), "--days", "60"], check=True, capture_output=True)
            for extra in ("shoes.csv", "routines.csv", "truth.json", "experiment"):
                target = folder / extra
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    return folder


def test_load_notebook_on_a_runners_own_folder_in_miles(own_folder, notebook_root, monkeypatch):
    # issue 25: 02 stopped with an AttributeError on a folder without shoes.csv; it says
    # what it needs, shows what it can, in the runner's units, notes as plain lines
    work = notebook_root / "own-02"
    work.mkdir(exist_ok=True)
    monkeypatch.setenv("KNEEDATA_UNITS", "mi")
    _, _, new, shown = _execute(REPO / "notebooks" / "02-load-and-shoes.py", workdir=work,
                                store=notebook_root / "own-store", data=own_folder)
    assert new == []
    assert "No shoes list: put shoes.csv in" in shown
    assert "note: " in shown and "pipeline.py:" not in shown  # a plain line
    assert "distance (mi)" in shown and "distance_km" not in shown
