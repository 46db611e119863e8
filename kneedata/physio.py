"""The report's lead by the shape of the diary, and the physio's one-page view of the runs.

Two kinds of knee pain need two different answers (docs/run-response.md):

- **Episodes** (pain-free weeks between separate bouts of pain): the lead is the
  onset analysis (:func:`kneedata.primary_analysis`): what came before an episode
  started. The run-response answer is shown beside it when enough runs are scored.
- **Pain that never fully settles** (pain on most diary days): episodes barely
  exist, so the onset analysis can never answer; the lead is the run-response
  answer (:func:`kneedata.run_response_model`): which runs left the knee worse the
  next morning, in points of pain.

:func:`diary_shape` decides which, and says why in one sentence.
:func:`run_response_sentence` puts a run-response term in a runner's words;
:func:`finding_rows` gives the report's findings table
(:func:`kneedata.report_findings`) its run-response rows, and
:func:`analyse` / :func:`lead_html` / :func:`section_html` are what the report calls.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata.text import count

__all__ = [
    "MIN_SCORED_RUNS",
    "PERSISTENT_SHARE",
    "DiaryShape",
    "PhysioView",
    "analyse",
    "analyse_report",
    "diary_shape",
    "finding_rows",
    "lead_html",
    "run_response_sentence",
    "section_html",
]

#: A diary is "mostly painful" when at least this share of its days are pain days
#: (pain at or above the threshold): the onset analysis then has almost no episodes
#: (in the persistent-runner simulation 2 in 2 years; benchmarks/persistent_study.py).
PERSISTENT_SHARE = 0.4
#: Runs with a pre-run and a next-morning score needed before the run-response answer
#: is shown beside the onset analysis of an episodic diary.
MIN_SCORED_RUNS = 30
#: The physio view lists at most this many too-much runs (the most recent).
MAX_RUNS_LISTED = 15
#: The run-response p-value (Benjamini-Hochberg adjusted) below which a term is stated
#: as an association (the same rule as the onset analysis' findings).
FINDING_ALPHA = 0.05


@dataclass(frozen=True)
class DiaryShape:
    """What the diary looks like, and so which answer leads (see :func:`diary_shape`)."""

    kind: str  # "persistent", "episodic" or "none" (no diary)
    n_days: int  # days with at least one entry
    n_pain_days: int
    n_episodes: int
    threshold: float
    reason: str  # one sentence: why this lead

    @property
    def pain_day_share(self) -> float:
        return self.n_pain_days / self.n_days if self.n_days else float("nan")


def diary_shape(derived: Any) -> DiaryShape:
    """Is this diary mostly painful (lead: run response) or made of episodes (lead: onset)?

    Parameters
    ----------
    derived
        :func:`kneedata.derive` output (its ``diary``, ``episodes`` and the pain
        threshold of its options).

    Returns
    -------
    DiaryShape
        ``kind`` ``"persistent"`` when at least :data:`PERSISTENT_SHARE` of the days
        with an entry are pain days, ``"episodic"`` otherwise, ``"none"`` without a
        diary; ``reason`` says it in one sentence.

    Examples
    --------
    >>> import kneedata as kd
    >>> acts = pd.DataFrame({"activity_id": ["a"], "sport": ["running"],
    ...     "local_date": pd.to_datetime(["2024-03-01"]), "distance_m": [5000.0]})
    >>> diary = pd.DataFrame({"date": pd.date_range("2024-03-01", periods=10),
    ...     "side": "left", "pain_0_10": [3, 4, 3, 2, 3, 4, 5, 3, 3, 2.0]})
    >>> import warnings; warnings.simplefilter("ignore")
    >>> shape = diary_shape(kd.derive(acts, diary))
    >>> shape.kind, shape.n_pain_days, shape.n_days
    ('persistent', 8, 10)
    """
    from kneedata.episodes import pain_days

    threshold = float(getattr(getattr(derived, "options", None), "threshold", 3))
    diary = getattr(derived, "diary", None)
    if diary is None or not len(diary):
        return DiaryShape("none", 0, 0, 0, threshold, "No pain diary was given.")
    n_days = int(pd.to_datetime(diary["date"]).dt.normalize().nunique())
    n_pain = len(pain_days(diary, threshold=threshold))
    episodes = getattr(derived, "episodes", None)
    n_ep = 0 if episodes is None else len(episodes)
    share = n_pain / n_days if n_days else 0.0
    days = f"{_share(share)} of the {n_days} days in your diary"
    if share >= PERSISTENT_SHARE:
        reason = (f"Because your knee hurt ({threshold:g}/10 or more) on {days} and the diary "
                  f"holds only {_episodes(n_ep)}, this report leads with which runs left your "
                  "knee worse the next morning, rather than with what came before separate "
                  "episodes of pain.")
        return DiaryShape("persistent", n_days, n_pain, n_ep, threshold, reason)
    reason = (f"Because your diary shows {_episodes(n_ep)} with pain-free stretches between "
              f"them (pain of {threshold:g}/10 or more on {days}), this report leads with "
              "what came before an episode started.")
    return DiaryShape("episodic", n_days, n_pain, n_ep, threshold, reason)


def _share(x: float) -> str:
    return f"{100 * x:.0f} %"


def _episodes(n: int) -> str:
    return count(n, "separate episode")


# --- run-response terms in a runner's words ---------------------------------------------

#: How a runner says the terms whose words differ from the model's own
#: (:data:`kneedata.run_response.EXPOSURES`): ``(kind, what)``; flags read "the
#: morning after {what}", numbers "for each {what}".
PLAIN_RUN_TERMS: dict[str, tuple[str, str]] = {
    "spike_large": ("flag", "a run more than twice your longest of the month"),
}


def _plain(term: str) -> tuple[str, str]:
    from kneedata.run_response import EXPOSURES

    key = str(term)
    if key in PLAIN_RUN_TERMS:
        return PLAIN_RUN_TERMS[key]
    if key in EXPOSURES:
        exposure = EXPOSURES[key]
        return (exposure.kind, exposure.words if exposure.kind == "flag" else exposure.per)
    return ("number", f"unit of {key.replace('_', ' ')}")


def _points(x: float) -> str:
    """Points of pain as a person reads them: one decimal, no minus zero."""
    text = f"{abs(x):.1f}"
    return text if text != "0.0" else "0"


def is_finding(row: pd.Series, *, alpha: float = FINDING_ALPHA) -> bool:
    """An estimable term whose adjusted p-value is below ``alpha`` and interval excludes 0."""
    if not bool(row.get("estimable", False)):
        return False
    p = float(row.get("p_adjusted", np.nan))
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    return bool(np.isfinite(p) and p < alpha and (lo > 0 or hi < 0))


def run_response_sentence(row: pd.Series, *, finding: bool | None = None) -> str:
    """One run-response term in a runner's words (an association only when it is a finding).

    ``finding`` (default: :func:`is_finding` of the row) False words a clear estimate
    as numbers only, e.g. beside an onset lead, where the run-response answer is a
    second look and makes no findings.

    Examples
    --------
    >>> row = pd.Series({"term": "spike_large", "estimate": 1.4, "ci_low": 0.6,
    ...                  "ci_high": 2.2, "p_adjusted": 0.004, "estimable": True,
    ...                  "n_runs": 180, "status": "ok"})
    >>> run_response_sentence(row)
    'The morning after a run more than twice your longest of the month, your knee was about 1.4 points worse (0.6 to 2.2) than after your other runs (180 scored runs).'
    """
    kind, what = _plain(str(row["term"]))
    n_runs = row.get("n_runs", np.nan)
    runs = f" ({count(int(n_runs), 'scored run')})" if pd.notna(n_runs) else ""
    if not bool(row.get("estimable", False)):
        status = str(row.get("status", "")).replace("_", " ") or "not estimable"
        return f"{_lead(kind, what)}: the data cannot estimate this yet ({status}){runs}."
    est, lo, hi = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    interval = f"({_signed(lo)} to {_signed(hi)})"
    if finding is None:
        finding = is_finding(row)
    if finding:
        word = "worse" if est > 0 else "better"
        if kind == "flag":
            return (f"The morning after {what}, your knee was about {_points(est)} points "
                    f"{word} {interval} than after your other runs{runs}.")
        return (f"For each {what} in a run, your knee was about {_points(est)} points "
                f"{word} the next morning {interval}{runs}.")
    lead = _lead(kind, what)
    if is_finding(row):  # clear, but not the lead: numbers without a verdict
        return (f"{lead}: {_signed(est)} points the next morning {interval}; a second look "
                f"beside the main answer, not a finding of its own{runs}.")
    return (f"{lead}: no clear difference the next morning: {_signed(est)} points "
            f"{interval}, an interval that includes no change{runs}.")


def _lead(kind: str, what: str) -> str:
    return f"The morning after {what}" if kind == "flag" else f"For each {what} in a run"


def _signed(x: float) -> str:
    text = _points(x)
    return text if text == "0" or x > 0 else f"-{text}"


def finding_rows(result: Any, *, lead: bool) -> pd.DataFrame:
    """The run-response model's rows for :func:`kneedata.report_findings`.

    A row is a ``finding`` only when the run-response answer is the lead (a mostly
    painful diary) and the term is a finding by :func:`is_finding`; beside an onset
    lead it is shown with its numbers and no verdict, as the sensitivity analyses are.
    """
    rows = []
    for _, row in result.table.iterrows():
        estimable = bool(row["estimable"])
        finding = lead and is_finding(row)
        if finding:
            direction = "harmful" if float(row["estimate"]) > 0 else "protective"
        else:
            direction = "unclear" if estimable else "not_estimable"
        rows.append({
            "section": "lead" if lead else "beside the lead: run response",
            "model": "run_response_model", "term": str(row["term"]),
            "exposure": str(row.get("exposure", row["term"])), "direction": direction,
            "estimate": float(row["estimate"]) if estimable else np.nan,
            "ci_low": float(row["ci_low"]) if estimable else np.nan,
            "ci_high": float(row["ci_high"]) if estimable else np.nan,
            "p_adjusted": float(row["p_adjusted"]) if estimable else np.nan,
            "finding": finding, "agrees_with_lead": pd.NA,
            "n_episodes": 0, "episodes_note": count(int(row["n_runs"]), "scored run"),
            "statement": run_response_sentence(row, finding=finding),
        })
    return pd.DataFrame(rows)


# --- what the report calls ----------------------------------------------------------------


@dataclass
class PhysioView:
    """Everything the lead and the physio section show (see :func:`analyse`)."""

    shape: DiaryShape
    lead: str  # "run_response" or "onset"
    responses: pd.DataFrame | None = None
    weekly: pd.DataFrame | None = None
    model: Any = None  # the run-response ModelResult
    errors: list[str] = field(default_factory=list)

    @property
    def n_scored_runs(self) -> int:
        if self.responses is None or not len(self.responses):
            return 0
        both = self.responses[["pain_before", "pain_next_morning"]].notna().all(axis=1)
        return int(both.sum())

    @property
    def show_run_response(self) -> bool:
        return self.model is not None and (self.lead == "run_response"
                                           or self.n_scored_runs >= MIN_SCORED_RUNS)


def analyse(derived: Any) -> PhysioView:
    """The diary's shape, the run responses, the weekly trend and the run-response model."""
    from kneedata.responses import run_responses, weekly_pain
    from kneedata.run_response import run_response_model

    shape = diary_shape(derived)
    view = PhysioView(shape=shape, lead="run_response" if shape.kind == "persistent" else "onset")
    if shape.kind == "none" or derived.runs is None or not len(derived.runs):
        view.lead = "onset"
        return view
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        view.responses = run_responses(derived)
        view.weekly = weekly_pain(derived)
        try:
            view.model = run_response_model(derived)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as err:
            view.errors.append(f"run-response model not fitted: {err}")
    if view.model is None:
        view.lead = "onset"
    return view


