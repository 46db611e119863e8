"""kneedata.settings is the one home of the analysis settings: the report, the notebooks and
the models read it, and changing a setting there changes what they fit. And the public
surface: every error a user may catch is exported from kneedata."""

from __future__ import annotations

import ast
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

import kneedata as kd
from kneedata import cohort_report, findings, notebook, report, settings
from kneedata.models import CAVEAT, PRIMARY_DESIGN, PRIMARY_EXPOSURES, primary

SETTINGS = Path(settings.__file__)


def test_settings_import_nothing_from_kneedata():
    """A leaf: any module may read it without a cycle."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    sources = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    sources += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [s for s in sources if s.startswith("kneedata")]


def test_the_old_names_are_the_settings_themselves():
    assert notebook.CAVEATS is settings.CAVEATS is report.CAVEATS
    assert notebook.CASE_CROSSOVER_EXPOSURES is settings.CASE_CROSSOVER_EXPOSURES
    assert notebook.DAILY_EXPOSURES is report.DAILY_EXPOSURES is settings.DAILY_EXPOSURES
    assert notebook.HAZARD_DAYS == report.HAZARD_DAYS == settings.HAZARD_DAYS
    assert PRIMARY_EXPOSURES is settings.PRIMARY_EXPOSURES
    assert PRIMARY_DESIGN is settings.PRIMARY_DESIGN
    assert CAVEAT is settings.MODEL_CAVEAT
    assert findings.STRATUM_DAYS == settings.STRATUM_DAYS
    assert cohort_report.COHORT_EXPOSURES is settings.COHORT_EXPOSURES


def test_report_models_are_read_only_and_name_their_csv():
    assert isinstance(settings.REPORT_MODELS, MappingProxyType)
    with pytest.raises(TypeError):
        settings.REPORT_MODELS["daily_model"].options["lags"] = (1,)  # type: ignore[index]
    assert [m.section for m in settings.REPORT_MODELS.values()][0] == "lead"
    assert {m.csv for m in settings.REPORT_MODELS.values()} == {
        "model_primary.csv", "model_case_crossover.csv", "model_daily.csv"}
    # the report's models keep their sections (other families add their own)
    assert {k: findings.SECTIONS[k] for k in settings.REPORT_MODELS} == {
        k: m.section for k, m in settings.REPORT_MODELS.items()}


def _frame():
    days = kd.simulate_runner_days(900, seed=4, effects={"spike_large": 3.0})
    days["n_strength"] = (np.random.default_rng(4).random(len(days)) < 2 / 7).astype(float)
    return days


def test_the_report_fits_what_the_settings_say(monkeypatch):
    """Change the daily model's lag and the lead's window in settings: the fits follow."""
    frame = _frame()
    models = dict(settings.REPORT_MODELS)
    models["daily_model"] = settings.ReportModel(
        section="sensitivity: daily model", csv="model_daily.csv", exposures=("spike_large",),
        options={**models["daily_model"].options, "lags": (14,)})
    models["primary_analysis"] = settings.ReportModel(
        section="lead", csv="model_primary.csv", exposures=("spike_large",),
        options={"window_days": 3})
    monkeypatch.setattr(findings, "REPORT_MODELS", MappingProxyType(models))
    cc, _, dm, errors = findings.fit_sensitivity(frame, daily_exposures=("spike_large",))
    lead, _, _ = findings.fit_lead(frame, ["spike_large"])
    assert list(dm.table["term"]) == ["spike_large_14d"]
    assert list(lead.table["term"]) == ["spike_large_3d"]
    assert cc.settings["stratum_days"] == settings.STRATUM_DAYS


def test_primary_analysis_defaults_come_from_settings():
    import inspect

    window = inspect.signature(primary.primary_analysis).parameters["window_days"].default
    assert window == settings.HAZARD_DAYS


def test_every_error_a_user_may_catch_is_exported_and_a_kneedata_error():
    names = ["KneedataError", "FileFormatError", "NotAnActivityError", "SchemaError",
             "ModelFitError", "ReportError", "NotebookDataError", "StoreNotFoundError",
             "StoreBusyError", "UnknownActivityError", "AmbiguousActivityError"]
    for name in names:
        assert name in kd.__all__ and issubclass(getattr(kd, name), kd.KneedataError), name
    from kneedata.models import ModelFitError
    from kneedata.report import ReportError

    assert kd.ModelFitError is ModelFitError and kd.ReportError is ReportError
    assert kd.settings is settings
