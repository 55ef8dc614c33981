"""Spec: derivations merge to the union of their sources and the strongest transform; a file's table state
changes are journalled as data and replay to the same state."""

import json

import pytest

from lineage_pipeline.parsing.tables import EMPTY, Derivation, FileTables

SUM = Derivation(frozenset({"t.a"}), "aggregation", frozenset({"x"}))
COPY = Derivation(frozenset({"t.b"}))
EXPRESSION_ONLY = Derivation(transform="expression")


@pytest.mark.parametrize("derivation", [SUM, COPY, EXPRESSION_ONLY, EMPTY])
def test_merging_with_empty_changes_nothing(derivation):
    assert derivation.merge(EMPTY) == derivation
    assert EMPTY.merge(derivation) == derivation


def test_merge_unions_sources_and_keeps_the_strongest_transform():
    merged = COPY.merge(SUM)
    assert merged == Derivation(frozenset({"t.a", "t.b"}), "aggregation", frozenset({"x"}))
    assert SUM.merge(COPY) == merged
    assert COPY.merge(EXPRESSION_ONLY) == Derivation(frozenset({"t.b"}), "expression")


def test_at_least_only_strengthens():
    assert SUM.at_least("expression") == SUM
    assert COPY.at_least("window") == Derivation(frozenset({"t.b"}), "window")


def _changed(tables: FileTables) -> None:
    tables.declare_temp("stage")
    tables.define("dw.a", ["x", "y"])
    tables.define_temp("#t", ["x"])
    tables.write_temp("#t", {"x": SUM, "y": EMPTY}, None, {"t"}, replace=False)
    tables.write_temp("#u", {"x": COPY}, EXPRESSION_ONLY, {"t", "u"}, replace=True)
    tables.write_temp("#u", {"x": SUM}, COPY, {"v"}, replace=False)
    tables.define_temp("#gone", ["z"])
    tables.drop_temp("#gone")


def _state(tables: FileTables):
    return tables.temps, tables.temp_names, tables.defined


def test_replaying_a_journal_leaves_the_state_its_changes_left():
    """What statement reuse relies on: the journal is data (JSON round trip) and replays to the same state."""
    journal: list = []
    recorded = FileTables(journal=journal)
    _changed(recorded)
    assert len(journal) == 8
    replayed = FileTables()
    for change in json.loads(json.dumps(journal)):
        replayed.replay(change)
    assert _state(replayed) == _state(recorded)
    assert replayed.temps["#t"].columns["y"] is EMPTY, "merging tells the empty derivation by identity"


def test_without_a_journal_nothing_is_recorded_and_an_unknown_change_is_refused():
    tables = FileTables()
    _changed(tables)
    assert tables.journal is None
    with pytest.raises(ValueError, match="not a table change"):
        tables.replay(["rename", "#t"])
