"""Spec of ``lineage bench parse``: the figures add up for a known corpus; no speed is asserted here."""

import json
import tempfile
from pathlib import Path

import pytest

from benchmarks.generate import generate_corpus
from benchmarks.parse_bench import (
    BenchFile,
    compiled_sqlglot,
    format_report,
    load_corpus,
    run_parse_bench,
)


@pytest.fixture(scope="module")
def generated():
    with tempfile.TemporaryDirectory() as folder:
        corpus = generate_corpus(Path(folder) / "corpus", 40, seed=3)
        files = load_corpus(corpus.root, {}, "ansi")
        yield corpus, files


def test_generated_files_carry_their_header_dialects(generated):
    corpus, files = generated
    assert [f.path for f in files] == list(corpus.paths)
    assert {f.dialect for f in files} <= {"tsql", "snowflake", "bigquery", "postgres"}
    assert all(f.dialect == "tsql" for f in files if f.path.startswith(("staging/", "core/")))


def test_runs_count_every_statement_and_exactly_the_broken_ones(generated):
    corpus, files = generated
    report = run_parse_bench(files, "generated")
    runs = {run.name: run for run in report.runs}
    assert list(runs) == ["baseline", "lineage", "lineage+catalog"]
    for name in ("lineage", "lineage+catalog"):
        run = runs[name]
        assert (run.files, run.statements, run.failed_statements) == (40, corpus.statements, corpus.broken_statements)
        assert run.failed_files == corpus.broken_statements  # at most one broken statement per file
        assert run.column_edges > run.statements
        assert 0 < run.p50_ms <= run.p95_ms
    assert runs["baseline"].files == 40 and runs["baseline"].column_edges == 0
    assert report.ratio("baseline") == 1.0 and report.ratio("lineage") > 0
    assert report.compiled_sqlglot is compiled_sqlglot()


def test_baseline_fails_a_file_as_a_whole():
    files = [
        BenchFile("ok.sql", b"INSERT INTO t (a) SELECT a FROM s;\nSELECT 1;", "postgres"),
        BenchFile("bad.sql", b"INSERT INTO t (a SELECT FROM ;\nSELECT a FROM s;", "postgres"),
    ]
    report = run_parse_bench(files, "two files", catalog_pass=False)
    baseline, lineage = report.runs
    assert (baseline.statements, baseline.failed_statements, baseline.failed_files) == (3, 1, 1)
    assert (lineage.statements, lineage.failed_statements, lineage.failed_files) == (4, 1, 1)
    assert lineage.column_edges == 1
    lines = format_report(report)
    assert lines[0] == "corpus: two files"
    assert any(line.startswith("lineage takes ") and line.endswith("x the baseline's time") for line in lines)


def test_compiled_sqlglot_is_installed():
    # sqlglotc is a declared dependency; the benchmark figures assume it.
    assert compiled_sqlglot()


def test_command_json_on_a_given_corpus(project_env):
    result = project_env.run("lineage", "bench", "parse", "--corpus", str(project_env.corpus), "--format", "json")
    report = json.loads(result.stdout)
    runs = {run["name"]: run for run in report["runs"]}
    sql_files = len(list(project_env.corpus.rglob("*.sql")))
    assert runs["lineage"]["files"] == sql_files
    assert runs["lineage"]["failed_files"] >= 1  # the demo corpus ships deliberately bad files
    assert set(report["time_vs_baseline"]) == {"baseline", "lineage", "lineage+catalog"}
    assert runs["lineage+catalog"]["column_edges"] >= runs["lineage"]["column_edges"]


def test_command_table_on_a_generated_corpus(project_env):
    result = project_env.run("lineage", "bench", "parse", "--files", "12", "--no-catalog-pass")
    assert "generated bank warehouse, 12 files" in result.stdout
    assert "baseline" in result.stdout and "lineage takes " in result.stdout
    assert "lineage+catalog" not in result.stdout


def test_empty_corpus_is_refused(project_env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = project_env.run("lineage", "bench", "parse", "--corpus", str(empty), check=False)
    assert result.returncode == 1 and "no .sql files" in result.stderr
