"""The persistent-pain runner generator (benchmarks/persistent_generator.py) read by kneedata.

The generator never imports kneedata; these tests check that what it writes is what
a real runner hands over (a diary kneedata's reader accepts as is, runs kneedata
derives the same spikes from) and that the two pain shapes it is for look as
intended through kneedata: persistent pain gives almost no episodes, episodic pain
gives about the planned number.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kneedata as kd

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "benchmarks" / "persistent_generator.py"


def _load():
    spec = importlib.util.spec_from_file_location("persistent_generator", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules["persistent_generator"] = module
    spec.loader.exec_module(module)
    return module


gen = _load()


def test_generator_never_imports_kneedata():
    tree = ast.parse(GENERATOR.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert "kneedata" not in imported
    assert imported <= {"__future__", "hashlib", "dataclasses", "pathlib", "typing", "xml",
                        "numpy", "pandas"}


def test_same_seed_same_runner():
    a = gen.simulate(gen.Scenario(flare_spike=1.0), 5)
    b = gen.simulate(gen.Scenario(flare_spike=1.0), 5)
    pd.testing.assert_frame_equal(a.diary, b.diary)
    pd.testing.assert_frame_equal(a.activities, b.activities)


def _derive(runner, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kd.derive(runner.activities, runner.write_diary(tmp_path / "pain_diary.csv"))


def test_persistent_diary_reads_as_written_and_spikes_agree(tmp_path):
    runner = gen.simulate(gen.Scenario(flare_spike=1.0), 11)
    derived = _derive(runner, tmp_path)
    diary = derived.diary
    # every entry read, none dropped or changed
    assert len(diary) == len(runner.diary)
    written = runner.diary.assign(pain=runner.diary["pain_0_10"].astype(float))
    assert np.allclose(np.sort(diary["pain_0_10"].to_numpy()), np.sort(written["pain"].to_numpy()))
    counts = diary["timing"].value_counts()
    assert counts["next_morning"] > 0.7 * 730  # a morning entry on most days
    assert counts["after"] > 0.6 * len(runner.activities) * 0.85
    # kneedata's large spike is the generator's own spike rule
    spikes = derived.spikes.set_index("activity_id")["spike_category"].eq("large")
    truth = runner.runs.set_index("activity_id")["spike"]
    assert truth.sum() >= 3
    assert (spikes.reindex(truth.index) == truth).all()
    # pain on most days: persistent pain gives few episodes (the onset model starves)
    assert (diary["pain_0_10"] >= 3).mean() > 0.5
    assert len(derived.episodes) <= 5


def test_after_run_entries_follow_their_run_on_the_same_local_day():
    runner = gen.simulate(gen.Scenario(), 3)
    acts = runner.activities
    local = acts["start_time_utc"].dt.tz_convert(gen.TIMEZONE)
    end = local + pd.to_timedelta(acts["timer_time_s"], unit="s")
    by_day = dict(zip(local.dt.strftime("%Y-%m-%d"), end.dt.strftime("%H:%M"), strict=False))
    after = runner.diary[runner.diary["timing"] == "after"]
    assert len(after) > 100
    for row in after.itertuples():
        assert row.date in by_day
        assert row.time > by_day[row.date]
    # local dates of the runs are the Zurich dates of their UTC starts (DST included)
    assert (local.dt.date == acts["local_date"]).all()


@pytest.mark.slow
def test_episodic_runner_has_about_the_planned_episodes(tmp_path):
    seen = []
    for seed in range(4):
        runner = gen.simulate(gen.Scenario(mode="episodic", years=3, odds_ratio=3), seed)
        seen.append(len(_derive(runner, tmp_path).episodes))
    assert 8 <= np.median(seen) <= 22
