"""Shoe assignment: gear name, then periods, then rules, else unassigned (never guessed)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from kneedata.errors import DataQualityWarning, SchemaError
from kneedata.gear import assign_shoes, parse_rule


def shoes_table() -> pd.DataFrame:
    return pd.DataFrame({
        "shoe_id": pd.Series(["peg40", "sg6", "clift9", "old"], dtype="str"),
        "name": pd.Series(["Pegasus blue", "Speedgoat", None, "Old faithful"],
                          dtype="str"),
        "brand": pd.Series(["Nike", "Hoka", "Hoka", "Asics"], dtype="str"),
        "model": pd.Series(["Pegasus 40", "Speedgoat 6", "Clifton 9", "Nimbus 20"],
                           dtype="str"),
        "first_used": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-06-01", None]),
        "retired": pd.to_datetime([None, None, None, "2023-12-31"]),
        "default_for": pd.Series(["sport=running", "sub_sport=trail", None, "running"],
                                 dtype="str"),
    })


def activities(rows: list[tuple]) -> pd.DataFrame:
    """(id, sport, sub_sport, local_date, distance_m, gear)."""
    return pd.DataFrame(rows, columns=["activity_id", "sport", "sub_sport", "local_date",
                                       "distance_m", "gear"])


def assigned(out: pd.DataFrame) -> list[tuple[object, object]]:
    return [(None if pd.isna(s) else s, None if pd.isna(r) else r)
            for s, r in zip(out["shoe_id"], out["shoe_source"], strict=True)]


def test_order_gear_then_rule_then_unassigned():
    acts = activities([
        ("a", "running", "generic", dt.date(2024, 3, 1), 10000.0, "PEGASUS  Blue"),  # name
        ("b", "running", "trail", dt.date(2024, 3, 2), 15000.0, "hoka clifton 9"),   # brand+model
        ("c", "running", "trail", dt.date(2024, 3, 3), 15000.0, None),    # trail rule (2) beats sport (1)
        ("d", "running", "generic", dt.date(2024, 3, 4), 8000.0, np.nan),   # sport=running
        ("e", "cycling", "road", dt.date(2024, 3, 4), 40000.0, "Bike"),     # not a run
        ("f", "running", "generic", dt.date(2023, 6, 1), 8000.0, None),   # only 'old' in use
        ("g", "running", "generic", dt.date(2024, 3, 5), 8000.0, "sg6"),  # by shoe_id
    ])
    before = acts.copy()
    out = assign_shoes(acts, shoes_table())
    pd.testing.assert_frame_equal(acts, before)       # input untouched
    assert assigned(out) == [("peg40", "gear"), ("clift9", "gear"), ("sg6", "rule"),
                             ("peg40", "rule"), (None, None), ("old", "rule"),
                             ("sg6", "gear")]
    assert list(out.columns) == [*acts.columns, "shoe_id", "shoe_source"]
    assert out["shoe_id"].dtype == "str" and out["shoe_source"].dtype == "str"


def test_periods_come_before_rules_and_respect_shoe_lifetimes():
    shoes = shoes_table()
    periods = pd.DataFrame({"shoe_id": ["clift9", "old"],
                            "start": pd.to_datetime(["2024-05-01", "2023-01-01"]),
                            "end": pd.to_datetime([None, "2024-12-31"])})
    acts = activities([
        ("a", "running", "generic", "2024-07-01", 10000.0, None),  # clift9 period
        ("b", "running", "trail", "2024-07-02", 10000.0, None),    # period beats rule
        # 2024-05-15: clift9 not yet first_used (06-01) and 'old' retired -> rules
        ("c", "running", "generic", "2024-05-15", 10000.0, None),
        ("d", "running", "generic", "2023-05-01", 10000.0, None),  # old's period
    ])
    acts["local_date"] = pd.to_datetime(acts["local_date"])  # datetime64 works too
    out = assign_shoes(acts, shoes, periods=periods)
    assert assigned(out) == [("clift9", "period"), ("clift9", "period"),
                             ("peg40", "rule"), ("old", "period")]


def test_overlapping_periods_are_decided_by_rules_or_left_unassigned():
    shoes = shoes_table()
    periods = pd.DataFrame({"shoe_id": ["peg40", "sg6"],
                            "start": pd.to_datetime(["2024-02-01", "2024-02-01"]),
                            "end": pd.to_datetime(["2024-02-29", "2024-02-29"])})
    acts = activities([
        ("a", "running", "trail", "2024-02-10", 12000.0, None),   # sub_sport rule -> sg6
        ("b", "running", "generic", "2024-02-11", 12000.0, None),  # sport rule -> peg40
    ])
    out = assign_shoes(acts, shoes, periods=periods)
    assert assigned(out) == [("sg6", "rule"), ("peg40", "rule")]
    # without rules the rotation cannot be resolved: unassigned, with the tie named
    no_rules = shoes.assign(default_for=pd.Series([None] * 4, dtype="str"))
    with pytest.warns(DataQualityWarning) as record:
        out = assign_shoes(acts, no_rules, periods=periods)
    assert assigned(out) == [(None, "unassigned"), (None, "unassigned")]
    assert str(record[0].message) == (
        "2 of 2 runs have no shoe (left unassigned, not guessed): no gear name, shoe "
        "period, rule or only shoe in use applied. 2 of them had several equally good shoes, e.g. "
        "2024-02-10 (peg40 / sg6), 2024-02-11 (peg40 / sg6). Add gear names, a shoe "
        "periods table or default_for rules to assign them.")


def test_equally_specific_rules_are_not_guessed():
    shoes = shoes_table().assign(default_for=pd.Series(
        ["sport=running", "running", None, None], dtype="str"))
    acts = activities([("a", "running", "generic", "2024-03-01", 5000.0, None)])
    with pytest.warns(DataQualityWarning, match=r"2024-03-01 \(peg40 / sg6\)"):
        out = assign_shoes(acts, shoes)
    assert assigned(out) == [(None, "unassigned")]


def test_rules_mapping_replaces_default_for_and_distance_rules():
    rules = {"running & distance_km >= 21": "sg6", "sport=running": "peg40"}
    acts = activities([
        ("a", "running", "generic", "2024-03-01", 25000.0, None),   # long: sg6 (1 + 2)
        ("b", "running", "trail", "2024-03-02", 10000.0, None),     # trail rule ignored
        ("c", "running", "generic", "2024-03-03", np.nan, None),    # no distance: peg40
    ])
    out = assign_shoes(acts, shoes_table(), rules=rules)
    assert assigned(out) == [("sg6", "rule"), ("peg40", "rule"), ("peg40", "rule")]


def test_unmatched_gear_and_unassigned_are_counted():
    shoes = shoes_table().assign(default_for=pd.Series([None] * 4, dtype="str"))
    acts = activities([
        ("a", "running", "generic", "2024-03-01", 5000.0, "Brooks Ghost"),
        ("b", "running", "generic", "2024-03-02", 5000.0, "Brooks Ghost"),
        ("c", "running", "generic", "2024-03-03", 5000.0, "Hoka"),     # brand only: no
        ("d", "running", "generic", "2024-03-04", 5000.0, "pegasus 40"),   # model
        ("e", "walking", "generic", "2024-03-04", 5000.0, "Brooks Ghost"),  # not a run
    ])
    with pytest.warns(DataQualityWarning) as record:
        out = assign_shoes(acts, shoes)
    assert assigned(out) == [(None, "unassigned")] * 3 + [("peg40", "gear"), (None, None)]
    messages = [str(r.message) for r in record]
    assert messages == [
        "3 runs name gear that matches no single shoe's shoe_id, name or model: "
        "'Brooks Ghost' (2 runs), 'Hoka' (1 run). They were assigned by period or rule "
        "where possible; add these names to the shoes table's name column to use them.",
        "3 of 4 runs have no shoe (left unassigned, not guessed): no gear name, shoe "
        "period, rule or only shoe in use applied. 3 of them had several equally good "
        "shoes, e.g. 2024-03-01 (peg40 / sg6 all in use), 2024-03-02 (peg40 / sg6 all "
        "in use), 2024-03-03 (peg40 / sg6 all in use). Add gear names, a shoe periods "
        "table or default_for rules to assign them.",
    ]


def test_missing_gear_column_and_no_warning_when_all_assigned():
    acts = activities([("a", "running", "trail", "2024-03-01", 5000.0, None)]).drop(
        columns=["gear", "sub_sport", "distance_m"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = assign_shoes(acts, shoes_table())
    assert assigned(out) == [("peg40", "rule")]   # no sub_sport: the trail rule fails


def test_bad_inputs_name_the_problem():
    acts = activities([("a", "running", "generic", "2024-03-01", 5000.0, None)])
    with pytest.raises(SchemaError, match="lacks the column.s. local_date"):
        assign_shoes(acts.drop(columns="local_date"), shoes_table())
    periods = pd.DataFrame({"shoe_id": ["ghost"], "start": pd.to_datetime(["2024-01-01"]),
                            "end": [pd.NaT]})
    with pytest.raises(SchemaError) as err:
        assign_shoes(acts, shoes_table(), periods=periods,
                     rules={"sub_sport=trail": "nope", "colour=red": "peg40"})
    assert err.value.problems == [
        "shoe periods: shoe_id 'ghost' (period starting 2024-01-01) is not in the shoes "
        "table (known: peg40, sg6, clift9, old)",
        "rules: rule 'sub_sport=trail' names shoe_id 'nope', which is not in the shoes "
        "table (known: peg40, sg6, clift9, old)",
        "rules of shoe 'peg40': 'colour' in rule 'colour=red' is not a field a rule can "
        "use (use sport, sub_sport, distance_km)",
    ]


@pytest.mark.parametrize(("text", "conditions", "specificity"), [
    ("sub_sport=trail", (("sub_sport", "=", "trail"),), 2),
    ("Sport = Running", (("sport", "=", "running"),), 1),
    ("default", (), 0),
    ("trail", (("sub_sport", "=", "trail"),), 2),
    ("running and sub_sport != treadmill", (("sport", "=", "running"),
                                            ("sub_sport", "!=", "treadmill")), 3),
    ("distance_km<10; running", (("distance_km", "<", 10.0), ("sport", "=", "running")),
     3),
])
def test_parse_rule(text, conditions, specificity):
    rule = parse_rule(text)
    assert rule.conditions == conditions and rule.specificity == specificity


@pytest.mark.parametrize(("text", "message"), [
    ("", "is an empty rule"),
    ("distance_km>=far", "'far' in rule 'distance_km>=far' is not a number of km"),
    ("sport>running", "sport takes = or !="),
    ("distance_km!=5", "distance_km takes <, <=, =, >= or >"),
])
def test_parse_rule_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_rule(text)


def test_one_pair_at_a_time_assigns_the_only_shoe_in_use():
    # issue 13: the simplest shoe list (non-overlapping first_used/retired, no rules)
    # assigned nothing; hand-built: A until 2024-03-31, B from 2024-04-01, C from
    # 2024-06-01 overlapping B
    shoes = pd.DataFrame({
        "shoe_id": pd.Series(["A", "B", "C"], dtype="str"),
        "first_used": pd.to_datetime(["2023-10-01", "2024-04-01", "2024-06-01"]),
        "retired": pd.to_datetime(["2024-03-31", None, None]),
    })
    acts = activities([
        ("a", "running", "generic", dt.date(2024, 3, 31), 8000.0, None),   # A's last day
        ("b", "running", "generic", dt.date(2024, 4, 1), 8000.0, None),    # B's first day
        ("c", "running", "trail", dt.date(2024, 7, 1), 8000.0, None),      # B and C in use
        ("d", "running", "generic", dt.date(2023, 9, 1), 8000.0, None),    # before every shoe
        ("e", "cycling", "road", dt.date(2024, 4, 2), 40000.0, None),      # not a run
    ])
    with pytest.warns(DataQualityWarning) as caught:
        out = assign_shoes(acts, shoes)
    assert assigned(out) == [("A", "only_shoe_in_use"), ("B", "only_shoe_in_use"),
                             (None, "unassigned"), (None, "unassigned"), (None, None)]
    text = " ".join(str(w.message) for w in caught)
    assert "2 of 4 runs have no shoe" in text
    assert "2024-07-01 (B / C all in use)" in text  # the overlap is reported


def test_rules_still_decide_before_the_only_shoe_in_use():
    shoes = pd.DataFrame({
        "shoe_id": pd.Series(["road", "trail"], dtype="str"),
        "first_used": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "retired": pd.to_datetime([None, "2024-02-01"]),
        "default_for": pd.Series([None, "trail"], dtype="str"),
    })
    acts = activities([
        ("a", "running", "trail", dt.date(2024, 1, 10), 8000.0, None),    # rule: trail
        ("b", "running", "trail", dt.date(2024, 3, 1), 8000.0, None),     # trail retired
    ])
    out = assign_shoes(acts, shoes)
    assert assigned(out) == [("trail", "rule"), ("road", "only_shoe_in_use")]


@pytest.mark.parametrize(("rule", "expect"), [
    ("sport=runing", "did you mean running"),
    ("sub_sport=trial", "did you mean trail"),
    ("trial", "did you mean trail"),
])
def test_a_typo_in_a_rule_value_lists_the_known_values(rule, expect):
    # issue 13: sport=runing used to be accepted and silently match nothing
    shoes = pd.DataFrame({"shoe_id": ["A"], "default_for": [rule]})
    acts = activities([("a", "running", "trail", dt.date(2024, 3, 1), 8000.0, None)])
    with pytest.raises(SchemaError) as err:
        assign_shoes(acts, shoes)
    text = str(err.value)
    assert expect in text and "known values:" in text and "default_for of shoe 'A'" in text


def test_rule_values_seen_in_the_activities_are_known():
    # a GPX app's own sub_sport (not a FIT name) can be used in a rule
    shoes = pd.DataFrame({"shoe_id": ["A", "B"], "default_for": ["sub_sport=beach", "running"]})
    acts = activities([("a", "running", "beach", dt.date(2024, 3, 1), 8000.0, None)])
    assert assigned(assign_shoes(acts, shoes)) == [("A", "rule")]


def test_a_rule_typo_in_the_shoes_file_names_file_line_value_and_the_allowed_ones(tmp_path):
    # issue 25: `sport=runing` in a runner's shoes.csv; the message said neither file nor line
    from kneedata.io.diary import read_shoes

    path = tmp_path / "shoes.csv"
    path.write_text("shoe_id,first_used,default_for\nA,2024-01-01,sub_sport=trail\n"
                    "B,2024-01-01,sport=runing\n")
    acts = activities([("a", "running", "trail", dt.date(2024, 3, 1), 8000.0, None),
                       ("b", "walking", "generic", dt.date(2024, 3, 2), 3000.0, None)])
    with pytest.raises(SchemaError) as err:
        assign_shoes(acts, read_shoes(path))
    (problem,) = err.value.problems
    assert problem.startswith("shoes.csv line 3, column default_for of shoe 'B': 'runing' in "
                              "rule 'sport=runing' is not a sport value: did you mean running")
    assert "your activities have running, walking; other known values: " in problem
    assert ", cycling," in problem  # the FIT profile's other sports are allowed too


def test_an_unknown_rule_key_in_the_shoes_file_is_refused_with_its_line(tmp_path):
    from kneedata.io.diary import read_shoes

    path = tmp_path / "shoes.csv"
    path.write_text("shoe_id,default_for\nA,surface=trail\nB,sub_sprot=trail\n")
    with pytest.raises(SchemaError) as err:
        read_shoes(path)
    assert err.value.problems == [
        "shoes.csv line 2, column default_for: 'surface' in rule 'surface=trail' is not a "
        "field a rule can use (use sport, sub_sport, distance_km)",
        "shoes.csv line 3, column default_for: 'sub_sprot' in rule 'sub_sprot=trail' is not "
        "a field a rule can use (did you mean sub_sport? use sport, sub_sport, distance_km)"]
