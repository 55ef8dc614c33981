"""Spec: bytes -> text. UTF-8 (BOM or not), UTF-16 with BOM, cp1252/latin-1 fallback, binary refused."""

import codecs

import pytest

from lineage_pipeline.parsing import decode_sql_bytes, parse_file_bytes

SQL = "INSERT INTO dbo.t (naïve) SELECT café FROM dbo.s -- €\n"


@pytest.mark.parametrize(
    "data",
    [
        SQL.encode("utf-8"),
        codecs.BOM_UTF8 + SQL.encode("utf-8"),
        codecs.BOM_UTF16_LE + SQL.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + SQL.encode("utf-16-be"),
        codecs.BOM_UTF32_LE + SQL.encode("utf-32-le"),
    ],
    ids=["utf8", "utf8_bom", "utf16le_bom", "utf16be_bom", "utf32le_bom"],
)
def test_unicode_encodings(data):
    assert decode_sql_bytes(data) == (SQL, None)


def test_cp1252_fallback_returns_text_and_a_note():
    text, note = decode_sql_bytes(SQL.encode("cp1252"))
    assert text == SQL
    assert note is not None and "cp1252" in note.message


def test_latin1_bytes_undefined_in_cp1252():
    text, note = decode_sql_bytes(b"SELECT '\x81\x8d' FROM t")
    assert text == "SELECT '\x81\x8d' FROM t"
    assert note is not None and "latin-1" in note.message


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02\x03SELECT", bytes(range(256)) * 4, b"PK\x03\x04" + b"\x00" * 100, b"\x89PNG\r\n\x1a\n\x00\x00"],
    ids=["nul", "all_bytes", "zip", "png"],
)
def test_binary_is_refused(data):
    text, issue = decode_sql_bytes(data)
    assert text is None
    assert issue.message.startswith("binary content")


@pytest.mark.parametrize("data", [b"", b"   \n\t\n", b"-- just a comment\n", b"/* block */"])
def test_empty_files_are_not_errors(data):
    result = parse_file_bytes(data, "tsql", "empty.sql")
    assert (result.statements, result.errors) == ([], [])


def test_parse_file_bytes_records_encoding():
    assert parse_file_bytes(SQL.encode("utf-16"), "tsql", "x.sql").encoding in ("utf-16-le", "utf-16-be")
    assert parse_file_bytes(SQL.encode("cp1252"), "tsql", "x.sql").encoding == "cp1252"
    result = parse_file_bytes(SQL.encode("cp1252"), "tsql", "x.sql")
    assert result.errors == [] and result.statements[0].targets == ["dbo.t"]


def test_binary_file_yields_one_file_level_issue():
    result = parse_file_bytes(b"\x00\x00\xff\xfe garbage", "tsql", "bin.sql")
    assert result.statements == []
    assert [(e.statement, e.message.split(":")[0]) for e in result.errors] == [(None, "binary content")]


def test_control_bytes_refused_only_above_five_percent():
    text_like = b"\x01" * 5 + b"a" * 95  # exactly 5% stray control bytes: still text
    assert decode_sql_bytes(text_like)[0] == text_like.decode()
    assert decode_sql_bytes(b"\x01" * 6 + b"a" * 94)[0] is None
    # Tabs, newlines, carriage returns, form and vertical feeds are text, however many.
    assert decode_sql_bytes(b"\t\n\r\f\v" * 20 + b"SELECT 1")[0] is not None
