"""What every model returns: :class:`ModelResult`, its table columns, term statuses, the caveat,
and :class:`ModelFitError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kneedata.errors import ModelFitError  # re-exported: defined with the other errors
from kneedata.settings import MODEL_CAVEAT
from kneedata.text import format_p, format_ratio

__all__ = ["CAVEAT", "TABLE_COLUMNS", "RATIO_KINDS", "STATUSES", "MIN_EPISODES_PER_EXPOSURE", "MIN_EPISODES", "MIN_INFORMATIVE", "ModelFitError", "ModelResult"]


#: Printed with every result (:data:`kneedata.settings.MODEL_CAVEAT`).
CAVEAT = MODEL_CAVEAT


#: Columns of :attr:`ModelResult.table`, in order.
TABLE_COLUMNS = (
    "term", "exposure", "window", "ratio_kind", "ratio", "ci_low", "ci_high", "log_ratio",
    "std_error", "p_value", "p_adjusted", "n_episodes", "n_informative", "estimable",
    "status",
)


#: What ``ratio`` is: an odds ratio, a hazard ratio (Cox, cloglog) or a rate ratio.
RATIO_KINDS = ("odds", "hazard", "rate")


#: Values of the table's ``status`` column (see the module docstring).
STATUSES = ("ok", "separated", "too_few_episodes", "not_converged", "no_variation")


#: Episodes per exposure below which a caveat is given (Peduzzi et al. 1996).
MIN_EPISODES_PER_EXPOSURE = 10


#: A fit on fewer episodes than this estimates nothing (``too_few_episodes``).
MIN_EPISODES = 5


#: A term with fewer informative episodes than this is ``too_few_episodes``.
MIN_INFORMATIVE = 3


@dataclass
class ModelResult:
    """A fitted model, its tidy table, typed flags and the caveats that apply.

    Attributes
    ----------
    model
        ``"case_crossover"``, ``"daily_model"``, ``"case_series"``,
        ``"recurrent_cox"`` or ``"primary_analysis"``.
    results
        The statsmodels results object; a regularised fit for a ridge penalty.
    table
        One row per term asked for, columns :data:`TABLE_COLUMNS`: ``term`` (name
        in the design), ``exposure`` (frame column), ``window`` (days relative to
        the index day and the window rule), ``ratio_kind`` (``"odds"``,
        ``"hazard"`` or ``"rate"``), ``ratio`` (the estimate), ``ci_low``,
        ``ci_high`` (``1 - alpha`` Wald interval; a profile-likelihood bound for
        a separated term), ``log_ratio``, ``std_error`` (of the log ratio),
        ``p_value`` (Wald), ``p_adjusted`` (Benjamini-Hochberg over the
        estimable terms), ``n_episodes`` (onsets used by the fit),
        ``n_informative`` (case-crossover: episodes whose windows differ in that
        exposure; others: onsets with the exposure non-zero), ``estimable``
        (bool: the data support an estimate with an interval) and ``status``
        (one of :data:`STATUSES`).
    warnings
        Caveats in plain words (short), for display; never parsed.
    design
        The rows the model was fitted on.
    settings
        The options used (windows, referent scheme, covariance, ...).
    ratio_kind
        ``"odds"``, ``"hazard"`` or ``"rate"``.
    separated
        Terms whose maximum-likelihood ratio is infinite or 0.
    dropped
        Term -> why it left the fit (``"no_variation"`` or ``"collinear"``).
    penalty
        The penalty used (``None``, ``"logF"`` or a ridge weight).
    converged
        Whether the optimiser reported convergence.
    """

    model: str
    results: Any
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    design: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict[str, Any] = field(default_factory=dict)
    ratio_kind: str = "odds"
    separated: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    penalty: str | float | None = None
    converged: bool = True

    @property
    def n_episodes(self) -> int:
        """Number of onsets (episodes) the model used."""
        return int(self.settings.get("n_episodes", 0))

    @property
    def penalised(self) -> bool:
        """True when a penalty (log-F or ridge) shaped the estimates."""
        return self.penalty is not None

    @property
    def estimable(self) -> bool:
        """True when at least one term is estimable."""
        return bool(self.table["estimable"].any()) if len(self.table) else False

    def summary_text(self) -> str:
        """A plain-text summary: the table in human numbers, the caveats, the limits."""
        kind = ("differences" if self.ratio_kind == "difference"
                else f"{self.ratio_kind} ratios")
        lines = [f"{self.model}: {self.n_episodes} episodes, {kind}"
                 + (f", penalty {self.penalty}" if self.penalised else "")]
        for _, row in self.table.iterrows():
            if "ratio" not in row:  # a difference, e.g. an experiment's B - A
                lines.append(f"  {row['term']:<28} {row['estimate']:+.2f} "
                             f"({row['ci_low']:.2f} to {row['ci_high']:.2f}), "
                             f"p {format_p(row['p_value'])}")
                continue
            if row["status"] == "no_variation":
                lines.append(f"  {row['term']:<28} not estimable: no variation")
                continue
            text = (f"{format_ratio(row['ratio'])} ({format_ratio(row['ci_low'])} to "
                    f"{format_ratio(row['ci_high'])}), p {format_p(row['p_value'])}")
            flag = "" if row["estimable"] else f"  [not estimable: {row['status']}]"
            lines.append(f"  {row['term']:<28} {text}{flag}")
        lines.extend(f"  ! {w}" for w in self.warnings)
        lines.append(CAVEAT)
        return "\n".join(lines)
