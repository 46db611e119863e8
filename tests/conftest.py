"""Shared fixtures: the one way tests reach the real files in ../shared/real_data and ../shared/real_wellness."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def _locate_real_data() -> Path | None:
    env = os.environ.get("KNEEDATA_REAL_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "real_data")
    for path in candidates:
        if (path / "fit_session_summaries.csv").is_file():
            return path
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of real watch files (``../shared/real_data`` or ``$KNEEDATA_REAL_DATA``)."""
    path = _locate_real_data()
    if path is None:
        pytest.skip(
            "real watch files not found: set KNEEDATA_REAL_DATA or place them in "
            "../shared/real_data next to the repository"
        )
    return path


def _locate_real_wellness() -> Path | None:
    env = os.environ.get("KNEEDATA_REAL_WELLNESS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "real_wellness")
    for path in candidates:
        if (path / "SOURCES.md").is_file() and any(path.glob("*.fit")):
            return path
    return None


@pytest.fixture(scope="session")
def real_wellness() -> Path:
    """Folder of real Garmin wellness FIT files (``../shared/real_wellness`` or ``$KNEEDATA_REAL_WELLNESS``)."""
    path = _locate_real_wellness()
    if path is None:
        pytest.skip(
            "real wellness files not found: set KNEEDATA_REAL_WELLNESS or place them in "
            "../shared/real_wellness next to the repository"
        )
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    """The one source of randomness in tests (seeded)."""
    return np.random.default_rng(20261125)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
