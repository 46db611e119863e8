"""What the notebooks share with the report: opening the inputs, the exposures, the caveats.

A notebook starts with :func:`open_notebook_data`, which resolves the data folder,
opens (and if needed fills) the store, reads the runner's logs and runs
:func:`kneedata.derive` once; every table the notebook shows comes from the
returned :class:`NotebookData`. The exposure lists, the hazard window and the
plain-words caveats are the ones :mod:`kneedata.report` uses, so a notebook and
the report answer the same question the same way (they live in
:mod:`kneedata.settings`, re-exported here).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kneedata.errors import KneedataError
from kneedata.pipeline import Derived, DeriveOptions, derive
from kneedata.settings import (  # re-exported: the notebooks' settings are the report's
    CASE_CROSSOVER_EXPOSURES,
    CAVEATS,
    DAILY_EXPOSURES,
    HAZARD_DAYS,
    HIGHLIGHT_DAYS,
)

__all__ = [
    "CASE_CROSSOVER_EXPOSURES",
    "CAVEATS",
    "DAILY_EXPOSURES",
    "HAZARD_DAYS",
    "HIGHLIGHT_DAYS",
    "NotebookData",
    "notebook_paths",
    "open_notebook_data",
]


def _holds_files_from(store: Path, folder: Path) -> bool:
    """Whether the store at ``store`` indexes any file from inside ``folder``."""
    index = store / "files.parquet"
    if not index.is_file():
        return False
    import pyarrow.parquet as pq

    prefix = str(folder) + os.sep
    try:
        paths = pq.read_table(index, columns=["path"]).column("path").to_pylist()
    except (OSError, ValueError, KeyError):
        return False
    return any(isinstance(p, str) and p.startswith(prefix) for p in paths)


def notebook_paths(
    data: str | os.PathLike[str], store: str | os.PathLike[str] | None = None
) -> tuple[Path, Path]:
    """Resolve a notebook's input folder and choose its store.

    Parameters
    ----------
    data
        The folder of exports and logs; a relative path is taken relative to the
        working directory (the notebook's folder when Jupyter was started from
        ``notebooks/``, as ``make lab`` does).
    store
        Store folder; ``None`` means the default store of ``kneedata import``
        (:func:`kneedata.store.default_store_path`) when it already holds files
        from this ``data`` folder, else a scratch store for this ``data`` folder in
        the system temp folder (one per data folder, so sample and own data never
        mix, and nothing is written next to the data).

    Returns
    -------
    (data, store)
        Absolute paths.

    Raises
    ------
    FileNotFoundError
        ``data`` does not exist.
    """
    given = Path(data).expanduser()
    found = (given if given.is_absolute() else Path.cwd() / given).resolve()
    if not found.exists():
        raise FileNotFoundError(
            f"data folder {str(data)!r} not found (looked for {found}); set DATA in the "
            "notebook's first cell or the KNEEDATA_DATA environment variable to your "
            "export folder (an absolute path works from anywhere)."
        )
    from kneedata.store import default_store_path

    if store is None and _holds_files_from(default_store_path(), found):
        store_path = default_store_path()
    elif store is None:
        digest = hashlib.sha1(str(found).encode()).hexdigest()[:10]
        store_path = Path(tempfile.gettempdir()) / "kneedata-notebooks" / \
            f"{found.name}-{digest}" / "store"
    else:
        store_path = Path(store).expanduser().resolve()
    return found, store_path


class NotebookDataError(KneedataError, FileNotFoundError):
    """A notebook's data folder lacks a file the notebook needs (the pain diary)."""


@dataclass(frozen=True)
class NotebookData:
    """What a notebook works on: the resolved folders, the store and the derived tables.

    Attributes
    ----------
    data
        The data folder.
    store
        The opened :class:`kneedata.Store`.
    derived
        :func:`kneedata.derive` of the store and the logs: activities, runs, daily
        load, load metrics, spikes, gait, shoe usage and summary, diary, episodes,
        shoes and routines.
    """

    data: Path
    store: Any
    derived: Derived

    @property
    def diary(self) -> pd.DataFrame:
        """The validated pain diary."""
        assert self.derived.diary is not None
        return self.derived.diary

    @property
    def episodes(self) -> pd.DataFrame:
        """The diary's pain episodes (:func:`kneedata.pain_episodes`)."""
        assert self.derived.episodes is not None
        return self.derived.episodes

    @property
    def shoes(self) -> pd.DataFrame | None:
        """The shoes table, ``None`` when ``shoes.csv`` is absent."""
        return self.derived.shoes

    @property
    def routines(self) -> pd.DataFrame | None:
        """The routines log, ``None`` when ``routines.csv`` is absent."""
        return self.derived.routines


def open_notebook_data(
    data: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    *,
    options: DeriveOptions | None = None,
) -> NotebookData:
    """Open a notebook's inputs and derive every table once.

    Parameters
    ----------
    data, store
        As for :func:`notebook_paths`. ``data`` must hold ``pain_diary.csv``;
        ``shoes.csv`` and ``routines.csv`` are read when present. An empty store
        is filled from ``data`` first.
    options
        :class:`kneedata.DeriveOptions` (e.g. ``height_m``); defaults when ``None``.

    Raises
    ------
    NotebookDataError
        ``data`` holds no ``pain_diary.csv`` (one line: the folder, what is missing,
        the fix ``kneedata init``).

    Returns
    -------
    NotebookData
    """
    from kneedata.store import Store

    folder, store_path = notebook_paths(data, store)
    if not (folder / "pain_diary.csv").is_file():
        raise NotebookDataError(
            f"no pain_diary.csv in {folder}: this notebook needs the pain diary there; write "
            f"the templates with `kneedata init {folder}` and fill in pain_diary.csv, or point "
            "DATA (or KNEEDATA_DATA) at the folder that holds it"
        )
    opened = Store(store_path)
    if not opened.exists() or opened.activities().empty:  # notebook 1 not run yet
        opened.import_paths([folder], progress=False)

    def optional(name: str) -> Path | None:
        return folder / name if (folder / name).exists() else None

    derived = derive(opened, folder / "pain_diary.csv", shoes=optional("shoes.csv"),
                     routines=optional("routines.csv"), options=options)
    return NotebookData(data=folder, store=opened, derived=derived)
