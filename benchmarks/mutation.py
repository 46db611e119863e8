"""Mutation testing of the code behind the reported numbers: does a targeted test fail?

A small self-contained harness (no dependency beyond the test extra). For each
target module it makes every mutant of the listed functions that a mutation tool
such as mutmut would make - one operator at a time:

- comparisons: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``in`` <-> ``not in``,
  ``is`` <-> ``is not``;
- arithmetic: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, ``**`` -> ``*`` (also
  augmented assignments);
- numbers: ``n`` -> ``n + 1`` (int and float); ``True`` <-> ``False``;
- ``and`` <-> ``or``; ``not x`` -> ``x``; ``-x`` -> ``x``;

applies it to a scratch copy of the package and runs that module's targeted tests
(pytest ``-x``) in a forked child that already holds numpy, pandas, scipy and
statsmodels, so a mutant costs its tests, not the imports. A mutant is *killed*
when a test fails (or the run exceeds its time limit), *survives* when every test
passes. Strings (messages, docstrings) and f-strings are not mutated.

Results: ``docs/mutation.md`` (survival per module, the surviving mutants and why
each is harmless or which test now kills it); ``--json`` writes every mutant.

Usage::

    nice -n 10 .venv/bin/python benchmarks/mutation.py               # every target
    nice -n 10 .venv/bin/python benchmarks/mutation.py spikes --list # mutants only
    nice -n 10 .venv/bin/python benchmarks/mutation.py models --json benchmarks/results/mutation_models.json
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Target:
    """One module under test: the functions mutated and the tests that should notice."""

    path: str
    functions: tuple[str, ...]
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    # the log-F penalty (pseudo-data), the statuses and the table of every model
    "models": Target(
        "kneedata/models/engines.py",
        ("_logf_strata", "_logf_rows", "_fit_binomial", "_fit_conditional", "_term_status",
         "_finish", "_table"),
        ("tests/test_logf_reference.py",)),
    "spikes": Target(
        "kneedata/metrics/load.py", ("_range_max", "session_spikes"),
        ("tests/metrics/test_spike_edges.py",
         "tests/metrics/test_load.py")),
    "episodes": Target(
        "kneedata/episodes.py",
        ("_entries", "_side_union", "_daily", "pain_days", "_episodes", "pain_episodes"),
        ("tests/test_episodes.py",
         "-k", "not never_overlap")),  # the property test (30 s) runs in the suite
    "baseline": Target(
        "kneedata/metrics/baseline.py",
        ("_weighted_line", "_shorth_mean", "fit_cadence_line", "_biweight",
         "trailing_cadence_baseline"),
        ("tests/metrics/test_baseline.py",)),
}

_SWAP_OPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
    ast.IsNot: ast.Is, ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div,
    ast.Div: ast.Mult, ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass
class Mutant:
    """One change to one expression, and what the tests made of it."""

    module: str
    function: str
    line: int
    before: str
    after: str
    outcome: str = ""  # "killed", "survived", "timeout"
    seconds: float = 0.0


def _variants(node: ast.AST) -> list[ast.AST]:
    """The mutated copies of one node (its own operator or value only)."""
    out: list[ast.AST] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _SWAP_OPS:
                new = copy.deepcopy(node)
                new.ops[i] = _SWAP_OPS[type(op)]()
                out.append(new)
    elif isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp)) and type(node.op) in _SWAP_OPS:
        new = copy.deepcopy(node)
        new.op = _SWAP_OPS[type(node.op)]()
        out.append(new)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        out.append(copy.deepcopy(node.operand))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append(ast.Constant(not node.value))
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        out.append(ast.Constant(node.value + 1))
    return out


def _skip_strings(tree: ast.AST) -> set[int]:
    """Ids of nodes inside f-strings (their parts are not expressions to mutate)."""
    return {id(sub) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
            for sub in ast.walk(node)}


def _offsets(source: str) -> list[int]:
    starts, total = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(total)
        total += len(line.encode("utf-8"))
    return starts


def mutants(name: str, target: Target) -> list[tuple[Mutant, str]]:
    """Every mutant of the target's functions, with the mutated module source."""
    source = (REPO / target.path).read_text(encoding="utf-8")
    raw = source.encode("utf-8")
    starts = _offsets(source)
    tree = ast.parse(source)
    skip = _skip_strings(tree)
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name not in target.functions:
            continue
        body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
        for stmt in body:
            for node in ast.walk(stmt):
                if id(node) in skip or not hasattr(node, "end_col_offset"):
                    continue
                for new in _variants(node):
                    a = starts[node.lineno - 1] + node.col_offset
                    b = starts[node.end_lineno - 1] + node.end_col_offset
                    before = raw[a:b].decode("utf-8")
                    if isinstance(node, ast.AugAssign):
                        text = ast.unparse(new)
                    else:
                        text = "(" + ast.unparse(new) + ")"
                    mutated = (raw[:a] + text.encode("utf-8") + raw[b:]).decode("utf-8")
                    try:
                        ast.parse(mutated)
                    except SyntaxError:
                        continue
                    short = " ".join(before.split())
                    out.append((Mutant(name, fn.name, node.lineno, short[:160],
                                       " ".join(text.split())[:160]), mutated))
    rank = {name: i for i, name in enumerate(target.functions)}
    out.sort(key=lambda pair: rank[pair[0].function])  # stable: file order within one
    # one mutant per distinct change (a node nested in another is listed once per operator)
    seen, unique = set(), []
    for mutant, text in out:
        if text not in seen:
            seen.add(text)
            unique.append((mutant, text))
    return unique


