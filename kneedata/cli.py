"""The ``kneedata`` command line: import, list activities, write templates, write the report.

Usage::

    kneedata import PATH... [--store DIR] [--workers N] [--force] [--report-csv FILE]
    kneedata activities [--store DIR] [--csv FILE]
    kneedata init FOLDER [--force]
    kneedata report [--store DIR] [--diary F] [--shoes F] [--routines F] --out DIR
                    [--shoe-periods F] [--dayfirst] [--complete-diary]

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
    imp.add_argument("paths", nargs="+", metavar="PATH",
                     help="files or folders (.fit/.gpx/.tcx, .gz, Garmin/Strava export .zip)")
    _store_arg(imp)
    imp.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes (default: all cores)")
    imp.add_argument("--force", action="store_true", help="re-read files even when unchanged")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--report-csv", metavar="FILE", default=None,
                     help="also write the per-file report (path, status, activity_ids, reason) as CSV")

    act = sub.add_parser("activities", help="list the activities in the store")
    _store_arg(act)
    act.add_argument("--csv", metavar="FILE", default=None,
                     help="write every column of every activity to this CSV instead of printing")

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
    rep.add_argument("--pace", choices=("min/km", "min/mi"), default="min/km",
                     help="pace unit of the figures (default min/km)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _open_store(path: str | None) -> Any:
    from kneedata.store import Store

    return Store(path) if path else Store()


def _cmd_import(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [p for p in args.paths if not os.path.lexists(os.path.expanduser(p))]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: give 1 or more")
    try:
        store = _open_store(args.store)
        report = store.import_paths(args.paths, workers=args.workers, progress=not args.no_progress,
                                    force=args.force)
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
    Numbers are left alone.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("str", "string"):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


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
    view = frame.assign(
        distance_km=(frame["distance_m"] / 1000).round(2),
        timer_min=(frame["timer_time_s"] / 60).round(1),
        avg_cadence_spm=frame["avg_cadence_spm"].round(1),
        avg_heart_rate_bpm=frame["avg_heart_rate_bpm"].round(0),
    )
    view = view[[c for c in _ACTIVITY_COLUMNS if c in view.columns]]
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

    store = _open_store(args.store)
    path = write_report(store, diary=args.diary, shoes=args.shoes, routines=args.routines,
                        out=args.out, shoe_periods=args.shoe_periods,
                        dayfirst=args.dayfirst, complete=args.complete_diary,
                        progress=not args.no_progress, pace=args.pace)
    print(f"report written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kneedata`` command; returns the exit code (see the module docstring)."""
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
        return _cmd_report(args)
    except (KneedataError, FileExistsError, FileNotFoundError, PermissionError) as err:
        print(f"kneedata {args.command}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # read-only or full disk, I/O error: one line, no traceback
        store = getattr(args, "store", None) or "the default store"
        unchanged = (f"; the store ({store}) keeps its last complete state (every table is "
                     "replaced atomically)" if args.command == "import" else "")
        print(f"kneedata {args.command}: error: cannot read or write a file ({_os_error_text(err)})"
              f"{unchanged}. Free some disk space, or choose a writable folder"
              f"{' with --store' if args.command == 'import' else ''}, then run the command again.",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
