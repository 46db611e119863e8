"""kneedata.report_findings: every statement the report makes, and the rule that bounds them.

The runners come from ``benchmarks/single_runner_sim.py``, a generator that never
imports kneedata; the report-level checks use the tiny sample store of
``tests/test_report.py``. The family-wise bound itself is measured in
``benchmarks/null_report_study.py`` (minutes; docs/findings.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmark_modules import load
from test_report import shared_root, tiny  # noqa: F401  (the sample runner's report)

import kneedata as kd
from kneedata.findings import (
    FINDING_COLUMNS,
    ReportFits,
    _lead_statement,
    findings_table,
)

REPO = Path(__file__).resolve().parents[1]


def _sim():
    return load('single_runner_sim')


sim = _sim()


def _runner(seed: int = 3, odds_ratio: float = 3.0) -> pd.DataFrame:
    frame, _ = sim.simulate(sim.Scenario(odds_ratio=odds_ratio, target_episodes=15), seed)
    rng = np.random.default_rng(seed)
    frame["n_strength"] = (rng.random(len(frame)) < 2 / 7).astype(float)  # about 2 a week
    return frame


def test_partial_routines_log_leaves_the_spike_episodes_unchanged():
    frame = _runner()
    full = kd.report_findings(frame)
    partial = frame.copy()
    partial.loc[partial.index < len(partial) // 2, "n_strength"] = np.nan  # log began mid-way
    part = kd.report_findings(partial)
    alone = kd.primary_analysis(frame, ["spike_large"]).n_episodes  # spike term by itself
    assert list(part.columns) == list(FINDING_COLUMNS)
    for model in ("primary_analysis", "daily_model"):
        def spike(t: pd.DataFrame, model: str = model) -> pd.Series:
            return t.loc[t["model"].eq(model) & t["exposure"].eq("spike_large")].iloc[0]

        assert spike(part)["n_episodes"] == spike(full)["n_episodes"] == alone
        if np.isfinite(spike(full)["estimate"]):
            assert np.isfinite(spike(part)["estimate"])
        strength = part.loc[part["model"].eq(model) & part["exposure"].eq("n_strength")].iloc[0]
        assert 0 < strength["n_episodes"] < spike(part)["n_episodes"]
        # one line says which episodes it used and why the others were left out
        assert re.search(r"used \d+ of \d+ episodes: the routines log covers only", strength["episodes_note"])
        assert spike(part)["episodes_note"].startswith("used all")


def _lead_row(lo: float, hi: float, p_adj: float) -> pd.Series:
    return pd.Series({"term": "spike_large_7d", "exposure": "spike_large",
                      "window": "days -7..-1 (any)", "ratio": (lo * hi) ** 0.5, "ci_low": lo,
                      "ci_high": hi, "p_value": p_adj / 2, "p_adjusted": p_adj,
                      "estimable": True, "status": "ok", "ratio_kind": "odds",
                      "n_episodes": 14, "n_informative": 5})


@pytest.mark.parametrize(("lo", "hi", "p_adj", "finding", "direction", "words"), [
    (1.5, 9.0, 0.01, True, "harmful", "pain started about"),
    (0.1, 0.6, 0.01, True, "protective", "pain started less often"),
    (1.02, 9.0, 0.08, False, "unclear", "not enough to call it a finding"),  # BH-adjusted
    (0.7, 9.0, 0.4, False, "unclear", "cannot tell whether it matters"),
])
def test_a_lead_term_is_a_finding_only_when_estimable_and_adjusted_p_below_005(
        lo, hi, p_adj, finding, direction, words):
    from types import SimpleNamespace

    row = _lead_row(lo, hi, p_adj)
    table = findings_table(ReportFits(primary=SimpleNamespace(
        table=pd.DataFrame([row]), model="primary_analysis")))
    got = table.iloc[0]
    assert bool(got["finding"]) is finding and got["direction"] == direction
    assert words in got["statement"] and "in the 7 days after" in got["statement"]
    assert ("times as often" in got["statement"]) is finding
    not_estimable = _lead_row(lo, hi, p_adj).copy()
    not_estimable["estimable"], not_estimable["status"] = False, "too_few_episodes"
    assert "cannot estimate" in _lead_statement(not_estimable, False, 7)


def test_sensitivity_rows_are_checks_not_findings():
    found = kd.report_findings(_runner(seed=4, odds_ratio=6.0))
    checks = found.loc[~found["section"].eq("lead")]
    assert len(checks) and not checks["finding"].any()
    assert checks["statement"].str.contains("check").all()
    assert checks["direction"].isin(["unclear", "not_estimable"]).all()


def test_findings_and_detectable_columns_are_in_the_glossary():
    from kneedata import schema

    assert list(schema.FINDINGS) == list(FINDING_COLUMNS)
    frame = _runner(seed=5)
    got = kd.detectable_odds_ratio(frame, ["spike_large"], n_sim=10, seed=0, direction="both")
    assert list(got.columns) == list(schema.DETECTABLE)


def _persistent():
    return load('persistent_generator')


@pytest.mark.slow
def test_a_derived_runner_gives_the_whole_reports_rows_run_response_included(tmp_path):
    """From a Derived, report_findings holds the run-response rows the report shows too:
    for a mostly painful diary they are the lead's (findings possible), and they are
    the physio section's own rows, word for word."""
    import warnings

    from kneedata import physio

    gen = _persistent()
    runner = gen.simulate(gen.Scenario(mode="persistent", years=1.5, flare_spike=2.0), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(runner.activities, runner.write_diary(tmp_path / "diary.csv"))
        rows = kd.report_findings(derived)
        view, shown = physio.analyse_report(derived)
    assert view.lead == "run_response" and shown is not None
    rr = rows.loc[rows["model"].eq("run_response_model")].reset_index(drop=True)
    assert rr["statement"].tolist() == shown["statement"].tolist()
    assert rr["section"].eq("lead").all() and rr["finding"].tolist() == shown["finding"].tolist()
    spike = rr.loc[rr["term"].eq("spike_large")].iloc[0]  # planted +2 points the morning after
    assert spike["finding"] and spike["direction"] == "harmful"
    onset_only = kd.report_findings(kd.analysis_frame(derived))  # a frame has no runs
    assert not onset_only["model"].eq("run_response_model").any()


# --- nothing in the report's words states an association that is not a finding row -----

#: Words that state an association between something and pain.
ASSOCIATION = re.compile(
    r"\b(more common|less common|more often|less often|as often|rais(?:es|ed|ing)|"
    r"lower(?:s|ed|ing)|link(?:s|ed)?|associat\w*|increas\w*|decreas\w*|higher risk|"
    r"lower risk|worse|better|protect\w*|harm\w*)\b", re.IGNORECASE)

#: Sentences with such words that are not about this runner's exposures, and why.
NOT_A_CLAIM = (
    (r"^(These are )?[Aa]ssociations in (one person's|your own) records", "the caveat"),
    (r"\?$", "a question the analysis asks (its method)"),
    (r"would detect \(in 80 % of simulated|^Its power now|^For 80 % power", "what the data "
     "could show: hypothetical effects"),
    (r"\b[A-Z][a-z]+(?: et al\.)? (?:19|20)\d\d\b", "the literature, with its citation"),
    (r"no evidence links", "a negation"),
    (r"this report leads with which runs left your knee worse", "why this lead (method)"),
)


def report_sentences(page: str) -> list[str]:
    """The rendered report's text as sentences (tags, styles and entities removed)."""
    import html

    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
    out: list[str] = []
    for block in text.split("\n"):
        block = " ".join(block.split())
        out += [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z(])", block) if s]
    return out


def unbacked_claims(page: str, findings: pd.DataFrame) -> list[str]:
    """Sentences stating an association that neither is a finding row's statement nor
    appears in :data:`NOT_A_CLAIM`."""
    import html

    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    for statement in findings.loc[findings["finding"].astype(bool), "statement"]:
        assert statement in " ".join(text.split()) or statement in text, statement
    backed = set()
    for statement in findings.loc[findings["finding"].astype(bool), "statement"]:
        backed.update(report_sentences(statement))
    return [s for s in report_sentences(page) if ASSOCIATION.search(s) and s not in backed
            and not any(re.search(pattern, s) for pattern, _ in NOT_A_CLAIM)]


def _rendered(derived):
    """The report's HTML for ``derived`` (its sections as write_report renders them; no
    figures and no power simulations) and its findings rows."""
    from kneedata import physio, report
    from kneedata.findings import fit_lead

    t = report.ReportTables(derived=derived, frame=kd.analysis_frame(derived))
    t.case_crossover, t.case_crossover_ml, t.daily_model, errors = report.fit_models(t.frame)
    t.primary, lead_errors, t.primary_status = fit_lead(t.frame)
    t.model_errors = lead_errors + errors
    t.physio, t.run_response = physio.analyse_report(derived)
    t.findings = kd.report_findings(t)
    return report._html(t, {}), t.findings


def test_the_scan_catches_an_unbacked_association_and_passes_a_finding():
    found = pd.DataFrame({"finding": [True], "statement": [
        "Each strength session: pain started less often (about 0.4 times as often) in the "
        "7 days after it as at other times (95 % interval 0.2 to 0.8)."]})
    page = (f"<p>{found['statement'].iloc[0]}</p><p>Runs in new shoes were more common "
            "before pain.</p><p>Did pain start more often after spikes?</p>")
    assert unbacked_claims(page, found) == ["Runs in new shoes were more common before pain."]
    assert unbacked_claims(page, found.assign(finding=False))[0].startswith("Each strength")


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "flare"), [("episodic", 0.0), ("persistent", 2.0)])
def test_no_sentence_of_a_generated_runners_report_states_an_unbacked_association(
        tmp_path, mode, flare):
    """A null runner (episodes, no true effect) and a mostly painful one with a planted
    flare after spikes (whose findings must be the only associations stated)."""
    import warnings

    gen = _persistent()
    runner = gen.simulate(gen.Scenario(mode=mode, years=1.5, flare_spike=flare), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        derived = kd.derive(runner.activities, runner.write_diary(tmp_path / "diary.csv"))
        page, found = _rendered(derived)
    assert unbacked_claims(page, found) == []
    assert int(found["finding"].sum()) == (0 if mode == "episodic" else 1), found
    # counts are worded by one helper (kneedata.text.count): never "1 episodes" or "run(s)"
    text = " ".join(report_sentences(page))
    assert not re.search(r"\b1 (pain |separate |scored )?(episodes|runs|entries)\b|\b(episode|run|day)\(s\)",
                         text)
    said = set(re.findall(r"(\d+) pain episodes? (?:\(a pain score|in the diary)", text))
    assert said == {str(len(derived.episodes))}, said  # the same count in every section
    if mode == "episodic":
        assert "in the 7 days after it" in found.loc[found["section"].eq("lead"), "statement"].iloc[0]


@pytest.mark.slow
def test_no_sentence_of_the_sample_runners_report_states_an_unbacked_association(tiny):  # noqa: F811
    """The report written by write_report (tests/test_report.py's 100-day sample runner)."""
    out = tiny["out"]
    page = (out / "report.html").read_text(encoding="utf-8")
    found = pd.read_csv(out / "findings.csv")
    assert unbacked_claims(page, found) == []
    claims = [s for s in report_sentences(page) if ASSOCIATION.search(s)]
    assert claims, "the scan found no association words at all: is it reading the report?"


@pytest.mark.slow
def test_notebook_04s_rows_are_the_reports_rows(tiny):  # noqa: F811
    """Notebook 04 prints kd.report_findings(inputs.derived): the rows of findings.csv."""
    from kneedata import Store

    data = tiny["data"]
    derived = kd.derive(Store(tiny["store"]), data / "pain_diary.csv", shoes=data / "shoes.csv",
                        routines=data / "routines.csv")
    mine = kd.report_findings(derived)
    written = pd.read_csv(tiny["out"] / "findings.csv")
    columns = ["section", "model", "term", "direction", "finding", "n_episodes", "statement"]
    assert mine[columns].astype(str).equals(written[columns].astype(str))
    source = (REPO / "notebooks" / "04-what-precedes-pain.py").read_text(encoding="utf-8")
    assert "kd.report_findings(inputs.derived)" in source
