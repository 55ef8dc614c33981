"""Spec: derivations merge to the union of their sources and the strongest transform."""

import pytest

from lineage_pipeline.parsing.tables import EMPTY, Derivation

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
