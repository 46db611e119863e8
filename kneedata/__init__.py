"""kneedata: find out what tends to come before a runner's knee pain.

The public API is re-exported here; submodules load on first use so that
``import kneedata`` stays fast (statsmodels and matplotlib are only imported when a
model or a plot is asked for).
"""

from __future__ import annotations

import importlib
from typing import Any

from kneedata.errors import (
    DataQualityWarning,
    FileFormatError,
    KneedataError,
    ModelFitError,
    ModelWarning,
    NotAnActivityError,
    ReportError,
    SchemaError,
)

__version__ = "0.1.0"

_LAZY = {
    # readers (io/)
    "Activity": "kneedata.io.activity",
    "read_activities": "kneedata.io.read",
    "read_pain_diary": "kneedata.io.diary",
    "read_shoes": "kneedata.io.diary",
    "read_routines": "kneedata.io.diary",
    "read_experiment": "kneedata.io.diary",
    # store
    "Store": "kneedata.store",
    "ImportReport": "kneedata.store",
    "quality_notes": "kneedata.store",
    # diary -> episodes, shoes
    "pain_episodes": "kneedata.episodes",
    "assign_shoes": "kneedata.gear",
    # one definition of a run
    "select_runs": "kneedata.runs",
    # metrics
    "daily_load": "kneedata.metrics.load",
    "load_metrics": "kneedata.metrics.load",
    "session_spikes": "kneedata.metrics.load",
    "gait_metrics": "kneedata.metrics.gait",
    "shoe_usage": "kneedata.metrics.shoes",
    "shoe_summary": "kneedata.metrics.shoes",
    # one derive pipeline
    "derive": "kneedata.pipeline",
    "Derived": "kneedata.pipeline",
    "DeriveOptions": "kneedata.pipeline",
    # analysis frame and models
    "analysis_frame": "kneedata.frame",
    "case_crossover": "kneedata.models",
    "daily_model": "kneedata.models",
    "recurrent_cox": "kneedata.models",
    "case_series": "kneedata.models",
    "primary_analysis": "kneedata.models",
    "detectable_odds_ratio": "kneedata.models",
    "report_findings": "kneedata.findings",
    "ModelResult": "kneedata.models",
    # run by run: the pain-monitoring model
    "run_responses": "kneedata.responses",
    "weekly_pain": "kneedata.responses",
    "run_features": "kneedata.responses",
    "run_response_model": "kneedata.models.run_response",
    "detectable_flare": "kneedata.models.run_response",
    "simulate_runner_days": "kneedata.simulate",
    "simulate_cohort": "kneedata.simulate",
    # the runner's own experiment
    "plan_experiment": "kneedata.experiment",
    "analyse_experiment": "kneedata.experiment",
    "detectable_effects": "kneedata.experiment",
    # the runner's view
    "plots": "kneedata.plots",
    "write_report": "kneedata.report",
    # the other errors a user may catch (all are KneedataError)
    "StoreNotFoundError": "kneedata.store.errors",
    "StoreBusyError": "kneedata.store.errors",
    "UnknownActivityError": "kneedata.store.errors",
    "AmbiguousActivityError": "kneedata.store.errors",
    "NotebookDataError": "kneedata.notebook",
    # the analysis settings (exposures, windows, caveats, the report's models)
    "settings": "kneedata.settings",
    # numbers for a person
    "format_number": "kneedata.text",
    "format_p": "kneedata.text",
    "format_ratio": "kneedata.text",
}

__all__ = [
    "DataQualityWarning",
    "FileFormatError",
    "KneedataError",
    "ModelFitError",
    "ModelWarning",
    "NotAnActivityError",
    "ReportError",
    "SchemaError",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'kneedata' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
