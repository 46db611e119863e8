"""End to end: persistent-pain runners no other test has seen, through `kneedata import` and `kneedata report`.

The runners come from the independent generator ``benchmarks/persistent_generator.py``
(it never imports kneedata; tests/test_persistent_generator.py checks that). Each is
handed over the way a runner would: one GPX file per run in a ``watch/`` folder and a
pain diary CSV without activity ids (entries linked to runs by date and time). The
command line then imports the folder and writes the report, and the tests read what
the runner reads: ``report.html``, ``model_run_response.csv`` and ``findings.csv``.

Scenarios and seeds were fixed before any run was looked at: a runner whose next
morning is 2 points worse after a large spike and 0.3 points worse per 100 m of
descent (2 years, seed 1), and a runner whose runs do nothing to the knee (1.5 years,
seed 2). One runner's 95 % interval misses the truth one time in twenty by design
(seed 1's descent interval does: 0.34 to 0.59 around a true 0.3), so a single runner
is held to its estimate lying within 3 standard errors of the truth; coverage over
runners is measured by ``benchmarks/persistent_report_study.py`` (this same path) and
``benchmarks/persistent_study.py`` (docs/run-response.md, "Simulation study").
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from kneedata.cli import main

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import persistent_generator as gen  # noqa: E402

pytestmark = pytest.mark.slow

FLARE = gen.Scenario(years=2, flare_spike=2.0, flare_per_100m=0.3)
NULL = gen.Scenario(years=1.5)
#: The planted next-morning flare per term, in the unit of its estimate.
PLANTED = {"spike_large": 2.0, "descent_m": 0.3}


def _report(folder: Path, scenario: gen.Scenario, seed: int) -> Path:
    """Write the runner's files, import them and write the report; the report folder."""
    runner = gen.simulate(scenario, seed)
    runner.write_gpx(folder / "watch", point_s=60.0)
    diary = runner.write_diary(folder / "pain_diary.csv")
    store, out = folder / "store", folder / "report"
    assert main(["import", str(folder / "watch"), "--store", str(store), "--workers", "1",
                 "--no-progress"]) == 0
    assert main(["report", "--store", str(store), "--diary", str(diary), "--out", str(out),
                 "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def flare_report(tmp_path_factory) -> Path:
    return _report(tmp_path_factory.mktemp("flare"), FLARE, 1)


@pytest.fixture(scope="module")
def null_report(tmp_path_factory) -> Path:
    return _report(tmp_path_factory.mktemp("null"), NULL, 2)


def _text(out: Path) -> str:
    """report.html as a runner reads it: tags dropped, entities decoded, one line."""
    page = (out / "report.html").read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _lead(out: Path) -> str:
    """The report's text from its first line to the onset analysis that follows the lead."""
    text = _text(out)
    return text[:text.index("The short answer: what came before pain started?")]


def test_flare_runner_the_planted_flares_are_found_near_the_truth(flare_report):
    table = pd.read_csv(flare_report / "model_run_response.csv").set_index("term")
    assert table.loc["descent_m", "per"] == "100 m of descent"
    for term, truth in PLANTED.items():
        row = table.loc[term]
        if not row["estimable"]:  # a spike needs 5 scored runs with it
            assert term == "spike_large" and row["status"] == "too_few_runs"
            continue
        assert abs(row["estimate"] - truth) < 3 * row["std_error"], term
        assert row["ci_low"] > 0 and row["p_adjusted"] < 0.05, term
    assert table.loc["descent_m", "estimable"]


def test_flare_runner_findings_name_only_the_planted_terms(flare_report):
    findings = pd.read_csv(flare_report / "findings.csv")
    found = findings.loc[findings["finding"].astype(bool)]
    assert set(found["model"]) == {"run_response_model"}
    assert "descent_m" in set(found["term"])
    assert set(found["term"]) <= set(PLANTED)
    assert (found["direction"] == "harmful").all()


def test_flare_runner_lead_says_what_it_found_in_a_runners_words(flare_report):
    lead = _lead(flare_report)
    # why this lead, first
    assert re.search(r"Because your knee hurt \(3/10 or more\) on \d+ % of the \d+ days", lead)
    assert lead.index("Because your knee hurt") < lead.index(
        "Which runs left your knee worse the next morning?")
    # the descent flare in points, with its interval, as the runner would say it
    descent = re.search(r"For each 100 m of descent in a run, your knee was about (\d\.\d) "
                        r"points worse the next morning \((\d\.\d) to (\d\.\d)\)", lead)
    assert descent, lead[:2000]
    table = pd.read_csv(flare_report / "model_run_response.csv").set_index("term")
    said = [float(x) for x in descent.groups()]
    assert said == [round(table.loc["descent_m", c], 1) for c in ("estimate", "ci_low",
                                                                  "ci_high")]
    assert said[1] > 0
    assert "No feature of your runs made a clear difference" not in lead
    assert "associations in your own records" in lead.lower()


def test_null_runner_report_names_no_run_property(null_report):
    findings = pd.read_csv(null_report / "findings.csv")
    assert not findings["finding"].astype(bool).any(), findings.loc[
        findings["finding"].astype(bool), "statement"].tolist()
    table = pd.read_csv(null_report / "model_run_response.csv")
    assert table["estimable"].astype(bool).sum() >= 3  # it looked, and found nothing
    lead = _lead(null_report)
    assert "Because your knee hurt" in lead
    assert "No feature of your runs made a clear difference the next morning so far." in lead
    assert "points worse the next morning (" not in lead
