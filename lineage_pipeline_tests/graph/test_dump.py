"""Spec of graph.dump's comparison: two dumps differ exactly when their lines differ, counted."""

from lineage_pipeline.graph.dump import GraphDump

FEED = ("FEEDS", "Table", "s.a", "Table", "t.b", (("file", "f.sql"), ("rev", "r2")))
NODE = (("Table",), (("key", "s.a"),))


def test_a_duplicated_relationship_is_a_difference_shown_with_its_count():
    once = GraphDump((NODE,), (FEED,))
    twice = GraphDump((NODE,), (FEED, FEED))
    assert once != twice
    (line,) = twice.difference(once)
    assert line.startswith('- ["relationship", ["FEEDS"') and line.endswith("(1 more)")
    assert once.difference(twice) == [line.replace("- ", "+ ", 1)]


def test_lines_in_one_dump_only_are_listed_by_side_and_equal_dumps_have_none():
    other = GraphDump((NODE,), (FEED[:5] + ((("file", "g.sql"), ("rev", "r1")),),))
    mine = GraphDump((NODE,), (FEED,))
    assert [line[:2] for line in mine.difference(other)] == ["+ ", "- "]
    assert not any(line.endswith("more)") for line in mine.difference(other))
    assert mine.difference(GraphDump((NODE,), (FEED,))) == []
