"""One self-contained HTML report from a store and the runner's own logs.

:func:`write_report` runs the whole chain on what a runner has: the activities in a
:class:`kneedata.Store`, and optionally a pain diary, a shoes list and a routines log.
It derives load, spikes, gait and shoe usage, builds the analysis frame, fits the
case-crossover and the daily model, draws the figures, and writes::

    out/report.html               one file, figures embedded (base64 PNG)
    out/figures/*.png             the same figures as files
    out/model_primary.csv         ModelResult.table of the main analysis (primary_analysis)
    out/model_case_crossover.csv  ModelResult.table of the case-crossover
    out/model_daily.csv           ModelResult.table of the daily model
    out/findings.csv              every statement the report makes about an exposure
                                  (kneedata.report_findings; ``finding`` marks associations)

The report speaks plainly: what was imported and what looked wrong, load and
spikes, form, shoes, and what preceded pain, with the caveats that belong to each.
Nothing here computes a metric: it calls :mod:`kneedata.metrics`,
:mod:`kneedata.models` and :mod:`kneedata.plots`.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kneedata import physio, recovery
from kneedata.errors import DataQualityWarning, ReportError  # ReportError re-exported
from kneedata.findings import (
    FINDING_COLUMNS,
    ReportFits,
    findings_table,
    fit_lead,
    fit_sensitivity,
    is_finding,
    plain,
)
from kneedata.pipeline import Derived, DeriveOptions, derive
from kneedata.present import (
    Units,
    deviation_blank_reason,
    diary_use_text,
    display_frame,
    monthly_form,
    runs_table,
    term_label,
    units_of,
    usual_cadence_text,
)
from kneedata.settings import (
    CASE_CROSSOVER_EXPOSURES,
    CAVEATS,
    DAILY_EXPOSURES,
    DETECTABLE_SIMS,
    HAZARD_DAYS,
    HIGHLIGHT_DAYS,
    PRIMARY_EXPOSURES,
    REPORT_MODELS,
    STRATUM_DAYS,
)
from kneedata.text import count, format_number, format_p, format_ratio

__all__ = [
    "CASE_CROSSOVER_EXPOSURES",
    "CAVEATS",
    "DAILY_EXPOSURES",
    "HAZARD_DAYS",
    "ReportError",
    "ReportTables",
    "build_tables",
    "fit_models",
    "fit_primary",
    "write_report",
]

# --- progress -----------------------------------------------------------------------


class _Progress:
    """One line per step on stderr, with elapsed seconds; silent when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            print(f"[kneedata report {elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- computing the tables -----------------------------------------------------------


@dataclass
class ReportTables:
    """Every table the report shows: the derived tables, the import log and the models."""

    derived: Derived
    files: pd.DataFrame | None = None
    frame: pd.DataFrame | None = None
    case_crossover: Any = None
    daily_model: Any = None
    primary: Any = None
    detectable: pd.DataFrame | None = None
    model_errors: list[str] = field(default_factory=list)
    primary_status: str = ""  # why the main analysis was not fitted (models.STATUSES)
    data_warnings: list[str] = field(default_factory=list)
    experiment: Any = None
    findings: pd.DataFrame | None = None  # kneedata.report_findings: every statement made
    physio: Any = None  # kneedata.physio.PhysioView: the lead by the diary's shape, run responses
    run_response: pd.DataFrame | None = None  # finding rows of the run-response model
    units: Units = field(default_factory=Units)  # distances shown in km or mi (data stay SI)
    recovery: Any = None  # kneedata.recovery.fit_recovery_onsets (in the lead's correction)


def _open_store(store: Any) -> Any:
    from kneedata.store import Store

    if isinstance(store, (str, os.PathLike)):
        path = Path(store).expanduser()
        if not path.is_dir():
            raise ReportError(
                f"store folder {str(path)!r} does not exist; import first with "
                f"`kneedata import PATH --store {path}`."
            )
        return Store(path)
    if not (hasattr(store, "activities") and hasattr(store, "records")):
        raise TypeError(
            f"write_report: store must be a kneedata.Store or a folder path, got "
            f"{type(store).__name__}"
        )
    return store


def build_tables(
    store: Any,
    *,
    diary: str | os.PathLike[str] | pd.DataFrame | None = None,
    shoes: str | os.PathLike[str] | pd.DataFrame | None = None,
    routines: str | os.PathLike[str] | pd.DataFrame | None = None,
    shoe_periods: str | os.PathLike[str] | pd.DataFrame | None = None,
    dayfirst: bool = False,
    complete: bool = False,
    options: DeriveOptions | None = None,
    progress: bool = False,
) -> ReportTables:
    """Read the inputs and derive every table the report shows (no models, no drawing).

    Parameters
    ----------
    store
        A :class:`kneedata.Store` or the path of its folder.
    diary, shoes, routines
        Paths of the runner's CSV/xlsx logs (or frames already read with
        :func:`kneedata.read_pain_diary`, :func:`kneedata.read_shoes`,
        :func:`kneedata.read_routines`); each is optional.
    shoe_periods
        Optional date-range table of which shoe was worn when
        (:func:`kneedata.io.diary.read_shoe_periods`); used with ``shoes`` to give
        runs without an export gear name their shoe before the shoe rules
        (:func:`kneedata.assign_shoes`).
    dayfirst
        Read slashed dates in the logs as day/month/year (``04/03/2025`` is 4 March).
    complete
        The diary is complete: a day without an entry was pain-free (default: such
        a day is unknown, see :func:`kneedata.pain_episodes`); sets
        ``options.complete``.
    options
        :class:`kneedata.DeriveOptions` for :func:`kneedata.derive` (defaults when
        ``None``).
    progress
        Print one line per step to stderr.

    Returns
    -------
    ReportTables
        ``derived`` from :func:`kneedata.derive`, ``frame`` from
        :func:`kneedata.analysis_frame` (with a diary); ``data_warnings`` lists
        every :class:`kneedata.DataQualityWarning` raised on the way (each distinct
        message once).
    """
    from kneedata.frame import analysis_frame

    say = _Progress(progress)
    st = _open_store(store)
    opts = options if options is not None else DeriveOptions()
    if complete:
        opts = dataclasses.replace(opts, complete=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        say(f"reading the store {getattr(st, 'path', st)}")
        n_activities = len(st.activities())
        if not n_activities:
            raise ReportError(
                f"the store {getattr(st, 'path', st)} holds no activities; import your "
                "files first: `kneedata import PATH --store DIR`."
            )
        say(f"{n_activities} activities: deriving load, spikes, gait and shoe usage")
        derived = derive(st, diary, shoes=shoes, routines=routines,
                         shoe_periods=shoe_periods, dayfirst=dayfirst, options=opts)
        tables = ReportTables(derived=derived,
                              files=st.files() if hasattr(st, "files") else None)
        say(f"{len(derived.runs)} runs; pain diary: {_n(derived.diary)} entries, "
            f"{_n(derived.episodes)} episodes")
        if derived.diary is not None:
            say("analysis frame (one row per day)")
            tables.frame = analysis_frame(derived)
    # each distinct message once
    tables.data_warnings = list(dict.fromkeys(
        str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)))
    return tables


#: The sensitivity analyses the report shows (the same function, under its old name).
fit_models = fit_sensitivity


def fit_primary(frame: pd.DataFrame) -> tuple[Any, pd.DataFrame | None, list[str], str]:
    """The primary single-runner analysis and, where it cannot estimate, what could be seen.

    Returns
    -------
    (primary, detectable, errors, status)
        The :func:`kneedata.primary_analysis` result (``None`` if it could not be
        fitted), :func:`kneedata.detectable_odds_ratio` (both directions) for the
        exposures that are not findings (``None`` when all are), why nothing was fitted, and that
        reason as a status (``""`` when fitted; ``"too_few_episodes"`` or
        ``"no_variation"``, from :class:`kneedata.models.ModelFitError`).
    """
    from kneedata.models import detectable_odds_ratio

    primary, errors, status = fit_lead(frame)
    if primary is None:
        return None, None, errors, status
    unsure = [str(row["exposure"]) for _, row in primary.table.iterrows()
              if not is_finding(row)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detectable = (detectable_odds_ratio(frame, unsure, n_sim=DETECTABLE_SIMS, seed=0,
                                            direction="both")
                      if unsure else None)
    return primary, detectable, [], ""


def unfitted_primary_table(frame: pd.DataFrame | None, status: str = "too_few_episodes") -> pd.DataFrame:
    """``model_primary.csv`` when the main analysis could not be fitted: one row per
    exposure it would have used, no numbers, ``estimable=False`` and ``status`` (why:
    ``"too_few_episodes"`` or ``"no_variation"``), so the file says so itself."""
    from kneedata.models import TABLE_COLUMNS

    present = [e for e in PRIMARY_EXPOSURES if frame is not None and e in frame.columns]
    n_onsets = int(frame["onset"].sum()) if frame is not None and "onset" in frame else 0
    table = pd.DataFrame({"term": [f"{e}_{HAZARD_DAYS}d" for e in present],
                          "exposure": present, "n_episodes": n_onsets,
                          "n_informative": 0, "estimable": False,
                          "status": status or "too_few_episodes"})
    return table.reindex(columns=list(TABLE_COLUMNS))


# --- figures ------------------------------------------------------------------------


def _save(fig: Any, path: Path) -> str:
    """Save a figure as PNG and return it base64-encoded."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = buffer.getvalue()
    path.write_bytes(data)
    return base64.b64encode(data).decode("ascii")


def _draw_figures(tables: ReportTables, folder: Path, say: _Progress, *,
                  pace: str = "min/km") -> dict[str, str]:
    units = tables.units.name
    import matplotlib

    from kneedata import plots
    from kneedata.metrics.gait import usual_cadence_curve
    from kneedata.metrics.recovery import recovery_bands

    folder.mkdir(parents=True, exist_ok=True)
    images: dict[str, str] = {}
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        if tables.derived.daily is not None and tables.derived.load is not None:
            say("drawing the timeline and the load figure")
            ax = plots.timeline(tables.derived.daily, episodes=tables.derived.episodes,
                                diary=tables.derived.diary, units=units)
            images["timeline"] = _save(ax.figure, folder / "timeline.png")
            ax = plots.acute_chronic(tables.derived.load, diary=tables.derived.diary, units=units)
            images["acute_chronic"] = _save(ax.figure, folder / "acute_chronic.png")
        gait = tables.derived.gait
        if gait is not None and gait["cadence_moving_spm"].notna().sum() >= 3:
            say("drawing cadence against pace")
            curve = usual_cadence_curve(gait.attrs.get("cadence_speed_line", {}))
            ax = plots.cadence_speed(gait, curve=curve, highlight=tables.derived.episodes,
                                     highlight_days=HIGHLIGHT_DAYS, pace=pace)
            images["cadence_speed"] = _save(ax.figure, folder / "cadence_speed.png")
        if tables.derived.shoe_summary is not None and len(tables.derived.shoe_summary):
            say("drawing shoes")
            ax = plots.shoe_km(tables.derived.shoe_summary, units=units)
            images["shoe_km"] = _save(ax.figure, folder / "shoe_km.png")
        images.update(_draw_model_figures(tables, folder))
        bands = recovery_bands(tables.derived.wellness)
        if bands:
            say("drawing sleep and recovery")
            ax = plots.recovery(bands, daily=tables.derived.daily, diary=tables.derived.diary)
            images["recovery"] = _save(ax.figure, folder / "recovery.png")
        if tables.experiment is not None:
            say("drawing the experiment")
            ax = plots.experiment(tables.experiment.design,
                                  blocks=tables.experiment.settings["blocks"])
            images["experiment"] = _save(ax.figure, folder / "experiment.png")
    return images


# --- HTML ---------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.7rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
img{max-width:100%;height:auto;margin:.5rem 0}
.table{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:.88rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;overflow-wrap:anywhere}
th{max-width:12rem;vertical-align:bottom}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5rem 1rem}
.caveat{background:#eef4fb;border-left:4px solid #3b7dd8;padding:.5rem 1rem}
.small{font-size:.85rem;color:#555}
"""


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _p(text: str, cls: str | None = None) -> str:
    return f'<p class="{cls}">{_esc(text)}</p>' if cls else f"<p>{_esc(text)}</p>"


def _ul(items: Iterable[str], cls: str | None = None) -> str:
    items = list(items)
    if not items:
        return ""
    inner = "".join(f"<li>{_esc(i)}</li>" for i in items)
    return f'<ul class="{cls}">{inner}</ul>' if cls else f"<ul>{inner}</ul>"


def _img(images: dict[str, str], key: str, alt: str) -> str:
    if key not in images:
        return ""
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{images[key]}">'


def _table(frame: pd.DataFrame, *, digits: int = 3, units: str | Units = "km") -> str:
    """A table as a person reads it (:func:`kneedata.present.display_frame`: plain
    headers, distances in ``units``, 2-3 significant figures), wrapped to fit the page."""
    if frame is None or frame.empty:
        return "<p class='small'>(nothing to show)</p>"
    shown = display_frame(frame, units, digits=digits)
    return ('<div class="table">'
            + shown.to_html(index=False, escape=True, na_rep="", border=0) + "</div>")


def _n(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None else len(frame)


def _date_text(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return "?" if pd.isna(stamp) else stamp.strftime("%d %b %Y")


def _files_by_format(acts: pd.DataFrame) -> pd.Series:
    """Files (not activities: a multisport FIT holds several) the activities came from,
    per format, most first."""
    if "source_format" not in acts.columns:
        return pd.Series(dtype=int)
    fmt = acts["source_format"].astype(str)
    if "source_file" not in acts.columns:
        return fmt.value_counts()
    return acts.groupby(fmt)["source_file"].nunique().sort_values(ascending=False,
                                                                 kind="stable")


def _section_import(t: ReportTables) -> str:
    acts = t.derived.activities
    dates = pd.to_datetime(acts["local_date"].astype(str), errors="coerce")
    out = ["<h2>1. What was imported</h2>"]
    sports = acts["sport"].astype(str).value_counts()
    formats = _files_by_format(acts)
    out.append(_p(
        f"{len(acts)} activities from {_date_text(dates.min())} to {_date_text(dates.max())}: "
        + ", ".join(f"{n} {s}" for s, n in sports.items())
        + ". Read from " + ", ".join(f"{n} {str(f).upper()}" for f, n in formats.items())
        + " files."
    ))
    notes: list[str] = []
    if t.files is not None and len(t.files):
        status = t.files["status"].astype(str).value_counts()
        out.append(_p("Files seen: " + ", ".join(f"{n} {str(s).replace('_', ' ')}"
                                                 for s, n in status.items()) + "."))
        failed = t.files.loc[t.files["status"].astype(str).eq("failed"), ["path", "reason"]]
        if len(failed):
            notes.append(f"{len(failed)} file(s) could not be read (listed below).")
    if "n_sources" in acts.columns:
        runs = t.derived.runs  # swim, bike and transition legs are not runs
        dup = int((pd.to_numeric(runs["n_sources"], errors="coerce") > 1).sum()) \
            if "n_sources" in runs.columns else 0
        if dup:
            notes.append(f"{dup} runs arrived more than once (e.g. watch file and app "
                         "export); each is counted once, from its richest file.")
    if "complete" in acts.columns:
        bad = int((~acts["complete"].astype("boolean").fillna(True).astype(bool)).sum())
        if bad:
            notes.append(f"{bad} activities come from damaged or truncated files; what "
                         "was readable was kept.")
    if "local_time_source" in acts.columns:
        utc = int(acts["local_time_source"].astype(str).eq("assumed_utc").sum())
        if utc:
            notes.append(f"{utc} activities had no time zone information; their local "
                         "day assumes UTC and may be off by one near midnight.")
    if "cadence_unit_source" in acts.columns:
        runs = t.derived.runs
        none = int(runs["cadence_unit_source"].astype(str).eq("none").sum())
        if none:
            notes.append(f"{none} runs have no cadence.")
    if "warnings" in acts.columns and "source_file" in acts.columns:
        from kneedata.store import quality_notes

        listed = quality_notes(acts)
        notes.extend(f"{Path(str(r.file)).name} ({r.activity_id}, {r.local_date}): {r.note}"
                     for r in listed.head(15).itertuples())
        if len(listed) > 15:
            notes.append(f"... and {len(listed) - 15} more file notes "
                         "(kneedata.quality_notes(store.activities()) lists them all).")
    notes.extend(t.data_warnings)
    if t.derived.diary is not None:
        d = t.derived.diary
        out.append(_p(f"Pain diary: {count(len(d), 'entry')} from {_date_text(d['date'].min())} "
                      f"to {_date_text(d['date'].max())}; "
                      f"{count(_n(t.derived.episodes), 'pain episode')} "
                      "(a pain score of 3 or more after 14 pain-free days)."))
        if t.frame is not None and len(t.frame):
            analysed = (int(t.primary.settings.get("n_days", 0)) or None
                        if t.primary is not None else None)
            out.append(_p(diary_use_text(t.frame, n_analysed=analysed,
                                         complete=t.derived.options.complete)))
    else:
        out.append(_p("No pain diary was given, so nothing can be said about pain. Start "
                      "one with `kneedata init FOLDER` and pass it with --diary.", "note"))
    if t.derived.shoes is not None:
        out.append(_p(f"Shoes list: {len(t.derived.shoes)} pairs."))
    if t.derived.routines is not None:
        kinds = t.derived.routines["kind"].astype(str).value_counts()
        out.append(_p("Routines log: " + ", ".join(f"{n} {str(k).replace('_', ' ')}"
                                                     for k, n in kinds.items()) + "."))
    if notes:
        out.append("<h3>Data-quality notes</h3>")
        out.append(_ul(notes, "small"))
    if t.files is not None and len(t.files):
        failed = t.files.loc[t.files["status"].astype(str).eq("failed"), ["path", "reason"]]
        if len(failed):
            out.append(_table(failed.head(20)))
    return "\n".join(out)


def _section_load(t: ReportTables, images: dict[str, str]) -> str:
    out = ["<h2>2. Load and spikes</h2>"]
    if t.derived.daily is None:
        out.append(_p("No runs in the store, so there is no running load to show."))
        return "\n".join(out)
    out.append(_p("Each bar is one day's running distance; the dots are pain-diary "
                  "entries on the right-hand 0-10 scale, and the shaded spans are pain "
                  "episodes."))
    out.append(_img(images, "timeline", "daily distance and pain over time"))
    spikes = t.derived.spikes
    if spikes is not None and len(spikes):
        from kneedata.metrics.load import SPIKE_CATEGORIES as order

        cats = spikes["spike_category"].astype(str).value_counts()
        counts = pd.DataFrame({
            "run compared with the longest run of the 30 days before": [
                {"none": "up to 10 % longer (or shorter)", "small": "10-30 % longer",
                 "moderate": "30-100 % longer", "large": "more than twice as long",
                 "first_run": "no earlier run to compare"}[c] for c in order if c in cats],
            "runs": [int(cats[c]) for c in order if c in cats],
        })
        out.append(_p("A single run much longer than anything in the month before is the "
                      "load pattern with the clearest link to running injuries in a large "
                      "cohort (Frandsen et al. 2025, 5,205 runners: runs more than twice "
                      "the recent longest had a hazard ratio of 2.28, 1.50-3.48)."))
        out.append(_table(counts))
        large = spikes.loc[spikes["spike_category"].astype(str).eq("large")]
        if len(large):
            show = pd.DataFrame({
                "date": pd.to_datetime(large["date"]).dt.strftime("%Y-%m-%d"),
                "distance_km": large["distance_km"].to_numpy(dtype=float),
                "longest_prev_30d_km": large["longest_prev_30d_km"].to_numpy(dtype=float),
                "spike_ratio": large["spike_ratio"].to_numpy(dtype=float),
            })
            out.append(_p(f"The {len(large)} large spikes:"))
            out.append(_table(show, units=t.units))
    out.append(_p("Acute load (the last 7 days) against chronic load (the weekly average "
                  "of the weeks before), and their ratio:"))
    out.append(_img(images, "acute_chronic", "acute and chronic load and their ratio"))
    from kneedata.plots import ACWR_CAVEAT

    out.append(_p(ACWR_CAVEAT, "caveat"))
    return "\n".join(out)


def _section_form(t: ReportTables, images: dict[str, str]) -> str:
    out = ["<h2>3. Form: cadence and step length</h2>"]
    gait = t.derived.gait
    if gait is None or gait["cadence_moving_spm"].notna().sum() == 0:
        out.append(_p("No cadence in the runs, so form cannot be described."))
        return "\n".join(out)
    line = gait.attrs.get("cadence_speed_line", {})
    cad = gait["cadence_moving_spm"]
    sl = gait["step_length_m"]
    text = (f"Across {count(int(cad.notna().sum()), 'run')} with cadence, the median cadence while "
            f"moving was {cad.median():.0f} steps/min and the median step length "
            f"{sl.median():.2f} m.")
    diary = t.derived.diary
    text += " " + usual_cadence_text(
        line, min_runs=getattr(t.derived.options, "min_baseline_runs", None),
        diary_start=None if diary is None or not len(diary) else diary["date"].min())
    if np.isfinite(line.get("slope_spm_per_m_s", np.nan)):
        text += " It is the black line in the figure, drawn only over the paces you ran."
    out.append(_p(text))
    out.append(_img(images, "cadence_speed", "cadence against speed"))
    out.append(_p("Points above the line are runs with quicker, shorter steps than usual "
                  "for their speed; points below, slower and longer steps. Each run is "
                  "compared with your own line of the months before it (never with later "
                  "runs), as a percentage: the cadence deviation. Highlighted: runs in the "
                  f"{HIGHLIGHT_DAYS} days before a pain episode. A 5-10 % higher cadence at "
                  "the same speed lowers the load on the knee per step (Heiderscheit 2011; "
                  "Lenhart 2014), but a watch cannot see where the foot lands: true "
                  "overstriding (the foot ahead of the body) needs video. Vertical ratio and "
                  "ground contact time are descriptions only: they depend on the sensor and "
                  "no evidence links them to knee pain."))
    monthly = monthly_form(gait, diary)
    span = " over your diary's span" if diary is not None and len(diary) else ""
    out.append(_p(f"Month by month{span} (medians of the runs):"))
    out.append(_table(monthly))
    blank = deviation_blank_reason(gait)
    vs_usual = monthly.get("cadence vs your usual (%)", pd.Series(dtype=float))
    if blank is None and vs_usual.isna().any():
        blank = (f"'vs usual' is blank in {int(vs_usual.isna().sum())} month(s): no run there "
                 f"had the {t.derived.options.min_baseline_runs} earlier runs with cadence in "
                 f"the {t.derived.options.baseline_days} days before it that a comparison with "
                 "your usual needs.")
    if blank:
        out.append(_p(blank, "small"))
    return "\n".join(out)


def _section_runs(t: ReportTables) -> str:
    """"Your runs": date, distance, time, pace, shoe and the pain logged around each."""
    runs = t.derived.runs
    if runs is None or not len(runs):
        return ""
    responses = getattr(t.physio, "responses", None)
    table, note = runs_table(runs, responses, t.units, diary=t.derived.diary)
    return "\n".join(["<h2>Your runs</h2>", _p(note, "small"), _table(table, units=t.units)])


def _section_shoes(t: ReportTables, images: dict[str, str]) -> str:
    out = ["<h2>4. Shoes</h2>"]
    if t.derived.shoe_summary is None:
        out.append(_p("No shoes list was given (pass --shoes)."))
        return "\n".join(out)
    out.append(_img(images, "shoe_km", f"{t.units.word} and pain episodes per shoe"))
    s = t.derived.shoe_summary
    cols = [c for c in ("shoe_id", "name", "drop_mm", "n_runs", "distance_km",
                        "n_episodes", "episodes_per_100km", "episodes_per_100km_low",
                        "episodes_per_100km_high") if c in s.columns]
    out.append(_table(s[cols], units=t.units))
    unassigned = s.attrs.get("n_episodes_unattributed")
    days = s.attrs.get("attribution_days", "?")
    if unassigned:
        out.append(_p(f"{count(unassigned, 'episode')} followed no run within {days} days and are "
                      "not attributed to a shoe."))
    out.append(_p(f"Episodes {t.units.per_100} count an episode against the shoe of the last run "
                  f"before it (within {days} days), with exact Poisson 95 % intervals. They are "
                  "crude: a shoe worn in heavy weeks, on trails or while already sore "
                  "collects episodes for reasons that are not the shoe. Overlapping "
                  "intervals mean the data cannot tell the shoes apart.", "caveat"))
    return "\n".join(out)


def _model_table(result: Any) -> pd.DataFrame:
    """A model's table as a runner reads it: human numbers, status in words, 7 columns."""
    tab = result.table
    est = tab["estimable"].to_numpy(dtype=bool)
    return pd.DataFrame({
        "term": [term_label(str(v)) for v in tab["term"]],
        "window": tab["window"].str.split(" (", regex=False).str[0],
        f"{result.ratio_kind} ratio": [format_ratio(v) if e else "-"
                                       for v, e in zip(tab["ratio"], est, strict=True)],
        "95 % interval": [f"{format_ratio(lo)} to {format_ratio(hi)}" if e else "-"
                          for lo, hi, e in zip(tab["ci_low"], tab["ci_high"], est, strict=True)],
        "p adjusted (BH)": [format_p(p) if e else "-"
                            for p, e in zip(tab["p_adjusted"], est, strict=True)],
        "episodes (informative)": [f"{n} ({k})" for n, k in zip(tab["n_episodes"],
                                                                 tab["n_informative"], strict=True)],
        "status": [s.replace("_", " ") for s in tab["status"]],
    })


def _diary_years(t: ReportTables) -> float:
    """Years the analysed days span (the analysis frame, else the diary; 0 without)."""
    for table in (getattr(t, "frame", None), getattr(t.derived, "diary", None)):
        if table is not None and len(table) and "date" in table.columns:
            dates = pd.to_datetime(table["date"])
            return max(1.0, float((dates.max() - dates.min()).days) + 1) / 365.25
    return 0.0


def years_more(needed: int, n_episodes: int, diary_years: float) -> str:
    """``needed`` episodes in time at this runner's rate: "about N more years of diary"."""
    if needed <= n_episodes:
        return "about the episodes you already have"
    if n_episodes <= 0 or diary_years <= 0:
        return "more diary than can be estimated from your rate so far"
    more = (needed - n_episodes) / (n_episodes / diary_years)
    if more > 50:
        return "more than 50 more years of diary at your rate"
    return f"about {format_number(more, 2)} more years of diary at your rate"


def _power_words(row: pd.Series, column: str) -> str:
    """A simulated power with its simulation error: "53 % (± 9 points)"."""
    p, se = float(row[column]), float(row.get(f"{column}_se", np.nan))
    pct = f"{round(100 * p)} %"
    if not np.isfinite(se):
        return pct
    if se == 0:
        return f"{pct} ({'all' if p >= 1 else 'none'} of {DETECTABLE_SIMS})"
    error = round(100 * se)
    return f"{pct} (± {error if error >= 1 else '< 1'} points)"


#: An effect in words, by (direction, fold): "pain twice as often", "half as often".
_EFFECT_WORDS = {("harmful", 2): "twice as often", ("harmful", 3): "three times as often",
                 ("protective", 2): "half as often", ("protective", 3): "a third as often"}


def _detectable_sentence(rows: pd.DataFrame, diary_years: float = 0.0) -> str:
    """What this runner's data could show for one exposure, both directions, in time.

    ``rows``: the :func:`kneedata.detectable_odds_ratio` rows of one exposure (one per
    direction). Says the smallest effect detected with 80 % power each way, the power
    now for a twofold and threefold effect with its simulation error, and the
    episodes (and years of diary at this runner's rate) that 80 % would take.
    """
    first = rows.iloc[0]
    n = int(first["n_episodes"])
    smallest, powers, need = [], [], []
    for _, row in rows.iterrows():
        way = "protective" if str(row.get("direction", "harmful")) == "protective" else "harmful"
        found = float(row["detectable_odds_ratio"])
        fold = found if way == "harmful" else (1 / found if found > 0 else np.inf)
        if way == "harmful":
            smallest.append(f"pain starting {format_ratio(fold)} times as often" if np.isfinite(fold)
                            else "no harmful effect, not even pain ten times as often")
        else:
            smallest.append(f"pain starting {format_ratio(fold)} times less often"
                            if np.isfinite(fold)
                            else "no protective effect, not even pain ten times less often")
        for k, column, need_col in ((2, "power_at_2", "episodes_for_or_2"),
                                    (3, "power_at_3", "episodes_for_or_3")):
            if column not in row:
                continue
            words = _EFFECT_WORDS[(way, k)]
            powers.append(f"{words}: {_power_words(row, column)}")
            episodes = int(row.get(need_col, -1))
            if episodes > n:
                need.append(f"pain {words} about {count(episodes, 'episode')} "
                            f"({years_more(episodes, n, diary_years)})")
    text = (f"{plain(str(first['exposure']), capital=True)} ({count(n, 'episode')} so far): the main "
            f"analysis would detect (in 80 % of simulated histories like yours) "
            f"{'; '.join(smallest)}, in the {HAZARD_DAYS} days after it.")
    if powers:
        text += f" Its power now, for pain {'; '.join(powers)}."
    if need:
        text += f" For 80 % power it would take, for {'; for '.join(need)}."
    return text


def _rows(t: ReportTables, model: str) -> pd.DataFrame:
    """The findings rows of one model (empty when none)."""
    f = getattr(t, "findings", None)
    if f is None and getattr(t, "primary", None) is not None:
        f = t.findings = findings_table(ReportFits(
            primary=t.primary, case_crossover=getattr(t, "case_crossover", None),
            daily_model=getattr(t, "daily_model", None)))
    if f is None or not len(f):
        return pd.DataFrame(columns=["statement", "episodes_note", "term"])
    return f.loc[f["model"].eq(model)]


def _section_primary(t: ReportTables, images: dict[str, str]) -> str:
    """The report's lead: the primary single-runner analysis, in plain words."""
    out = ["<h2>The short answer: what came before pain started?</h2>"]
    primary = t.primary
    if primary is None:
        if t.derived.diary is None:
            out.append(_p("No answer yet: no pain diary was given.", "note"))
            return "\n".join(out)
        reason = "; ".join(t.model_errors[:1]) or "nothing could be fitted"
        if getattr(t, "primary_status", "") == "no_variation":
            out.append(_p(
                "No answer yet: on the days your diary covers, none of the things this "
                "analysis compares ever happened (for example no run more than twice as long "
                "as the longest of the 30 days before), so there is nothing to compare them "
                "with. Keep the diary going through the weeks you run. "
                f"(Technical reason: {reason}.)", "note"))
            return "\n".join(out)
        out.append(_p(
            "Not enough episodes yet: none of your pain episodes can be used, so no number "
            "is given. An episode counts when the diary shows the days before it (write down "
            "pain-free days too, or use --complete-diary if every unwritten day was free of "
            "pain) and your watch files cover the week before it. "
            f"(Technical reason: {reason}.)",
            "note"))
        return "\n".join(out)
    window = int(primary.settings.get("lags", [HAZARD_DAYS])[0])
    out.append(_p(
        f"Every day you were free of pain and kept your diary is compared with every other "
        f"such day: did an episode start more often in the {window} days after each of these? "
        "(A logistic model of the daily chance of an episode, chosen because it detected "
        "effects best in a simulation of runners like you; see the README.)"))
    lead = _rows(t, "primary_analysis")
    n_days = int(primary.settings.get("n_days", 0))
    n_ep = _n(getattr(t.derived, "episodes", None)) or int(primary.n_episodes)
    out.append(_p(f"{count(n_ep, 'pain episode')} in the diary; {count(n_days, 'day analysed')}."))
    out.append(_ul(lead["statement"]))
    out.append(_p("Which episodes each answer used:", "small"))
    out.append(_ul((f"{plain(str(r.exposure), capital=True)}: {r.episodes_note}."
                    for r in lead.itertuples()), "small"))
    if primary.estimable:
        out.append(_img(images, "forest_primary", "main analysis"))
    else:
        out.append(_p("Not enough episodes yet: none of these can be estimated from your "
                      "data so far, so no number is shown as an answer.", "note"))
    if t.detectable is not None and len(t.detectable):
        out.append("<h3>What your data could show</h3>")
        years = _diary_years(t)
        out.append(_ul(_detectable_sentence(rows, years)
                       for _, rows in t.detectable.groupby("exposure", sort=False)))
    out.append(_p(
        "Slow changes (an 8-week block of lower cadence, months of strength work) cannot be "
        "judged this way: in simulations their power stays near 30 % even with years of "
        "data. A planned experiment (alternating blocks with and without the change) can "
        "answer them.", "caveat"))
    return "\n".join(out)


def _draw_model_figures(tables: ReportTables, folder: Path) -> dict[str, str]:
    """Forest plots of the main analysis (when estimable) and the sensitivity analyses."""
    from kneedata import plots

    images: dict[str, str] = {}
    primary = tables.primary
    if primary is not None and primary.estimable:
        ax = plots.forest(_in_words(primary.table),
                          title=f"Main analysis: {primary.ratio_kind} ratios")
        images["forest_primary"] = _save(ax.figure, folder / "forest_primary.png")
    for key, result in (("forest", tables.case_crossover), ("forest_daily", tables.daily_model)):
        if result is not None and _any_estimable(result):
            name = ("Case-crossover" if key == "forest"
                    else f"Daily model, exposures of the {HAZARD_DAYS} days before")
            ax = plots.forest(_in_words(result.table), title=f"{name}: {result.ratio_kind} ratios")
            images[key] = _save(ax.figure, folder / f"{key}.png")
    return images


def _in_words(table: pd.DataFrame) -> pd.DataFrame:
    """A model table whose terms read as words on a figure (``spike_large_7d`` -> a
    sentence, wrapped to 45 characters)."""
    import textwrap

    return table.assign(term=[textwrap.fill(term_label(str(t)), 45) for t in table["term"]])


def _any_estimable(result: Any) -> bool:
    """Whether a model has a term with a number to draw (no empty forest plots)."""
    tab = result.table
    return bool(len(tab)) and bool(tab["estimable"].astype(bool).any()
                                   if "estimable" in tab.columns else True)


def _figure_or_why(images: dict[str, str], key: str, alt: str, result: Any) -> str:
    """The model's forest plot, or in words why there is none."""
    if key in images:
        return _img(images, key, alt)
    return _p(f"No figure: none of the {len(result.table)} comparisons could be estimated "
              "from your data so far (the table says why for each), so there is nothing to "
              "draw.", "small")


def _section_models(t: ReportTables, images: dict[str, str]) -> str:
    out = ["<h2>5. What preceded pain: sensitivity analyses</h2>"]
    if t.derived.diary is None:
        out.append(_p("No pain diary was given, so no model was fitted.", "note"))
        return "\n".join(out)
    n_ep = _n(t.derived.episodes)
    out.append(_p(
        f"The diary holds {count(n_ep, 'pain episode')}. The short answer at the top comes from the "
        "main analysis; the two designs below ask the same question differently, with their "
        "own blind spots. They are checks: each line says whether it points the same "
        "way as the main answer, and none of them is a finding on its own. The "
        "case-crossover asks, for each "
        f"episode: was an exposure more common in the {HAZARD_DAYS} days before the "
        f"first pain day than in comparable {HAZARD_DAYS}-day windows of the same runner "
        f"in the same {STRATUM_DAYS // 7}-week block when no pain started? Each episode is compared only "
        "with the runner's own time, so things that do not change (age, anatomy, "
        "habits) cancel out - and so do things that change only slowly, which is why "
        "cadence is left to the daily model below."))
    for msg in t.model_errors:
        out.append(_p(msg, "note"))
    cc = t.case_crossover
    if cc is not None:
        out.append(_figure_or_why(images, "forest", "case-crossover odds ratios", cc))
        out.append(_p(f"Case-crossover: {cc.n_episodes} of {count(n_ep, 'pain episode')} had comparable "
                      "windows and entered the fit."))
        out.append(_ul(_rows(t, "case_crossover")["statement"]))
        out.append(_table(_model_table(cc)))
        if cc.warnings:
            out.append("<h3>Warnings from the model</h3>")
            out.append(_ul(cc.warnings, "small"))
    dm = t.daily_model
    if dm is not None:
        out.append(_p(f"Daily model: every day at risk, the chance that an episode starts "
                      f"that day against the exposures of the {HAZARD_DAYS} days before "
                      "(logistic regression, log-F penalised like the main analysis). It uses "
                      "every episode and can include slow exposures such as cadence, but "
                      "it compares the runner with herself across the whole record, so "
                      "seasons and other slow changes can mix in."))
        out.append(_figure_or_why(images, "forest_daily", "daily model odds ratios", dm))
        out.append(_ul(_rows(t, "daily_model")["statement"]))
        out.append(_table(_model_table(dm)))
        if dm.warnings:
            out.append("<h3>Warnings from the model</h3>")
            out.append(_ul(dm.warnings, "small"))
    out.append("<h3>How to read this</h3>")
    out.append(_ul(CAVEATS, "caveat"))
    return "\n".join(out)


def _section_experiment(t: ReportTables, images: dict[str, str]) -> str:
    result = t.experiment
    if result is None:
        return ""
    blocks = result.settings["blocks"]
    shown = blocks.assign(start=blocks["start"].dt.strftime("%Y-%m-%d"),
                          end=blocks["end"].dt.strftime("%Y-%m-%d"))
    return "\n".join([
        "<h2>Your experiment: A (usual) against B (the change)</h2>",
        _p(result.settings["verdict"]),
        _table(result.table.drop(columns=["std_error"]), digits=2),
        _img(images, "experiment", "daily pain through the experiment, blocks shaded"),
        _p(f"Adherence: {result.settings['adherence_rule']}.", "small"),
        _table(shown, digits=2),
        _ul(result.warnings, "note"),
        _p("A randomised comparison of blocks within one runner: it says what the "
           "change did for you in these weeks (carry-over days left out, days "
           "without a diary entry left out), not what it does for others; the "
           "randomisation test is exact but coarse with few pairs.", "caveat"),
    ])


def _concat_rows(first: pd.DataFrame | None, more: pd.DataFrame) -> pd.DataFrame | None:
    """Finding rows of two sections, one after the other (``first`` when ``more`` is empty)."""
    if not len(more):
        return first
    return more if first is None or not len(first) else pd.concat([first, more],
                                                                  ignore_index=True)


#: What fills the recovery section, and how to import it (docs/recovery.md).
RECOVERY_HOWTO = (
    "Import a Garmin watch's GARMIN/Monitor, GARMIN/Sleep and GARMIN/HRVStatus folders or "
    "a Garmin account export (DI_CONNECT wellness JSON), or an Apple Health export.zip, "
    "with `kneedata import PATH`; or add the optional columns sleep_quality_1_5, "
    "fatigue_0_10, soreness_0_10 and stress_0_10 to the diary's morning lines "
    "(`kneedata init` writes them). See docs/recovery.md.")


def _section_recovery(t: ReportTables, images: dict[str, str]) -> str:
    """Sleep and recovery: what the watch and the ratings held, and the family's rows."""
    from kneedata.metrics.recovery import SHORT_SLEEP_H, daily_ratings

    out = ["<h2>Sleep and recovery</h2>"]
    wellness = t.derived.wellness
    ratings = daily_ratings(t.derived.diary)
    held = []
    if wellness is not None and len(wellness):
        sleep = pd.to_numeric(wellness["sleep_duration_h"], errors="coerce").dropna()
        if len(sleep):
            held.append(f"{len(sleep)} nights of sleep (median {format_number(sleep.median())} "
                        f"h; {100 * float((sleep < SHORT_SLEEP_H).mean()):.0f} % under "
                        f"{SHORT_SLEEP_H:g} h)")
        for column, what in (("resting_hr_bpm", "resting HR"), ("hrv_rmssd_ms", "HRV (RMSSD)"),
                             ("hrv_sdnn_ms", "HRV (SDNN)")):
            n = int(pd.to_numeric(wellness[column], errors="coerce").notna().sum())
            if n:
                held.append(f"{n} days of {what}")
    if len(ratings.columns):
        held.append(f"{len(ratings)} days with how-you-felt ratings "
                    f"({', '.join(c.split('_')[0] for c in ratings.columns)})")
    if not held:
        out.append(_p("No sleep, HRV or resting-HR data and no how-you-felt ratings were "
                      "found, so this section is empty. " + RECOVERY_HOWTO, "note"))
        return "\n".join(out)
    out.append(_p("What your files hold: " + "; ".join(held) + ". Each night and day is "
                  "compared with your own previous days only (sleep and ratings: the "
                  "28 days before; HRV and resting HR: a band of the 60 days before, "
                  "needing 14 of them)."))
    out.append(_img(images, "recovery", "sleep, HRV and resting HR against your own band"))
    rows = _rows(t, "recovery_onsets")
    if len(rows):
        out.append(_p("Before pain started (each in the main analysis beside its terms, on the "
                      "days it is known, and counted in its correction for testing several "
                      "things at once):"))
        out.append(_ul(rows["statement"]))
    runs = _rows(t, "run_response_model")
    runs = runs.loc[runs["section"].eq(recovery.RUN_SECTION)] if len(runs) else runs
    if len(runs):
        out.append(_p("The morning after a run (a check, never a finding of its own):"))
        out.append(_ul(runs["statement"]))
    out.append(_p("The evidence is modest: short sleep goes with more injuries in cohorts "
                  "of athletes; HRV and resting HR have little injury evidence, so they are "
                  "shown against your own band only. Associations, not causes.", "caveat"))
    return "\n".join(out)


def _html(t: ReportTables, images: dict[str, str]) -> str:
    from kneedata import __version__

    made = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join([
        "<h1>What came before the knee pain?</h1>",
        _p(f"kneedata {__version__} report, written {made}. Everything below is computed "
           "from your own files; nothing leaves your computer.", "small"),
        _p("Associations in one person's records, not causes and not medical advice.",
           "caveat"),
        physio.lead_html(t.physio, _section_primary(t, images)),
        _section_import(t),
        _section_load(t, images),
        _section_runs(t),
        _section_form(t, images),
        _section_shoes(t, images),
        _section_recovery(t, images),
        _section_models(t, images),
        physio.section_html(t.physio, _img(images, "physio", "pain around each run")),
        _section_experiment(t, images),
    ])
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>kneedata report</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


# --- entry points -------------------------------------------------------------------


def write_report(
    store: Any,
    *,
    diary: str | os.PathLike[str] | pd.DataFrame | None = None,
    shoes: str | os.PathLike[str] | pd.DataFrame | None = None,
    routines: str | os.PathLike[str] | pd.DataFrame | None = None,
    out: str | os.PathLike[str],
    shoe_periods: str | os.PathLike[str] | pd.DataFrame | None = None,
    dayfirst: bool = False,
    complete: bool = False,
    progress: bool = True,
    pace: str | None = None,
    experiment: str | os.PathLike[str] | pd.DataFrame | None = None,
    options: DeriveOptions | None = None,
    units: str | None = None,
    words: Callable[[str], str] | None = None,
) -> Path:
    """Write the HTML report, its figures and the model tables into ``out``.

    Parameters
    ----------
    store
        A :class:`kneedata.Store` or the path of its folder (import first with
        ``kneedata import``).
    diary, shoes, routines
        The runner's pain diary, shoes list and routines log (CSV or xlsx paths, or
        frames already read); each optional. Without a diary the report describes
        the running but fits no model.
    out
        Output folder (created).
    shoe_periods, dayfirst, complete
        As for :func:`build_tables`.
    progress
        Print one line per step to stderr.
    pace
        The runner's pace unit in figures: ``"min/km"`` or ``"min/mi"`` (default:
        that of ``units``).
    experiment
        An experiment schedule (path or frame, see
        :func:`kneedata.read_experiment`): adds its analysis
        (:func:`kneedata.analyse_experiment` with the diary, store, routines and
        shoes given) and ``model_experiment.csv``. Needs ``diary``.
    options
        :class:`kneedata.DeriveOptions` (height, heart-rate bounds, pain threshold,
        washout ...) for :func:`kneedata.derive`, as for :func:`build_tables`; the
        CLI builds it from ``--height-m``, ``--hr-rest`` ... .
    units
        ``"km"`` (default) or ``"mi"`` (:func:`kneedata.present.units_of`; the CLI's
        ``--units``): every distance, pace, weekly load, shoe distance and
        per-distance rate in the report and its figures; the store and the CSV
        tables stay SI/km. Without it, the unit of ``pace``.
    words
        Rewrites the page's text before it is written; the CLI passes
        :func:`kneedata.cli.cli_words`, so its notes name flags (``--hr-rest``), not
        Python arguments (``hr_rest_bpm=``).

    Returns
    -------
    pathlib.Path
        ``out/report.html``: one self-contained file (figures embedded as base64
        PNG). Next to it: ``figures/*.png``, ``model_primary.csv`` (the main
        analysis, :func:`kneedata.primary_analysis`), ``model_case_crossover.csv``
        and ``model_daily.csv`` (columns of :data:`kneedata.models.TABLE_COLUMNS`,
        ``estimable`` and ``status`` included; header only when the model could
        not be fitted), ``model_run_response.csv`` (:func:`kneedata.run_response_model`,
        or one row saying why it was not fitted). Which answer leads is chosen by the
        diary's shape (:func:`kneedata.physio.diary_shape`).

    Raises
    ------
    ReportError
        The store folder does not exist or holds no activities.
    """
    from kneedata.models import TABLE_COLUMNS

    if pace not in (None, "min/km", "min/mi"):
        raise ValueError(f"write_report: pace={pace!r}; use 'min/km' or 'min/mi'.")
    shown_units = units_of(units if units is not None else pace)
    pace = pace or shown_units.pace
    say = _Progress(progress)
    out_dir = Path(out).expanduser()
    tables = build_tables(store, diary=diary, shoes=shoes, routines=routines,
                          shoe_periods=shoe_periods, dayfirst=dayfirst, complete=complete,
                          options=options, progress=progress)
    tables.units = shown_units
    if tables.frame is not None:
        say(f"fitting the case-crossover and the daily model on {_n(tables.derived.episodes)} "
            "episodes")
        (tables.case_crossover, _, tables.daily_model,
         tables.model_errors) = fit_models(tables.frame)
        say("fitting the main analysis")
        tables.primary, tables.detectable, errors, tables.primary_status = fit_primary(tables.frame)
        tables.model_errors = errors + tables.model_errors
        say("run responses: which runs left the knee worse the next morning")
        tables.physio, tables.run_response = physio.analyse_report(tables.derived)
        say("sleep and recovery: each term on the days it is known")
        fits = recovery.with_recovery(ReportFits(
            primary=tables.primary, case_crossover=tables.case_crossover,
            daily_model=tables.daily_model,
            run_response=tables.run_response), tables.frame)
        fits.run_response = _concat_rows(fits.run_response,
                                         recovery.recovery_run_rows(tables.derived))
        tables.primary, tables.recovery = fits.primary, fits.recovery
        tables.findings = findings_table(fits)
    if experiment is not None:
        tables.experiment = _analyse_experiment(experiment, store, tables, say)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = _draw_figures(tables, out_dir / "figures", say, pace=pace)
    images.update(physio.draw(tables.physio, out_dir / "figures", _save))
    physio.model_csv_table(tables.physio).to_csv(out_dir / "model_run_response.csv", index=False)
    fitted = {"primary_analysis": tables.primary, "case_crossover": tables.case_crossover,
              "daily_model": tables.daily_model}
    for model, result in fitted.items():
        name = REPORT_MODELS[model].csv
        if result is not None:  # the per-row episodes notes are in findings.csv
            table = result.table.reindex(columns=list(TABLE_COLUMNS))
        elif model == "primary_analysis":
            table = unfitted_primary_table(tables.frame, tables.primary_status)
        else:
            table = pd.DataFrame(columns=list(TABLE_COLUMNS))
        table.to_csv(out_dir / name, index=False)
    findings = tables.findings if tables.findings is not None else pd.DataFrame(
        columns=list(FINDING_COLUMNS))
    findings.to_csv(out_dir / "findings.csv", index=False)
    if tables.experiment is not None:
        tables.experiment.table.to_csv(out_dir / "model_experiment.csv", index=False)
    path = out_dir / "report.html"
    page = _html(tables, images)
    path.write_text(words(page) if words is not None else page, encoding="utf-8")
    say(f"done: report.html, {len(images)} figures and the model tables in {out_dir}")
    return path


def _analyse_experiment(experiment: Any, store: Any, tables: ReportTables,
                        say: _Progress) -> Any:
    from kneedata.experiment import analyse_experiment

    derived = tables.derived
    if derived.diary is None:
        raise ReportError("--experiment needs the pain diary (--diary): the experiment "
                          "compares daily pain between its A and B blocks.")
    say("analysing the experiment")
    return analyse_experiment(experiment, derived.diary, store=derived,
                              routines=derived.routines, shoes=derived.shoes)
