"""Spec of ``lineage bench``: generate, run (table, JSON, floors) and profile, as real subprocesses."""

import json


def test_generate_writes_the_corpus_and_refuses_a_foreign_folder(project_env, tmp_path):
    out = tmp_path / "gen"
    result = project_env.run("lineage", "bench", "generate", "--files", "25", "--seed", "4", "--out", str(out))
    assert "wrote 25 files" in result.stdout and "deliberately broken" in result.stdout
    assert len(list(out.rglob("*.sql"))) == 25
    again = project_env.run("lineage", "bench", "generate", "--files", "25", "--seed", "4", "--out", str(out), check=False)
    assert again.returncode == 1 and "--overwrite" in again.stderr
    refused = project_env.run("lineage", "bench", "generate", "--files", "5", "--out", str(project_env.corpus), check=False)
    assert refused.returncode == 1 and "not a generated corpus" in refused.stderr


def test_run_prints_the_table_writes_json_and_enforces_the_floor(project_env, tmp_path):
    report = tmp_path / "out" / "bench.json"
    result = project_env.run(
        "lineage", "bench", "run", "--files", "10", "--workers", "1", "--json", str(report), "--min-ratio", "1000",
        check=False,
    )
    assert result.returncode == 1 and "below the floor of 1000x" in result.stderr
    for name in ("baseline", "optimized", "warm", "incremental"):
        assert f"| {name} |" in result.stdout
    data = json.loads(report.read_text())
    assert data["files"] == 10 and data["passes"]["warm"]["files_parsed"] == 0


def test_profile_prints_parser_and_pipeline_breakdowns(project_env):
    result = project_env.run("lineage", "bench", "profile", "--files", "10", "--workers", "1")
    assert "| sqlglot qualify |" in result.stdout and "| graph write |" in result.stdout
