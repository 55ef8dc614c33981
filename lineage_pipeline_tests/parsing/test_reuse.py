"""Spec of statement reuse (``parsing.reuse``, ``parse_text(previous=...)``): a parse of an edited file takes
each statement read in the same state from its previous parse, and its lineage is exactly a fresh parse's."""

import zlib
from pathlib import Path

import pytest

from lineage_pipeline.parsing import Catalog, Previous, decode_memo, parse_text
from lineage_pipeline.parsing.dialects import header_dialect
from lineage_pipeline.parsing.reuse import MEMO_VERSION, MemoEntry, encode_memo

REPO = Path(__file__).resolve().parents[2]


def _again(old: str, new: str, dialect: str = "tsql"):
    """(fresh parse of ``new``, parse of ``new`` reusing the parse of ``old``)."""
    before = parse_text(old, dialect, "f.sql")
    assert before.memo is not None
    fresh = parse_text(new, dialect, "f.sql")
    reused = parse_text(new, dialect, "f.sql", previous=Previous(before.lineage, decode_memo(before.memo)))
    assert reused.lineage == fresh.lineage
    assert reused.memo == fresh.memo, "the memo a reusing parse leaves is the one a fresh parse leaves"
    return fresh, reused


SCRIPT = """INSERT INTO dw.a (x, y) SELECT s.x, s.y FROM stg.s AS s;
SELECT s.x, SUM(s.y) AS y INTO #totals FROM stg.s AS s GROUP BY s.x;
INSERT INTO dw.b (x, total) SELECT t.x, t.y FROM #totals AS t;
UPDATE dw.a SET y = 0 WHERE x IS NULL;
"""


def test_an_unchanged_file_reuses_every_statement():
    fresh, reused = _again(SCRIPT, SCRIPT)
    assert reused.reused == len(fresh.lineage.statements) == 4


def test_an_appended_statement_is_the_only_one_read():
    new = SCRIPT + "INSERT INTO audit.log (f) SELECT 'f' FROM audit.pending AS p;\n"
    fresh, reused = _again(SCRIPT, new)
    assert reused.reused == 4 and len(fresh.lineage.statements) == 5


def test_statements_moved_down_by_an_insert_above_are_renumbered():
    new = "TRUNCATE TABLE dw.c;\n\n" + SCRIPT
    fresh, reused = _again(SCRIPT, new)
    assert reused.reused == 4
    assert [(s.index, s.line) for s in reused.lineage.statements] == [(0, 1), (1, 3), (2, 4), (3, 5), (4, 6)]


def test_a_statement_reading_a_temp_table_is_read_again_when_what_was_written_into_it_changed():
    """The temp's derivations are state: the reader's text is unchanged, its lineage is not."""
    new = SCRIPT.replace("SUM(s.y) AS y INTO #totals FROM stg.s", "MAX(s.z) AS y INTO #totals FROM stg.s")
    fresh, reused = _again(SCRIPT, new)
    reader = fresh.lineage.statements[2]
    assert reader.sources == ["stg.s"] and any("stg.s.z" in edge.sources for edge in reader.columns)
    assert reused.reused == 1, "only the first: every statement after the SELECT INTO is read in another state"


def test_a_statement_after_an_edit_that_leaves_the_state_alone_is_reused():
    new = SCRIPT.replace("FROM stg.s AS s;", "FROM stg.other AS s;", 1)
    _, reused = _again(SCRIPT, new)
    assert reused.reused == 3


def test_dynamic_sql_follows_the_variable_it_runs():
    old = "DECLARE @sql NVARCHAR(200) = 'INSERT INTO dw.a (x) SELECT x FROM stg.one';\nEXEC (@sql);\n"
    new = old.replace("stg.one", "stg.two")
    fresh, reused = _again(old, new)
    assert fresh.lineage.statements[-1].sources == ["stg.two"]
    assert reused.reused == 0