def _preload() -> None:
    """Import the heavy third-party packages once, in the parent (children fork)."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pytest  # noqa: F401
    import scipy.optimize
    import scipy.stats  # noqa: F401
    import statsmodels.api  # noqa: F401


def _run_tests(scratch: Path, tests: tuple[str, ...], limit_s: float) -> tuple[str, float]:
    """Run the tests on the scratch package in a forked child: (outcome, seconds)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            sys.path.insert(0, str(scratch))
            os.chdir(REPO)
            if not os.environ.get("MUTATION_VERBOSE"):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            import pytest

            code = pytest.main(["-x", "-q", "-n", "0", "-p", "no:cacheprovider",
                                "-W", "ignore", *tests])
            os._exit(int(code))
        except BaseException:  # the child never returns
            os._exit(99)
    deadline = start + limit_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ("survived" if code == 0 else "killed"), time.perf_counter() - start
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - start
        time.sleep(0.05)


def run(names: list[str], *, limit_factor: float = 3.0, budget_s: float = 1800.0,
        only: list[dict] | None = None, functions: list[str] | None = None,
        extra_tests: tuple[str, ...] = (), tests_only: bool = False) -> list[Mutant]:
    """Every mutant of the named targets, tested; stops starting new ones after ``budget_s``.

    ``only``: mutants of an earlier run (``--json``); those it found killed are kept
    as they were (an added test cannot revive a mutant), the others are tested again.
    ``functions``: mutate only these (default: the target's list). ``extra_tests``:
    run these too; with ``tests_only`` run only these (valid with ``only``: a
    survivor of the target's tests is killed by the union iff the extra tests kill it).
    """
    earlier = {(m["module"], m["function"], m["line"], m["before"], m["after"]): m
               for m in (only or [])}
    _preload()
    results: list[Mutant] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kneedata-mutation-") as tmp:
        scratch = Path(tmp)
        shutil.copytree(REPO / "kneedata", scratch / "kneedata",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in names:
            target = TARGETS[name]
            module_file = scratch / target.path
            original = module_file.read_text(encoding="utf-8")
            # the test set is fixed when the target starts (a test file added meanwhile
            # is not used: a "before" run stays a before run)
            tests = tuple(t for t in ((*extra_tests,) if tests_only
                                      else (*target.tests, *extra_tests)) if t.startswith("-")
                          or (REPO / t.split("::")[0]).is_file())
            if functions:
                target = Target(target.path, tuple(functions), tests)
            clean, clean_s = _run_tests(scratch, tests, 600.0)
            if clean != "survived":
                raise SystemExit(f"{name}: the tests fail without a mutant ({clean}); fix first")
            found = mutants(name, target)
            print(f"{name}: {len(found)} mutants, clean run {clean_s:.1f} s", flush=True)
            for i, (mutant, text) in enumerate(found, 1):
                key = (mutant.module, mutant.function, mutant.line, mutant.before, mutant.after)
                if only is not None and (key not in earlier
                                         or earlier[key]["outcome"] != "survived"):
                    if key in earlier:
                        results.append(Mutant(**earlier[key]))
                    continue
                if time.perf_counter() - began > budget_s:
                    print("budget spent: stopping", flush=True)
                    return results
                module_file.write_text(text, encoding="utf-8")
                mutant.outcome, mutant.seconds = _run_tests(
                    scratch, tests, limit_factor * clean_s + 10)
                module_file.write_text(original, encoding="utf-8")
                results.append(mutant)
                if mutant.outcome == "survived":
                    print(f"  [{i}/{len(found)}] SURVIVED {mutant.function}:{mutant.line} "
                          f"{mutant.before!r} -> {mutant.after!r}", flush=True)
    return results


def summary(results: list[Mutant]) -> str:
    """Per module: mutants, killed (incl. time-outs), survived and the survival rate."""
    lines = ["| module | mutants | killed | survived | survival |", "|---|---|---|---|---|"]
    for name in dict.fromkeys(m.module for m in results):
        mine = [m for m in results if m.module == name]
        alive = sum(m.outcome == "survived" for m in mine)
        lines.append(f"| {name} | {len(mine)} | {len(mine) - alive} | {alive} | "
                     f"{100 * alive / len(mine):.0f} % |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), choices=[*TARGETS, []])
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", type=Path, help="write every mutant and its outcome here")
    parser.add_argument("--functions", nargs="+", help="mutate only these functions")
    parser.add_argument("--tests", nargs="+", default=(),
                        help="extra tests (with --only: run only these on the survivors)")
    parser.add_argument("--only", type=Path,
                        help="an earlier --json: test again only the mutants it found alive")
    parser.add_argument("--budget-s", type=float, default=1800.0,
                        help="wall seconds after which no new mutant is started")
    args = parser.parse_args(argv)
    names = args.targets or list(TARGETS)
    if args.list:
        for name in names:
            target = TARGETS[name]
            if args.functions:
                target = Target(target.path, tuple(args.functions), target.tests)
            for mutant, _ in mutants(name, target):
                print(f"{name} {mutant.function}:{mutant.line} {mutant.before!r} -> "
                      f"{mutant.after!r}")
        return 0
    only = json.loads(args.only.read_text()) if args.only else None
    results = run(names, budget_s=args.budget_s, only=only, functions=args.functions,
                  extra_tests=tuple(args.tests), tests_only=bool(args.tests and only))
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in results], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
