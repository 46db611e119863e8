"""kneedata.cohort: the manifest, `kneedata import --runner/--manifest`, per-runner import.

Runs are hand-built FIT files (1 sample/s at 3 m/s, so n samples = 3 m x (n - 1)),
written by tests/test_store_runners.write_run.
"""

from __future__ import annotations

import concurrent.futures as cf

import pandas as pd
import pytest
from test_store_runners import T0, write_run

from kneedata.cli import main
from kneedata.cohort import import_cohort, read_manifest
from kneedata.errors import SchemaError
from kneedata.store import Store


@pytest.fixture
def cohort_files(tmp_path):
    """Two runners under tmp/club with a manifest that uses relative paths."""
    club = tmp_path / "club"
    write_run(club / "ana" / "watch" / "r1.fit")
    write_run(club / "ana" / "watch" / "r2.fit", start=T0 + pd.Timedelta(days=2))
    write_run(club / "ben" / "export" / "r1.fit", n=401, lon0=5.0)
    write_run(club / "ben" / "phone" / "r2.fit", n=401, start=T0 + pd.Timedelta(days=1))
    (club / "ben" / "phone" / "notes.txt").write_text("not a run")
    (club / "runners.csv").write_text(
        "runner_id,path,diary,height_m\n"
        "ana,ana/watch,ana/diary.csv,1.68\n"
        "ben,ben/export,ben/diary.csv,\n"
        "ben,ben/phone,,1.81\n")
    return club


def test_manifest_one_row_per_runner_paths_resolved(cohort_files):
    m = read_manifest(cohort_files / "runners.csv")
    assert list(m["runner_id"]) == ["ana", "ben"]
    assert m.loc[1, "paths"] == [str(cohort_files / "ben" / "export"), str(cohort_files / "ben" / "phone")]
    assert m.loc[0, "diary"] == str(cohort_files / "ana" / "diary.csv")
    assert m["height_m"].tolist() == [1.68, 1.81]  # ben's height given on his second row
    assert m["shoes"].isna().all() and m["leg_length_m"].isna().all()


def test_manifest_errors_name_every_line(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("runner_id,path,height_m\n"
                 "ok-1,a,1.7\n"
                 "bad/id,b,1.7\n"    # line 3: runner id
                 "ok-2,,1.7\n"       # line 4: empty path
                 "ok-3,c,170\n"      # line 5: height in cm
                 "ok-1,d,1.8\n")     # line 6: another height for ok-1
    with pytest.raises(SchemaError) as err:
        read_manifest(f)
    text = str(err.value)
    assert len(err.value.problems) == 4
    for needle in ("line 3: runner_id 'bad/id'", "line 4: path is empty", "line 5: height_m '170'",
                   "line 6: runner 'ok-1' has height_m 1.8 here but 1.7 on line 2"):
        assert needle in text
    f.write_text("runner,path\nx,y\n")
    with pytest.raises(SchemaError, match=r"missing column\(s\) \['runner_id'\]; unknown column"):
        read_manifest(f)


def test_import_cohort_in_a_process_pool(cohort_files, tmp_path):
    store = Store(tmp_path / "store")
    with cf.ProcessPoolExecutor(2) as pool:
        result = import_cohort(store, cohort_files / "runners.csv", executor=pool, progress=False)
    runners = result.runners.set_index("runner_id")
    assert runners.loc["ana", "imported"] == 2 and runners.loc["ben", "imported"] == 2
    assert runners.loc["ben", "not_an_activity"] == 1
    assert (runners["peak_rss_mb"] > 0).all()
    assert store.runners() == ["ana", "ben"]
    # ben: 400 intervals of 3 m per run
    assert sorted(store.activities("ben")["distance_m"].round()) == [1200.0, 1200.0]
    assert "ben" in result.summary()


def test_cli_runner_and_manifest(cohort_files, tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["import", str(cohort_files / "ana" / "watch"), "--runner", "ana",
                 "--store", str(store), "--workers", "1", "--no-progress"]) == 0
    assert Store(store).runners() == ["ana"]
    assert main(["import", "--manifest", str(cohort_files / "runners.csv"), "--store", str(store),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 runners imported" in out
    assert Store(store).activities()["runner_id"].value_counts().to_dict() == {"ana": 2, "ben": 2}
    for bad in (["import", "x", "--manifest", str(cohort_files / "runners.csv")],
                ["import", str(cohort_files), "--runner", "a b"],
                ["import"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*bad, "--store", str(store)])
        assert exit_info.value.code == 2
