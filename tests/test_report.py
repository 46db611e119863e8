"""kneedata.report: the one-file HTML report, its figures and model tables, from a tiny store.

The tiny store is a 100-day run of the sample-runner generator
(sample_data/make_sample_runner.py, written through the real FIT/GPX/TCX/zip
formats) imported with the real Store, so the report is tested on the same path the
README's main command takes, only shorter.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kneedata.models import STATUSES, TABLE_COLUMNS
from kneedata.report import (
    CASE_CROSSOVER_EXPOSURES,
    ReportError,
    write_report,
)
from kneedata.store import Store

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "sample_data" / "make_sample_runner.py"
DAYS = 100  # 100 days from the generator's default start: ~50 runs, 2 pain episodes

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: each worker builds its own
    fcntl = None  # type: ignore[assignment]


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory) -> Path:
    """A folder shared by the pytest-xdist workers of this run (so the store is built once)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        return base.parent / "report_tiny_runner"
    return base / "report_tiny_runner"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def tiny(shared_root) -> dict[str, Path]:
    """A 100-day sample runner: files, logs, an imported store and the full report."""
    paths = {"data": shared_root / "data", "store": shared_root / "store",
             "root": shared_root, "out": shared_root / "out"}
    with _locked(shared_root.parent / f"{shared_root.name}.lock"):
        if not (paths["out"] / "report.html").exists():
            subprocess.run([sys.executable, str(GENERATOR), "--out", str(paths["data"]),
                            "--days", str(DAYS)], check=True, capture_output=True)
            Store(paths["store"]).import_paths([paths["data"]], workers=1, progress=False)
            data = paths["data"]
            write_report(paths["store"], diary=data / "pain_diary.csv",
                         shoes=data / "shoes.csv", routines=data / "routines.csv",
                         out=paths["out"], progress=False)
    return paths


@pytest.fixture
def full_report(tiny) -> tuple[Path, str]:
    path = tiny["out"] / "report.html"
    return path, path.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(full_report):
    path, text = full_report
    assert path.name == "report.html" and path.is_file()
    # every image is embedded; nothing is fetched from disk or the network
    sources = re.findall(r'src="([^"]+)"', text)
    assert sources, "no figures embedded"
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    for s in sources:
        assert base64.b64decode(s.split(",", 1)[1])[:8] == PNG_MAGIC
    assert not re.search(r'<(link|script)[^>]+(href|src)=', text)
    # timeline, load, cadence, shoes and the physio view of the runs; with 2 episodes
    # nothing is estimable, so no forest plot (an empty box) but a sentence saying why
    assert len(sources) == 5
    assert text.count("No figure: none of the") == 2


def test_report_figures_and_csv(full_report):
    path, _ = full_report
    figures = sorted(p.name for p in (path.parent / "figures").glob("*.png"))
    assert figures == ["acute_chronic.png", "cadence_speed.png", "physio.png", "shoe_km.png",
                       "timeline.png"]
    for png in (path.parent / "figures").glob("*.png"):
        assert png.read_bytes()[:8] == PNG_MAGIC
    table = pd.read_csv(path.parent / "model_run_response.csv")
    assert {"term", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "n_runs",
            "estimable", "status"} <= set(table.columns) and len(table) >= 1
    table = pd.read_csv(path.parent / "model_case_crossover.csv")
    assert list(table.columns) == list(TABLE_COLUMNS)
    # the report's case-crossover exposures that this runner has: spikes, strength log
    assert set(table["term"]) <= set(CASE_CROSSOVER_EXPOSURES)
    assert len(table) >= 1
    est = table[table["estimable"]]
    assert (est["ci_low"] <= est["ratio"]).all()
    assert (est["ratio"] <= est["ci_high"]).all()
    assert set(table["status"]) <= set(STATUSES)
    daily = pd.read_csv(path.parent / "model_daily.csv")
    assert list(daily.columns) == list(TABLE_COLUMNS)
    primary = pd.read_csv(path.parent / "model_primary.csv")
    assert list(primary.columns) == list(TABLE_COLUMNS)
    assert set(primary["status"]) <= set(STATUSES)


