"""The ``kneedata`` command line: import, list activities, write templates, write the report.

Usage::

    kneedata import PATH... [--store DIR] [--runner ID] [--workers N] [--force] [--report-csv FILE]
    kneedata import --manifest runners.csv [--store DIR] [--force]
    kneedata activities [--store DIR] [--csv FILE] [--units km|mi]
    kneedata init FOLDER [--force]
    kneedata report [--store DIR] [--diary F] [--shoes F] [--routines F] --out DIR
                    [--shoe-periods F] [--dayfirst] [--complete-diary] [--experiment F]
                    [--units km|mi] [--height-m X] [--leg-length-m X] [--hr-rest X]
                    [--hr-max X] [--threshold X] [--washout-days N]
    kneedata experiment plan --change C [--target T] --start DAY --out FILE
                    [--block-days N] [--pairs N] [--seed N] [--diary F] [--dayfirst]
    kneedata experiment analyse FILE --diary F [--store DIR] [--routines F] [--shoes F]
                    [--dayfirst]
    kneedata report --manifest runners.csv [--store DIR] --out DIR [--complete-diary]
                    [--threshold X] [--washout-days N]

The report's flags build the one :class:`kneedata.DeriveOptions` the Python API
uses (:func:`derive_options`); their plausible ranges are those of
:data:`kneedata.schema.OPTIONS`. Distances are shown in ``--units``; the store stays SI.

The store defaults to ``$KNEEDATA_STORE``, else ``~/.kneedata/store``. The exit code
is 0 when the command ran (files that failed to import are listed, not fatal), 2 for
usage errors (bad options, missing paths, a folder where a file is expected) and 1 when
the command could not run (e.g. no store at --store, the store is busy, a diary file has
errors). Errors are one line: the path, what was expected there, and the fix.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

_ACTIVITY_COLUMNS = [
    "activity_id", "local_date", "sport", "sub_sport", "distance_km", "timer_min",
    "avg_cadence_spm", "avg_heart_rate_bpm", "name", "gear", "rpe", "n_sources",
]


def _store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="DIR", default=None,
        help="store folder (default: $KNEEDATA_STORE or ~/.kneedata/store)",
    )


def _units_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--units", choices=("km", "mi"), default=None,
                        help="show distances, paces, weekly load and rates per distance in "
                        "kilometres or miles (default: that of --pace, else km; the store "
                        "stays in metres)")


#: The flags that set :class:`kneedata.DeriveOptions` fields: field -> (flag, type, help).
#: Their plausible ranges come from :data:`kneedata.schema.OPTIONS`, as in Python.
DERIVE_FLAGS: dict[str, tuple[str, type, str]] = {
    "height_m": ("--height-m", float, "your height in metres (step length / height)"),
    "leg_length_m": ("--leg-length-m", float,
                     "your leg length in metres (default 0.53 x height)"),
    "hr_rest_bpm": ("--hr-rest", float, "resting heart rate, beats/min (TRIMP; default 60)"),
    "hr_max_bpm": ("--hr-max", float,
                   "maximum heart rate, beats/min (TRIMP; default: estimated from the runs)"),
    "threshold": ("--threshold", float, "pain score 0-10 that makes a pain day (default 3)"),
    "washout_days": ("--washout-days", int,
                     "pain-free days that end an episode (default 14)"),
}


def _derive_args(parser: argparse.ArgumentParser) -> None:
    from kneedata.schema import OPTIONS

    for name, (flag, kind, text) in DERIVE_FLAGS.items():
        col = OPTIONS[name]
        parser.add_argument(flag, type=kind, default=None, dest=name,
                            metavar="N" if kind is int else "X",
                            help=f"{text}; {col.low:g}-{col.high:g} {col.unit}")


def derive_options(args: argparse.Namespace) -> Any:
    """The :class:`kneedata.DeriveOptions` of the command's flags (the one the Python API uses).

    Raises
    ------
    ValueError
        A usage error (exit code 2): one line naming the flag, the value given and
        the allowed range.
    """
    from kneedata.pipeline import DeriveOptions
    from kneedata.schema import check_option

    given = {name: getattr(args, name) for name in DERIVE_FLAGS
             if getattr(args, name, None) is not None}
    for name, value in given.items():
        problem = check_option(name, value)
        if problem:
            raise _UsageError(f"{DERIVE_FLAGS[name][0]} {value:g} {problem}")
    rest, top = given.get("hr_rest_bpm"), given.get("hr_max_bpm")
    if rest is not None and top is not None and not top > rest:
        raise _UsageError(f"--hr-max {top:g} must be above --hr-rest {rest:g} (beats/min)")
    return DeriveOptions(complete=bool(getattr(args, "complete_diary", False)), **given)


#: DeriveOptions fields that belong to one runner (a cohort manifest gives them per runner).
_PER_RUNNER_FIELDS = ("height_m", "leg_length_m", "hr_rest_bpm", "hr_max_bpm")


class _UsageError(ValueError):
    """A bad option value: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kneedata",
        description="What comes before a runner's knee pain: import watch files, list runs, "
        "write diary templates and the report.",
    )
    from kneedata import __version__

    parser.add_argument("--version", action="version", version=f"kneedata {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = sub.add_parser("import", help="import watch files, folders and export zips into the store")
    imp.add_argument("paths", nargs="*", metavar="PATH",
                     help="files or folders (.fit/.gpx/.tcx, .gz, Garmin/Strava export .zip)")
    _store_arg(imp)
    imp.add_argument("--runner", metavar="ID", default=None,
                     help="the runner these files belong to (default: the store's only runner)")
    imp.add_argument("--manifest", metavar="CSV", default=None,
                     help="import many runners: a CSV with columns runner_id,path (and optional "
                     "diary,shoes,routines,height_m,leg_length_m); paths relative to the CSV")
    imp.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes (default: all cores)")
    imp.add_argument("--force", action="store_true", help="re-read files even when unchanged")
    imp.add_argument("--file-seconds", type=float, default=None, metavar="S",
                     help="longest time spent reading one file; a file over it is reported as failed "
                     "and the import goes on (default 300; 0: no limit)")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--report-csv", metavar="FILE", default=None,
                     help="also write the per-file report (path, status, activity_ids, reason) as CSV")

    act = sub.add_parser("activities", help="list the activities in the store")
    _store_arg(act)
    act.add_argument("--csv", metavar="FILE", default=None,
                     help="write every column of every activity to this CSV instead of printing")
    _units_arg(act)

    init = sub.add_parser("init", help="write pain diary, shoes and routines templates to fill in")
    init.add_argument("path", metavar="FOLDER", help="folder for the templates (created if missing)")
    init.add_argument("--force", action="store_true", help="overwrite existing templates")

    rep = sub.add_parser("report", help="write the HTML report")
    _store_arg(rep)
    rep.add_argument("--diary", metavar="FILE", default=None, help="pain diary (.csv or .xlsx)")
    rep.add_argument("--shoes", metavar="FILE", default=None, help="shoes table (.csv or .xlsx)")
    rep.add_argument("--routines", metavar="FILE", default=None, help="routines log (.csv or .xlsx)")
    rep.add_argument("--out", metavar="DIR", required=True, help="output folder for report.html")
    rep.add_argument("--shoe-periods", metavar="FILE", default=None,
                     help="which shoe was worn when: shoe_id,start,end (.csv or .xlsx); needs --shoes")
    rep.add_argument("--dayfirst", action="store_true",
                     help="read slashed dates in the logs as day/month/year (04/03/2025 = 4 March)")
    rep.add_argument("--complete-diary", action="store_true",
                     help="the diary is complete: a day without an entry was pain-free")
    rep.add_argument("--pace", choices=("min/km", "min/mi"), default=None,
                     help="pace unit of the figures (default: that of --units)")
    _units_arg(rep)
    _derive_args(rep)
    rep.add_argument("--manifest", metavar="CSV", default=None,
                     help="a cohort report over the manifest's runners (instead of --diary etc.)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.add_argument("--experiment", metavar="FILE", default=None,
                     help="an experiment schedule (kneedata experiment plan): adds its analysis")
    _experiment_parser(sub)
    return parser


