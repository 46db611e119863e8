"""The run-response model's old address: :mod:`kneedata.models.run_response`.

Every public name is re-exported so ``from kneedata.run_response import ...`` keeps
working; new code imports from :mod:`kneedata.models.run_response` (or ``kneedata``).
"""

from __future__ import annotations

from kneedata.models.run_response import (
    DEFAULT_EXPOSURES,
    EXPOSURES,
    MIN_EXPOSED,
    MIN_RUNS,
    RUN_RESPONSE_COLUMNS,
    RUN_RESPONSE_STATUSES,
    RunResponseResult,
    detectable_flare,
    run_response_model,
)

__all__ = [
    "DEFAULT_EXPOSURES",
    "EXPOSURES",
    "MIN_EXPOSED",
    "MIN_RUNS",
    "RUN_RESPONSE_COLUMNS",
    "RUN_RESPONSE_STATUSES",
    "RunResponseResult",
    "detectable_flare",
    "run_response_model",
]