def analyse_report(derived: Any) -> tuple[PhysioView, pd.DataFrame | None]:
    """What the report needs: :func:`analyse` and the finding rows of the run-response
    answer it shows (``None`` when it shows none)."""
    view = analyse(derived)
    rows = (finding_rows(view.model, lead=view.lead == "run_response")
            if view.show_run_response else None)
    return view, rows


def model_csv_table(view: PhysioView | None) -> pd.DataFrame:
    """``model_run_response.csv``: the model's table, or one row saying why there is none."""
    if view is not None and view.model is not None:
        return view.model.table
    why = (view.errors[0] if view is not None and view.errors else
           "no pain diary or no runs")
    return pd.DataFrame({"term": [pd.NA], "estimate": [np.nan], "ci_low": [np.nan],
                         "ci_high": [np.nan], "p_value": [np.nan], "p_adjusted": [np.nan],
                         "n_runs": [0], "estimable": [False], "status": [why]})


def _p(text: str, cls: str | None = None) -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _items(texts: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in texts) + "</ul>"


def run_response_html(view: PhysioView) -> str:
    """The run-response answer: a heading, the sentences, the caveat."""
    out = ["<h2>Which runs left your knee worse the next morning?</h2>"]
    if view.model is None:
        out.append(_p("No run-response answer: " + ("; ".join(view.errors) or
                      "there are no runs with a score before and the morning after") + ".",
                      "note"))
        return "\n".join(out)
    table = view.model.table
    lead = view.lead == "run_response"
    found = [run_response_sentence(r, finding=lead) for _, r in table.iterrows()
             if is_finding(r)]
    rest = [run_response_sentence(r) for _, r in table.iterrows() if not is_finding(r)]
    out.append(_p(
        f"Each of your {view.n_scored_runs} runs with a score before it and the next "
        "morning is compared with your other runs: next-morning pain against the run's "
        "features, allowing for how the knee was before the run (so the good days you "
        "chose to run on do not flatter any run) and for one morning leading into the next."))
    if found and lead:
        out.append(_items(found))
    elif lead:
        out.append(_p("No feature of your runs made a clear difference the next morning so "
                      "far.", "note"))
    out.append(_items(rest if lead else found + rest))
    out.append(_p("Associations in your own records, in points of pain on 0-10 (about 1.2-2 "
                  "points is a change people notice), not causes and not medical advice.",
                  "caveat"))
    return "\n".join(out)