def _experiment_parser(sub: Any) -> None:
    exp = sub.add_parser("experiment", help="plan or analyse your own A/B experiment")
    verbs = exp.add_subparsers(dest="verb", required=True, metavar="VERB")
    plan = verbs.add_parser("plan", help="write a randomised A/B block schedule as CSV")
    plan.add_argument("--change", required=True,
                      choices=["cadence", "strength", "shoes", "other"],
                      help="what B changes")
    plan.add_argument("--target", default=None,
                      help="cadence: +7%%; strength: sessions/week; shoes: a shoe_id")
    plan.add_argument("--start", required=True, metavar="DAY", help="first day, e.g. 2026-01-05")
    plan.add_argument("--out", required=True, metavar="FILE", help="the schedule CSV to write")
    plan.add_argument("--block-days", type=int, default=14, metavar="N", help="days per block")
    plan.add_argument("--pairs", type=int, default=4, metavar="N", help="number of AB/BA pairs")
    plan.add_argument("--seed", type=int, default=None, metavar="N",
                      help="seed of the randomisation (default: a fresh one, printed)")
    plan.add_argument("--diary", metavar="FILE", default=None,
                      help="your pain diary: simulate which effects each plan could detect")
    plan.add_argument("--dayfirst", action="store_true",
                      help="read slashed dates in the diary as day/month/year")
    ana = verbs.add_parser("analyse", help="analyse a finished experiment")
    ana.add_argument("schedule", metavar="FILE", help="the schedule CSV")
    ana.add_argument("--diary", metavar="FILE", required=True, help="pain diary")
    _store_arg(ana)
    ana.add_argument("--routines", metavar="FILE", default=None, help="routines log")
    ana.add_argument("--shoes", metavar="FILE", default=None, help="shoes table")
    ana.add_argument("--dayfirst", action="store_true",
                     help="read slashed dates in the files as day/month/year")


