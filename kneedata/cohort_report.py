"""The cohort report: ``kneedata report --manifest runners.csv`` (one HTML file).

Derives every runner of the manifest (:func:`kneedata.cohort.derive_cohort`), then
shows who is in the cohort, and for each exposure present every design of
:func:`kneedata.cohort_models.compare_designs` side by side, within-runner designs
first, with a forest plot and the caveats.
"""

from __future__ import annotations

import base64
import html
import io
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.cohort import derive_cohort
from kneedata.cohort_models import compare_designs
from kneedata.models import CAVEAT
from kneedata.settings import COHORT_EXPOSURES  # re-exported

__all__ = ["COHORT_EXPOSURES", "write_cohort_report"]


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else (f"{value:.3g}" if abs(value) < 1000 else "> 1000")
    return html.escape(str(value))


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def _occurs(column: pd.Series) -> bool:
    """True when the exposure is non-zero on at least one known day."""
    values = pd.to_numeric(column.astype("Float64"), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    return bool(np.nansum(np.abs(values)) > 0)


def _exposure_section(frame: pd.DataFrame, exposure: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kneedata import plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_designs(frame, exposure, hierarchical=frame["runner_id"].nunique() >= 3)
    parts = [f"<h3>{html.escape(exposure)} in the previous 7 days</h3>", _html_table(table)]
    shown = table.dropna(subset=["ratio"])
    if len(shown):
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(shown) + 1.6))
        plots.forest(shown.rename(columns={"design": "term"}), title=exposure, ax=ax)
        parts.append(f'<img alt="forest plot of {html.escape(exposure)}" '
                     f'src="data:image/png;base64,{_png(fig)}">')
        plt.close(fig)
    return "\n".join(parts)


def write_cohort_report(
    store: Any,
    manifest: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    complete: bool = False,
    dayfirst: bool = False,
    progress: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Path:
    """Derive the manifest's runners and write ``out/report.html`` with the cohort section.

    Parameters
    ----------
    store
        A :class:`kneedata.Store` holding the runners (``kneedata import --manifest``).
    manifest
        The cohort manifest (:func:`kneedata.cohort.read_manifest`).
    out
        Output folder (created); the cohort frame goes to ``out/cohort_frame/``.
    complete, dayfirst
        As for :func:`kneedata.write_report`, for every runner's diary.
    progress
        A progress bar over runners on stderr.
    options
        :class:`kneedata.DeriveOptions` fields for every runner (``threshold``,
        ``washout_days`` ...; the CLI's ``--threshold``, ``--washout-days``).

    Returns
    -------
    pathlib.Path
        ``out/report.html`` (self-contained).
    """
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    derived = derive_cohort(store, manifest, out=out / "cohort_frame", progress=progress,
                            complete=complete, dayfirst=dayfirst, **dict(options or {}))
    runners = derived.runners[["runner_id", "status", "n_days", "n_onsets", "n_at_risk", "reason"]]
    parts = ["<h2>The cohort</h2>",
             f"<p>{int((runners['status'] == 'ok').sum())} of {len(runners)} runners derived; "
             "runners that failed are listed with the reason.</p>", _html_table(runners)]
    ok = runners["status"] == "ok"
    if ok.any() and runners.loc[ok, "n_onsets"].sum() > 0:
        frame = derived.frame()
        present = [e for e in COHORT_EXPOSURES
                   if e in frame.columns and _occurs(frame[e])]
        parts.append("<h2>What came before pain: within-runner designs against the pooled "
                     "model</h2><p>Within-runner designs compare each runner with themselves, "
                     "so a trait constant within a runner cancels; the pooled GEE compares "
                     "runners with each other and does not.</p>")
        parts += [_exposure_section(frame, e) for e in present] or [
            "<p>None of the exposures occurs in the data.</p>"]
    else:
        parts.append("<p>No pain episode starts in the cohort's data: nothing to model.</p>")
    parts.append(f"<p><em>{html.escape(CAVEAT)}</em></p>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>kneedata cohort report"
            "</title><style>table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:2px 6px}</style></head><body><h1>kneedata: cohort report</h1>"
            + "\n".join(parts) + "</body></html>")
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