def lead_html(view: PhysioView | None, onset_html: str) -> str:
    """The report's first section(s): the lead chosen by the diary's shape, and why."""
    if view is None or view.shape.kind == "none":
        return onset_html
    reason = _p(view.shape.reason, "lead-reason")
    if view.lead == "run_response":
        return "\n".join([reason, run_response_html(view), onset_html])
    beside = run_response_html(view) if view.show_run_response else ""
    return "\n".join([reason, onset_html, beside])


def draw(view: PhysioView | None, folder: Path, save: Callable[[Any, Path], str]
         ) -> dict[str, str]:
    """The physio figure, saved by ``save(figure, folder / "physio.png")`` (the report's
    saver); ``{"physio": what save returned}``, empty without runs."""
    from kneedata import plots

    if view is None or view.responses is None or not len(view.responses):
        return {}
    ax = plots.physio(view.responses, weekly=view.weekly)
    folder.mkdir(parents=True, exist_ok=True)
    return {"physio": save(ax.get_figure(root=True), folder / "physio.png")}


def section_html(view: PhysioView | None, image_html: str = "") -> str:
    """The one-page physio view: the pain-monitoring rules, each run, the week-to-week trend."""
    if view is None or view.responses is None or not len(view.responses):
        return ""
    r = view.responses
    counts = r["verdict"].astype(str).value_counts()
    out = ["<h2>For your physio: pain around each run</h2>",
           _p("The pain-monitoring model (Thomeé 1997; Silbernagel 2007): pain during a run "
              "up to 5/10 is acceptable, pain after it should settle by the next morning, and "
              "pain should not creep up from week to week."),
           _p(f"{len(r)} runs: {int(counts.get('acceptable', 0))} acceptable, "
              f"{int(counts.get('too_much', 0))} too much, {int(counts.get('unknown', 0))} "
              "not known (no score during, after or the next morning)."),
           image_html]
    too_much = r[r["verdict"].astype(str) == "too_much"]
    if len(too_much) > MAX_RUNS_LISTED:
        out.append(_p(f"The {MAX_RUNS_LISTED} most recent of the {len(too_much)} runs that were "
                      "too much:"))
        too_much = too_much.tail(MAX_RUNS_LISTED)
    if len(too_much):
        cols = [c for c in ("date", "activity_id", "pain_before", "pain_during", "pain_after",
                            "pain_next_morning", "change_24h") if c in too_much.columns]
        shown = too_much[cols].copy()
        shown["date"] = pd.to_datetime(shown["date"]).dt.strftime("%Y-%m-%d")
        out.append("<h3>The runs that were too much</h3>")
        out.append(_table_html(shown))
    if view.weekly is not None and len(view.weekly):
        out.append("<h3>Week to week</h3>")
        out.append(_table_html(view.weekly.tail(12), digits=2))
    return "\n".join(out)


def _table_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """Plain headers and numbers for a person (kneedata.present), fitted to the page."""
    from kneedata.present import display_frame

    return ('<div class="table">' + display_frame(frame, digits=digits).to_html(
        index=False, border=0) + "</div>")