def test_report_leads_with_the_main_analysis_and_shows_no_unsupported_number(full_report):
    path, text = full_report
    plain = re.sub(r"<[^>]+>", " ", text)
    # the main answer comes before every other section
    assert plain.index("The short answer") < plain.index("What was imported")
    primary = pd.read_csv(path.parent / "model_primary.csv")
    # 100 days, 2 episodes: too few for any estimate, and the report says so plainly
    assert primary["n_episodes"].max() < 5
    assert not primary["estimable"].any()
    assert primary["status"].eq("too_few_episodes").all()
    assert "Not enough episodes yet" in plain
    assert "What your data could show" in plain
    # the model sections: no number in scientific notation, no absurd digit strings
    models = (plain[plain.index("The short answer"):plain.index("What was imported")]
              + plain[plain.index("What preceded pain"):])
    assert not re.search(r"\d\.?\d*e[+-]\d", models)
    assert not re.search(r"\d{7,}", models)


def test_report_sections_and_caveats(full_report, tiny):
    _, text = full_report
    for heading in ("What was imported", "Load and spikes", "Form: cadence",
                    "Shoes", "What preceded pain"):
        assert heading in text
    plain = re.sub(r"<[^>]+>", " ", text)
    # counts match the store
    n_acts = len(Store(tiny["store"]).activities())
    assert f"{n_acts} activities" in plain
    # the honest caveats (issue 7, docs/design.md section 5)
    assert "not causes" in plain
    assert "not medical advice" in plain
    assert "transient" in plain and "Slow exposures" in plain
    assert "wide intervals" in plain
    assert "mathematically coupled" in plain
    # number of episodes stated
    diary_episodes = re.search(r"(\d+) pain episodes", plain)
    assert diary_episodes is not None


def test_report_without_diary_says_so_with_progress_on_stderr(tiny, tmp_path, capsys):
    path = write_report(Store(tiny["store"]), out=tmp_path / "r", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) >= 3
    assert all(line.startswith("[kneedata report") for line in lines)
    assert lines[-1].endswith(f"in {path.parent}")

    text = path.read_text(encoding="utf-8")
    assert "No pain diary was given" in text
    # model tables are still written, header only, so scripts can rely on them
    table = pd.read_csv(path.parent / "model_case_crossover.csv")
    assert list(table.columns) == list(TABLE_COLUMNS) and table.empty
    figures = sorted(p.name for p in (path.parent / "figures").glob("*.png"))
    assert figures == ["acute_chronic.png", "cadence_speed.png", "timeline.png"]