def _open_store(path: str | None, file_seconds: float | None = None) -> Any:
    from kneedata.store import Store

    store = Store(path) if path else Store()
    if file_seconds is not None:
        import dataclasses

        store.limits = dataclasses.replace(store.limits, max_file_seconds=file_seconds or None)
    return store


def _cmd_import_manifest(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from kneedata.cohort import import_cohort, read_manifest

    if args.paths or args.runner:
        parser.error("--manifest lists the runners and their paths: give no PATH and no --runner")
    if not os.path.isfile(os.path.expanduser(args.manifest)):
        parser.error(f"no such manifest file: {args.manifest}")
    result = import_cohort(_open_store(args.store, args.file_seconds), read_manifest(args.manifest),
                           progress=not args.no_progress, force=args.force)
    print(result.summary())
    return 0


def _cmd_import(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.manifest:
        return _cmd_import_manifest(args, parser)
    if not args.paths:
        parser.error("give one or more PATHs to import (or --manifest runners.csv)")
    if args.runner is not None:
        from kneedata.runners import check_runner_id

        try:
            check_runner_id(args.runner, where="--runner")
        except ValueError as err:
            parser.error(str(err))
    missing = [p for p in args.paths if not os.path.lexists(os.path.expanduser(p))]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: give 1 or more")
    if args.file_seconds is not None and not args.file_seconds >= 0:
        parser.error(f"--file-seconds {args.file_seconds}: give a number of seconds (0: no limit)")
    try:
        store = _open_store(args.store, args.file_seconds)
        report = store.import_paths(args.paths, workers=args.workers, progress=not args.no_progress,
                                    force=args.force, runner_id=args.runner)
    except OSError as err:
        if args.report_csv:  # say what happened to each path given, where the CSV can be written
            import pandas as pd

            with contextlib.suppress(OSError):
                pd.DataFrame({"path": args.paths, "status": "failed", "activity_ids": "",
                              "reason": f"import stopped: {_os_error_text(err)}"}
                             ).to_csv(args.report_csv, index=False)
        raise
    print(report.summary())
    if args.report_csv:
        frame = report.to_frame()
        frame["activity_ids"] = frame["activity_ids"].map(";".join)
        spreadsheet_safe(frame).to_csv(args.report_csv, index=False)
        print(f"per-file report written to {args.report_csv}")
    return 0


#: First characters that make a spreadsheet read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: Any) -> Any:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A Strava activity named ``=cmd|' /C calc'!A0`` would run when the CSV is opened
    in a spreadsheet (CSV injection); text cells starting with ``= + - @``, a tab
    or a carriage return get a leading apostrophe, which spreadsheets show as text.
    The full-width forms (``＝ ＋ － ＠``), which some spreadsheets read as ``=``, count
    too (the first character is compared after NFKC normalisation). Numbers are left
    alone.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("str", "string"):
            out[col] = out[col].map(lambda v: "'" + v if _formula_like(v) else v)
    return out


def _formula_like(value: Any) -> bool:
    """Whether a cell's text starts like a spreadsheet formula (full-width forms included)."""
    if not isinstance(value, str) or not value:
        return False
    import unicodedata

    return value.startswith(_FORMULA_START) or unicodedata.normalize("NFKC", value[0]).startswith(_FORMULA_START)


def _os_error_text(err: OSError) -> str:
    """``'No space left on device: /x/activities.parquet'`` from an OSError."""
    what = err.strerror or str(err)
    return f"{what}: {err.filename}" if err.filename else what


def _cmd_activities(args: argparse.Namespace) -> int:
    import pandas as pd

    store = _open_store(args.store)
    frame = store.activities()  # StoreNotFoundError (exit 1) when there is no store
    if args.csv:
        out = frame.copy()
        for col in ("source_files", "warnings"):
            if col in out:
                out[col] = out[col].map(lambda v: ";".join(v) if isinstance(v, list) else v)
        spreadsheet_safe(out).to_csv(args.csv, index=False)
        print(f"{len(out)} activities written to {args.csv}")
        return 0
    if frame.empty:
        print(f"no activities in the store {store.path}; run `kneedata import PATH --store {store.path}`")
        return 0
    from kneedata.present import units_of

    units = units_of(args.units)
    view = frame.assign(
        distance_km=units.distance(frame["distance_m"] / 1000).round(2),
        timer_min=(frame["timer_time_s"] / 60).round(1),
        avg_cadence_spm=frame["avg_cadence_spm"].round(1),
        avg_heart_rate_bpm=frame["avg_heart_rate_bpm"].round(0),
    )
    view = view[[c for c in _ACTIVITY_COLUMNS if c in view.columns]].rename(
        columns={"distance_km": "distance" + units.suffix})
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 30):
        print(view.to_string(index=False))
    print(f"{len(frame)} activities in {store.path}")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from kneedata.io.diary import write_templates

    written = write_templates(args.path, overwrite=args.force)
    for path in written:
        print(f"wrote {path}")
    return 0


#: The log files ``report`` reads: option -> (what it is, template name from ``kneedata init``).
_LOG_OPTIONS = {
    "diary": ("pain diary", "pain_diary.csv"),
    "shoes": ("shoes table", "shoes.csv"),
    "routines": ("routines log", "routines.csv"),
    "shoe_periods": ("shoe periods table (shoe_id,start,end)", "shoe_periods.csv"),
}


def _log_file_problem(option: str, value: str) -> str | None:
    """One line saying what is wrong with a --diary/--shoes/... path, or None."""
    what, template = _LOG_OPTIONS[option]
    flag = "--" + option.replace("_", "-")
    path = os.path.expanduser(value)
    if os.path.isdir(path):
        inside = os.path.join(path, template)
        fix = (f"did you mean {inside}?" if os.path.isfile(inside)
               else f"write the templates with `kneedata init {value}`")
        return f"{flag} {value} is a folder; expected the {what} file (.csv or .xlsx): {fix}"
    if not os.path.exists(path):
        return (f"{flag} {value}: no such file; expected the {what} (.csv or .xlsx); check the "
                "path, or write the templates with `kneedata init FOLDER`")
    return None


def _cmd_report(args: argparse.Namespace) -> int:
    from kneedata.report import write_report

    for option in _LOG_OPTIONS:
        value = getattr(args, option)
        problem = _log_file_problem(option, value) if value else None
        if problem:
            print(f"kneedata report: error: {problem}", file=sys.stderr)
            return 2

    options = derive_options(args)
    store = _open_store(args.store)
    if args.manifest:
        from kneedata.cohort_report import write_cohort_report

        own = [DERIVE_FLAGS[n][0] for n in _PER_RUNNER_FIELDS if getattr(args, n) is not None]
        if own:
            raise _UsageError(f"{', '.join(own)}: one runner's measure, not the cohort's; with "
                              "--manifest give height_m and leg_length_m per runner in the "
                              "manifest (heart-rate bounds are estimated per runner)")
        shared = {n: getattr(args, n) for n in ("threshold", "washout_days")
                  if getattr(args, n) is not None}
        path = write_cohort_report(store, args.manifest, out=args.out, complete=args.complete_diary,
                                   dayfirst=args.dayfirst, progress=not args.no_progress,
                                   options=shared)
        print(f"cohort report written to {path}")
        return 0
    out = os.path.expanduser(args.out)
    created = os.path.isdir(store.path) and not os.path.exists(out)
    if created:  # an unwritable --out is said now, not after the models
        os.makedirs(out)
    try:
        path = write_report(store, diary=args.diary, shoes=args.shoes, routines=args.routines,
                            out=args.out, shoe_periods=args.shoe_periods,
                            dayfirst=args.dayfirst, complete=args.complete_diary,
                            progress=not args.no_progress, pace=args.pace, units=args.units,
                            options=options, words=cli_words,
                            **({"experiment": args.experiment} if args.experiment else {}))
    except BaseException:
        if created:  # a diary error leaves no empty --out behind
            with contextlib.suppress(OSError):
                os.rmdir(out)
        raise
    print(f"report written to {path}")
    return 0


def _cmd_experiment(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from kneedata import experiment

    if args.verb == "plan":
        try:
            plan = experiment.plan_experiment(args.change, start=args.start,
                                              block_days=args.block_days,
                                              n_pairs=args.pairs, seed=args.seed,
                                              target=args.target)
        except ValueError as err:
            parser.error(f"experiment plan: {err}")
        experiment.write_schedule(plan, args.out)
        print(experiment.plan_text(plan))
        print(f"seed {plan.attrs['seed']}; schedule written to {args.out}")
        if args.diary:
            from kneedata.io.diary import read_pain_diary

            table = experiment.detectable_effects(
                read_pain_diary(args.diary, dayfirst=args.dayfirst), carryover_days=3)
            print("Smallest drop in mean daily pain each plan could detect (80 % power), "
                  "simulated on your diary:")
            print(table.round(2).to_string(index=False))
        return 0
    from kneedata.io import diary as logs

    store = _open_store(args.store) if args.store or args.shoes else None
    day = {"dayfirst": args.dayfirst}
    result = experiment.analyse_experiment(
        logs.read_experiment(args.schedule, **day), logs.read_pain_diary(args.diary, **day),
        store=store, routines=logs.read_routines(args.routines, **day) if args.routines else None,
        shoes=logs.read_shoes(args.shoes, **day) if args.shoes else None)
    print(result.settings["verdict"])
    print(result.table.round(3).to_string(index=False))
    for note in result.warnings:
        print(f"! {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kneedata`` command; returns the exit code (see the module docstring).

    Everything it prints goes through :class:`kneedata.text.TerminalSafeStream`: a
    name from a file (Strava activity or gear, zip member, path) holding an escape
    sequence is shown escaped, never obeyed by the terminal.
    """
    import warnings

    from kneedata.text import TerminalSafeStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeStream(out), TerminalSafeStream(err, keep="\r")  # \r: the bar
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_note
            return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from kneedata.errors import KneedataError

    try:
        if args.command == "import":
            return _cmd_import(args, parser)
        if args.command == "activities":
            return _cmd_activities(args)
        if args.command == "init":
            return _cmd_init(args)
        if args.command == "experiment":
            return _cmd_experiment(args, parser)
        return _cmd_report(args)
    except _UsageError as err:
        print(f"kneedata {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (KneedataError, FileExistsError) as err:
        print(f"kneedata {args.command}: error: {cli_words(str(err))}", file=sys.stderr)
        return 1
    except OSError as err:  # read-only or full disk, I/O error: one line, no traceback
        if err.errno is None:  # raised by kneedata with its own message
            print(f"kneedata {args.command}: error: {cli_words(str(err))}", file=sys.stderr)
        else:
            print(f"kneedata {args.command}: error: {_os_error_line(args, err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback
        kept = (" The store keeps every file read before the interrupt (its tables are written "
                "atomically); run the same command again to go on from there."
                if args.command == "import" else "")
        print(f"kneedata {args.command}: interrupted.{kept}", file=sys.stderr)
        return 130


def _flag_of(args: argparse.Namespace, path: str) -> str:
    """The option that named the folder of ``path`` (``--out``, ``--store``, FOLDER), or ``""``."""
    where = os.path.realpath(os.path.expanduser(path))
    for attr, flag in (("out", "--out"), ("store", "--store"), ("path", "FOLDER"),
                       ("report_csv", "--report-csv"), ("csv", "--csv")):
        value = getattr(args, attr, None)
        if isinstance(value, str):
            given = os.path.realpath(os.path.expanduser(value))
            if where == given or where.startswith(given.rstrip(os.sep) + os.sep):
                return flag
    return "--store" if args.command == "import" else ""


def _os_error_line(args: argparse.Namespace, err: OSError) -> str:
    """A failed read or write as one plain sentence: the folder, the cause, what to do."""
    import errno

    path = str(err.filename) if err.filename else ""
    folder = path if not path or os.path.isdir(path) else os.path.dirname(path) or path
    flag = _flag_of(args, path) if path else ""
    where = f" with {flag}" if flag.startswith("--") else " (the FOLDER argument)" if flag else ""
    why = (err.strerror or str(err)).lower()
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        text = (f"the disk of {folder or 'the output'} is full ({why}). Free some disk space, "
                f"or choose a folder on another disk{where}")
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        text = (f"the folder {folder} cannot be written (read-only or not yours: {why}). "
                f"Choose a folder you can write to{where}, e.g. one in your home folder")
    elif err.errno == errno.ENOENT:
        text = (f"{path} cannot be found or created ({why}). Check the path{where}, or "
                "choose a folder in your home folder")
    else:
        text = f"cannot read or write {path or 'a file'} ({why}). Check the disk, or choose another folder{where}"
    store = getattr(args, "store", None)
    if args.command == "import" and (store is None or os.path.isdir(os.path.expanduser(store))):
        store = store or "the default store"
        text += (f"; the store ({store}) keeps its last complete state (every table is "
                 "replaced atomically)")
    return text + ", then run the command again."


#: Python words in messages -> what a command-line user types instead. The Python
#: API keeps its words; the CLI shows every error, note and report page through
#: :func:`cli_words`.
_CLI_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b[Pp]ass dayfirst=True\b", "add --dayfirst"),
    (r"\bpass overwrite=True \(kneedata init --force\)", "add --force"),
    (r"\bpass overwrite=True\b", "add --force"),
    (r"\bPass hr_rest_bpm= and hr_max_bpm=", "Give --hr-rest and --hr-max"),
    (r"\bhr_max_bpm \(([^)]*)\) must be greater than hr_rest_bpm \(([^)]*)\)",
     r"--hr-max (\1) must be greater than --hr-rest (\2)"),
    (r" \(or Store\([^)]*\)\.import_paths\(\[\.\.\.\]\)\)", ""),
    (r"Store\([^)]*\)\.activities\(\)\['activity_id'\] or ", ""),
    (r"\(kneedata\.quality_notes\(store\.activities\(\)\) lists them all\)",
     "(`kneedata activities --csv FILE` lists them all, in its warnings column)"),
    (r"derive: shoe_periods need the shoes table \(pass shoes=\.\.\.\)",
     "--shoe-periods needs the shoes table: add --shoes FILE"),
)


def cli_words(text: str) -> str:
    """A message with the Python arguments it names replaced by the CLI's flags.

    Examples
    --------
    >>> cli_words("'13/03/2024' looks like day/month/year. Pass dayfirst=True if ...")
    "'13/03/2024' looks like day/month/year. add --dayfirst if ..."
    >>> cli_words("Pass hr_rest_bpm= and hr_max_bpm= for TRIMP on your own scale")
    'Give --hr-rest and --hr-max for TRIMP on your own scale'
    """
    import re

    for python, cli in _CLI_WORDS:
        text = re.sub(python, cli, text)
    return text


def _show_note(message: Any, category: type[Warning], filename: str, lineno: int,
               file: Any = None, line: str | None = None) -> None:
    """A warning during a command as one plain line in CLI words (no source line)."""
    del category, filename, lineno, file, line
    print(f"kneedata: note: {cli_words(str(message))}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