def test_a_new_batch_forgets_variables_as_a_fresh_parse_does():
    old = "DECLARE @s NVARCHAR(99) = 'INSERT INTO dw.a (x) SELECT x FROM stg.one'\nEXEC (@s)\nGO\nEXEC (@s)\nGO\n"
    new = old.replace("GO\nEXEC", "EXEC", 1)  # the second EXEC is in the first batch now
    fresh, _ = _again(old, new)
    assert [s.sources for s in fresh.lineage.statements if s.kind == "DYNAMIC SQL"] == [["stg.one"], ["stg.one"]]
    _again(new, old)


def test_a_statement_with_an_error_is_reused_only_in_its_place():
    """Parse errors quote token positions: the same broken statement elsewhere in the file is read again."""
    old = "SELECT 1 FROM a;\nSELECT FROM WHERE;\nSELECT 2 FROM b;\n"
    same, unmoved = _again(old, old + "SELECT 3 FROM c;\n")
    assert unmoved.reused == 3 and len(same.lineage.errors) == 1
    fresh, moved = _again(old, "SELECT 0 FROM z;\n" + old)
    assert moved.reused == 2 and fresh.lineage.errors[0].line == 3


def test_parses_that_rewrite_records_afterwards_keep_no_memo():
    """Renames and a default schema change records after the statements produced them; a catalog is not
    part of the key."""
    assert parse_text(SCRIPT, "tsql", default_schema="dbo").memo is None
    assert parse_text(SCRIPT, "tsql", catalog=Catalog({"stg.s": ("x", "y")})).memo is None
    renamed = "CREATE TABLE dw.a_new AS SELECT x FROM stg.s;\nALTER TABLE dw.a_new RENAME TO a;\n"
    assert parse_text(renamed, "postgres").memo is None


def test_a_memo_that_does_not_fit_its_lineage_only_costs_the_reuse():
    before = parse_text(SCRIPT, "tsql")
    entries = decode_memo(before.memo)
    broken = {key: MemoEntry(key, e.journal, 99, e.errors, e.warnings) for key, e in entries.items()}
    again = parse_text(SCRIPT, "tsql", previous=Previous(before.lineage, broken))
    assert again.lineage == before.lineage and again.reused == 0


@pytest.mark.parametrize(
    "text", ["", "not json", f"[{MEMO_VERSION + 1}, []]", f'[{MEMO_VERSION}, [["k"]]]', f"[{MEMO_VERSION}, []]"]
)
def test_decoding_anything_but_a_memo_gives_nothing(text):
    assert decode_memo(zlib.compress(text.encode())) == {}
    assert decode_memo(text.encode()) == {}
    assert decode_memo(encode_memo([])) == {}


def test_a_damaged_memo_is_not_misread():
    memo = parse_text(SCRIPT, "tsql").memo
    assert memo is not None and len(decode_memo(memo)) == 4
    for position in range(len(memo)):
        damaged = bytearray(memo)
        damaged[position] ^= 0x10
        assert decode_memo(bytes(damaged)) in ({}, decode_memo(memo)), position


def _variants(text: str):
    yield text
    yield text + "\nINSERT INTO audit.log (a) SELECT x FROM audit.src;\n"
    yield "SELECT 1;\n" + text
    yield "SELECT a, b INTO #t FROM s.x;\nDECLARE @q NVARCHAR(100) = 'INSERT INTO z.y SELECT 1';\n" + text
    parts = text.split(";")
    if len(parts) > 2:
        middle = len(parts) // 2
        yield ";".join(parts[:middle] + parts[middle + 1 :])
        yield ";".join(parts[1:2] + parts[0:1] + parts[2:])


CORPORA = [REPO / "examples", REPO / "lineage_pipeline_tests" / "parsing" / "fixtures" / "public_corpora" / "tpch"]


@pytest.mark.parametrize("path", sorted(p for root in CORPORA for p in root.rglob("*.sql")), ids=lambda p: p.name)
def test_every_edit_of_a_real_file_parses_as_a_fresh_parse_does(path):
    text = path.read_bytes().decode("utf-8", errors="replace")
    dialect = header_dialect(text) or "tsql"
    if parse_text(text, dialect).memo is None:
        return  # renames: nothing is reused from this file (``test_parses_that_rewrite_records_afterwards``)
    for variant in _variants(text):
        _again(text, variant, dialect)
        if parse_text(variant, dialect).memo is not None:
            _again(variant, text, dialect)