def test_report_accepts_frames_quietly_and_leaves_them_alone(tiny, tmp_path, capsys):
    from kneedata.io.diary import read_pain_diary

    diary = read_pain_diary(tiny["data"] / "pain_diary.csv")
    before = diary.copy()
    write_report(tiny["store"], diary=diary, out=tmp_path / "r", progress=False)
    pd.testing.assert_frame_equal(diary, before)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_missing_or_empty_store(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        write_report(tmp_path / "nowhere", out=tmp_path / "r", progress=False)
    (tmp_path / "empty").mkdir()  # a store folder with nothing imported
    empty = Store(tmp_path / "empty")
    with pytest.raises(ReportError, match="no activities"):
        write_report(empty, out=tmp_path / "r", progress=False)


def test_shoe_periods_come_before_the_shoe_rules(tiny):
    import kneedata as kd
    from kneedata.io.diary import read_shoes

    shoes = read_shoes(tiny["data"] / "shoes.csv")
    first = shoes.sort_values("first_used").iloc[0]
    # one period covering the whole first shoe's life: runs without a gear name that
    # day get that shoe from the period, not from the default_for rules
    periods = pd.DataFrame({"shoe_id": [first["shoe_id"]],
                            "start": [pd.Timestamp("2000-01-01")], "end": [pd.NaT]})
    with_periods = kd.derive(Store(tiny["store"]), shoes=shoes, shoe_periods=periods).activities
    without = kd.derive(Store(tiny["store"]), shoes=shoes).activities
    assert (without["shoe_source"] != "period").all()  # no periods: gear and rules only
    by_period = with_periods[with_periods["shoe_source"] == "period"]
    assert len(by_period) > 0
    assert set(by_period["shoe_id"]) == {first["shoe_id"]}


def test_open_notebook_data_derives_once(tiny):
    import kneedata as kd
    from kneedata.notebook import open_notebook_data

    inputs = open_notebook_data(tiny["data"], tiny["store"],
                                options=kd.DeriveOptions(height_m=1.75))
    derived = inputs.derived
    assert isinstance(derived, kd.Derived)
    assert derived.options.height_m == 1.75
    assert derived.gait is not None and derived.gait["step_length_height_ratio"].notna().any()
    assert inputs.diary is derived.diary and inputs.episodes is derived.episodes
    frame = kd.analysis_frame(derived)
    assert set(CASE_CROSSOVER_EXPOSURES) <= set(frame.columns)


def test_report_experiment_section(tiny, tmp_path):
    # the generator writes a strength experiment after the runner's days (experiment/)
    folder = tiny["data"] / "experiment"
    out = tmp_path / "out"
    path = write_report(tiny["store"], diary=folder / "pain_diary.csv",
                        routines=folder / "routines.csv", out=out, progress=False,
                        experiment=folder / "experiment.csv")
    text = path.read_text(encoding="utf-8")
    assert "Your experiment: A (usual) against B (the change)" in text
    assert "B - A" in text and "strength_sessions_per_week" in text
    table = pd.read_csv(out / "model_experiment.csv")
    assert table["term"].iloc[0] == "B - A" and table["n_days_b"].iloc[0] > 0
    assert (out / "figures" / "experiment.png").is_file()
    with pytest.raises(ReportError, match="needs the pain diary"):
        write_report(tiny["store"], out=tmp_path / "none", progress=False,
                     experiment=folder / "experiment.csv")


def test_a_diary_whose_episodes_fall_outside_the_watch_data_says_not_enough_episodes():
    # a new user's 3 episodes, none with a known week of running before it: the primary
    # analysis cannot be fitted, and the lead says so in a runner's words, with no number
    from types import SimpleNamespace

    from kneedata.report import _section_primary

    tables = SimpleNamespace(
        primary=None, detectable=None, derived=SimpleNamespace(diary=pd.DataFrame({"x": [1]})),
        model_errors=["main analysis not fitted: daily_model: no onset on an at-risk day"])
    plain = re.sub(r"<[^>]+>", " ", _section_primary(tables, {}))
    assert "Not enough episodes yet" in plain
    assert not re.search(r"\d", plain.split("Technical reason")[0])
    no_diary = SimpleNamespace(primary=None, detectable=None,
                               derived=SimpleNamespace(diary=None), model_errors=[])
    assert "no pain diary was given" in _section_primary(no_diary, {})


def test_model_primary_csv_names_the_exposures_it_could_not_estimate():
    from kneedata.models import TABLE_COLUMNS
    from kneedata.report import unfitted_primary_table

    frame = pd.DataFrame({"onset": [False, True, False], "spike_large": [0, 1, 0],
                          "n_strength": [1, 0, 0]})
    table = unfitted_primary_table(frame)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table["exposure"].tolist() == ["spike_large", "n_strength"]
    assert not table["estimable"].any()
    assert table["status"].eq("too_few_episodes").all()
    assert table["ratio"].isna().all() and table["n_episodes"].eq(1).all()
    assert unfitted_primary_table(None).empty


def test_arrived_more_than_once_counts_runs_only(tiny):
    """The import note counts runs read from several files; a ride or a swim that
    arrived twice is folded the same way but is not a run (issue 13, point 6)."""
    import dataclasses

    import kneedata as kd
    from kneedata.report import ReportTables, _section_import

    derived = kd.derive(Store(tiny["store"]))
    acts = derived.activities.copy()
    acts["n_sources"] = 1
    run_ids = list(derived.runs["activity_id"][:3])
    acts.loc[acts["activity_id"].isin(run_ids), "n_sources"] = 2
    ride = acts.index[:1]
    acts.loc[ride, ["sport", "sub_sport", "n_sources"]] = ["cycling", "road", 3]
    acts.loc[ride, "activity_id"] = "ride-seen-twice"
    runs = kd.select_runs(acts)
    assert "ride-seen-twice" not in set(runs["activity_id"])
    n_dup_runs = int((runs["n_sources"] > 1).sum())
    assert n_dup_runs in (2, 3)  # the first row may have been one of the three runs
    html = _section_import(ReportTables(derived=dataclasses.replace(derived, activities=acts,
                                                                    runs=runs)))
    assert f"{n_dup_runs} runs arrived more than once" in html
    assert (acts["n_sources"] > 1).sum() == n_dup_runs + 1  # the ride is not counted


def test_full_report_for_a_new_user_with_three_episodes_and_a_patchy_diary(tiny, tmp_path):
    """End to end (`kneedata report` on a real store): a hand-written diary of 25 entries
    with gaps and 3 episodes placed after real runs. The report must not present a
    number as a finding: the lead says there are not enough episodes yet, and
    model_primary.csv marks what it could not estimate."""
    import kneedata as kd
    from kneedata.cli import main

    runs = kd.select_runs(Store(tiny["store"]).activities())
    days = sorted(set(runs["local_date"].astype(str)))
    assert len(days) > 40
    pain_after = {days[12], days[25], days[38]}  # each after a known week of running
    rows = ["date,side,pain_0_10"]
    for i, day in enumerate(days[:45]):
        if day in pain_after:
            rows.append(f"{day},left,6")
            rows.append(f"{(pd.Timestamp(day) + pd.Timedelta(days=1)).date()},left,4")
        elif i % 2 == 0:  # a patchy diary: every other run day
            rows.append(f"{day},,0")
    diary = tmp_path / "diary.csv"
    diary.write_text("\n".join(rows) + "\n")

    code = main(["report", "--store", str(tiny["store"]), "--diary", str(diary),
                 "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 0
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert re.search(r"not enough episodes yet", plain, re.IGNORECASE), plain[:2000]
    assert "e+" not in plain  # no 1e+42-style numbers anywhere
    primary = pd.read_csv(tmp_path / "out" / "model_primary.csv")
    assert len(primary) and not primary["estimable"].all()
    assert primary["n_episodes"].max() <= 3


def test_episodes_but_no_exposure_on_the_diary_days_say_so_not_too_few_episodes():
    # a stranger's diary (3 episodes) covered months without a large spike: the episodes
    # are fine, the exposure never happened on the compared days; the lead and
    # model_primary.csv say that instead of "not enough episodes"
    from types import SimpleNamespace

    from kneedata.report import _section_primary, fit_primary, unfitted_primary_table

    days = pd.date_range("2024-01-01", periods=200, freq="D")
    frame = pd.DataFrame({"date": days, "onset": False, "at_risk": True,
                          "in_episode": False, "spike_large": 0})
    frame.loc[[40, 100, 160], "onset"] = True
    frame.loc[185:, ["at_risk", "spike_large"]] = [False, 1]  # spikes after the diary ended
    primary, _, errors, status = fit_primary(frame)
    assert primary is None and status == "no_variation", errors
    table = unfitted_primary_table(frame, status)
    assert table["status"].eq("no_variation").all() and not table["estimable"].any()
    tables = SimpleNamespace(primary=None, detectable=None, primary_status=status,
                             derived=SimpleNamespace(diary=pd.DataFrame({"x": [1]})),
                             model_errors=errors)
    plain = re.sub(r"<[^>]+>", " ", _section_primary(tables, {}))
    assert "none of the things this analysis compares ever happened" in plain
    assert "Not enough episodes" not in plain


def test_the_report_states_no_association_that_is_not_a_finding_row(tiny):
    out = tiny["out"]
    from kneedata.findings import FINDING_COLUMNS

    found = pd.read_csv(out / "findings.csv")
    assert list(found.columns) == list(FINDING_COLUMNS)
    text = re.sub(r"<[^>]+>", " ", (out / "report.html").read_text(encoding="utf-8"))
    stated = re.findall(r"pain started (?:about [\d.]+ times|less often)", text)
    assert len(stated) == int(found["finding"].sum())
    assert "more common before pain" not in text and "less common before pain" not in text
    for sentence in found["statement"]:
        assert sentence.split(":")[0] in text


@pytest.mark.parametrize(("needed", "have", "years", "words"), [
    (35, 7, 1.0, "about 4.0 more years of diary at your rate"),  # 28 more at 7 a year
    (42, 12, 2.0, "about 5.0 more years of diary at your rate"),  # 30 more at 6 a year
    (5, 7, 1.0, "about the episodes you already have"),
    (500, 2, 3.0, "more than 50 more years of diary at your rate"),
    (10, 0, 1.0, "more diary than can be estimated from your rate so far"),
])
def test_episodes_needed_are_said_in_years_at_this_runners_rate(needed, have, years, words):
    from kneedata.report import years_more

    assert years_more(needed, have, years) == words


def test_a_routines_log_begun_late_leaves_the_spike_term_every_episode(tiny, tmp_path):
    import kneedata as kd
    from kneedata import Store
    from kneedata.pipeline import derive

    data = tiny["data"]
    routines = pd.read_csv(data / "routines.csv")
    dates = pd.to_datetime(routines["date"])
    late = tmp_path / "routines_late.csv"
    routines.loc[dates >= dates.min() + (dates.max() - dates.min()) / 2].to_csv(late, index=False)
    store = Store(tiny["store"])
    rows = {name: kd.report_findings(derive(store, data / "pain_diary.csv", routines=path))
            for name, path in (("full", data / "routines.csv"), ("late", late))}
    for name, found in rows.items():
        assert len(found), f"no findings rows with the {name} routines log"

    def spike(found: pd.DataFrame) -> pd.DataFrame:
        return found.loc[found["exposure"].eq("spike_large"), ["model", "n_episodes"]]
    assert spike(rows["late"]).equals(spike(rows["full"]))
    strength = rows["late"].loc[rows["late"]["exposure"].eq("n_strength")]
    assert (strength["n_episodes"] < spike(rows["late"])["n_episodes"].min()).all()  # log began late
    assert strength["episodes_note"].str.contains("routines log covers only").all()


def test_units_mi_shows_every_distance_in_miles_and_lists_the_runs(tiny):
    """units="mi" (--units mi): the spike, runs and shoe tables and their texts are in
    miles, headers are words, the stored tables stay in km (issue 25)."""
    from kneedata.notebook import open_notebook_data
    from kneedata.present import format_value, units_of
    from kneedata.report import (
        ReportTables,
        _section_load,
        _section_runs,
        _section_shoes,
    )

    derived = open_notebook_data(tiny["data"], tiny["store"]).derived
    km_before = derived.shoe_summary["distance_km"].copy()
    tables = ReportTables(derived=derived, units=units_of("mi"))
    page = "\n".join([_section_load(tables, {}), _section_runs(tables),
                      _section_shoes(tables, {})])
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "distance (mi)" in plain and "pace (min/mi)" in plain
    assert "episodes per 100 mi" in plain and "Episodes per 100 mi" in plain
    assert "(km)" not in plain and "per 100 km" not in plain
    assert not re.search(r"\b[a-z]+_[a-z0-9_]+\b", plain), "a column name is shown"
    first = derived.shoe_summary.iloc[0]
    miles = format_value(first["distance_km"] / 1.609344)
    assert f" {first['name']} " in plain and f" {miles} " in plain  # converted, not relabelled
    assert f" {format_value(first['distance_km'])} " not in plain
    pd.testing.assert_series_equal(derived.shoe_summary["distance_km"], km_before)
    assert "Your runs" in page and len(re.findall(r"<tr>", _section_runs(tables))) > 10
