"""kneedata.physio (the lead by the diary's shape, run-response sentences) and plots.physio.

Inputs are small hand-built frames in the contract layout of kneedata.run_responses
(columns named in docs/run-response.md), so each expected value can be checked by
eye; the diary shapes come from the sample runner (episodes) and from the independent
persistent-pain generator in benchmarks/ (pain most days).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_modules import load
from matplotlib.collections import PathCollection

import kneedata as kd
from kneedata import physio, plots
from kneedata.errors import SchemaError

REPO = Path(__file__).resolve().parents[1]


def _generator():
    return load('persistent_generator')


@pytest.fixture
def responses() -> pd.DataFrame:
    # 5 runs over two weeks; the third was too much (7/10 during), the fifth unknown
    return pd.DataFrame({
        "activity_id": list("abcde"),
        "date": pd.to_datetime(["2025-03-03", "2025-03-05", "2025-03-08", "2025-03-11",
                                "2025-03-13"]),
        "pain_before": [2.0, 3.0, 2.0, 4.0, np.nan],
        "pain_during": [3.0, np.nan, 7.0, 4.0, np.nan],
        "pain_after": [3.0, 4.0, 6.0, np.nan, np.nan],
        "pain_next_morning": [2.0, 3.0, 5.0, 4.0, np.nan],
        "verdict": ["acceptable", "acceptable", "too_much", "acceptable", "unknown"],
    })


def test_physio_plot_draws_each_score_the_line_and_the_weeks(responses):
    ax = plots.physio(responses)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    sizes = sorted(len(c.get_offsets()) for c in points)
    # during 3, after 3, next morning 4 scores; 1 ring around the too-much run
    assert sizes == [1, 3, 3, 4]
    ring = min(points, key=lambda c: len(c.get_offsets()))
    assert ring.get_offsets()[0][1] == 7.0  # at its worst score
    assert any(np.allclose(line.get_ydata(), 5.0) for line in ax.get_lines())
    bottom = ax.figure.axes[1]
    heights = [p.get_height() for p in bottom.patches]
    # weeks of 3 Mar and 10 Mar: acceptable 2 / 1, too much 1 / 0, unknown 0 / 1
    assert heights == [2, 1, 1, 0, 0, 1]


def test_physio_plot_names_missing_columns(responses):
    with pytest.raises(SchemaError, match="pain_next_morning"):
        plots.physio(responses.drop(columns="pain_next_morning"))


def test_sentence_in_a_runners_words_only_for_a_finding():
    row = pd.Series({"term": "spike_large", "estimate": 1.4, "ci_low": 0.6, "ci_high": 2.2,
                     "p_adjusted": 0.004, "estimable": True, "n_runs": 180, "status": "ok"})
    assert physio.run_response_sentence(row).startswith(
        "The morning after a run more than twice your longest of the month, your knee was "
        "about 1.4 points worse (0.6 to 2.2)")
    # the same numbers beside an onset lead: no verdict
    beside = physio.run_response_sentence(row, finding=False)
    assert "worse" not in beside and "not a finding" in beside
    # an interval including 0 is never worded as a difference
    null = row.copy()
    null[["estimate", "ci_low", "ci_high", "p_adjusted"]] = [0.3, -0.2, 0.8, 0.4]
    text = physio.run_response_sentence(null)
    assert "no clear difference" in text and "worse" not in text
    gone = row.copy()
    gone[["estimable", "status"]] = [False, "too_few_runs"]
    assert "cannot estimate" in physio.run_response_sentence(gone)


def test_finding_rows_make_findings_only_when_run_response_leads():
    table = pd.DataFrame({"term": ["spike_large", "descent_100m"], "estimate": [1.4, 0.1],
                          "ci_low": [0.6, -0.1], "ci_high": [2.2, 0.3],
                          "p_value": [0.001, 0.3], "p_adjusted": [0.002, 0.3],
                          "n_runs": [180, 180], "estimable": [True, True],
                          "status": ["ok", "ok"]})
    result = type("R", (), {"table": table})()
    led = physio.finding_rows(result, lead=True)
    assert led["finding"].tolist() == [True, False]
    assert led["direction"].tolist() == ["harmful", "unclear"]
    beside = physio.finding_rows(result, lead=False)
    assert not beside["finding"].any()


def _derive(acts, diary_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kd.derive(acts, diary_path)


def test_diary_shape_of_the_sample_runner_is_episodic():
    sample = REPO / "sample_data"
    diary = kd.read_pain_diary(sample / "pain_diary.csv")
    acts = pd.DataFrame({"activity_id": ["x"], "sport": ["running"],
                         "local_date": [diary["date"].iloc[0]], "distance_m": [5000.0]})
    shape = physio.diary_shape(_derive(acts, diary))
    assert shape.kind == "episodic" and shape.n_episodes == 12
    assert shape.pain_day_share < 0.25
    assert shape.reason.startswith("Because your diary shows 12 separate episodes")


def test_diary_shape_of_a_persistent_runner(tmp_path):
    gen = _generator()
    runner = gen.simulate(gen.Scenario(years=1), 4)
    shape = physio.diary_shape(_derive(runner.activities,
                                       runner.write_diary(tmp_path / "d.csv")))
    assert shape.kind == "persistent" and shape.pain_day_share > physio.PERSISTENT_SHARE
    assert "leads with which runs left your knee worse the next morning" in shape.reason


def test_physio_plot_takes_the_weekly_table(responses):
    weekly = pd.DataFrame({"week_start": pd.to_datetime(["2025-03-03", "2025-03-10"]),
                           "n_acceptable": [2, 1], "n_too_much": [1, 0], "n_unknown": [0, 1],
                           "morning_pain_0_10": [2.5, 3.5]})
    ax = plots.physio(responses, weekly=weekly)
    bottom = ax.figure.axes[1]
    assert [p.get_height() for p in bottom.patches] == [2, 1, 1, 0, 0, 1]
    trend = ax.figure.axes[2].get_lines()[0]
    assert list(trend.get_ydata()) == [2.5, 3.5]
