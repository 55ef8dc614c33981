"""Spec of ``lineage parse``: the JSON contract other tools consume, folder expansion, dialect choice."""

import json


def test_json_contract_for_a_file(project_env, tmp_path):
    sql = tmp_path / "load.sql"
    sql.write_text("INSERT INTO dw.t (a, b) SELECT s.x, s.y + 1 FROM stg.s AS s;\n")
    result = json.loads(project_env.run("lineage", "parse", "--dialect", "tsql", "--format", "json", str(sql)).stdout)
    (file,) = result["files"]
    assert file["path"] == str(sql) and file["dialect"] == "tsql" and file["errors"] == []
    (statement,) = file["statements"]
    assert statement["index"] == 0 and statement["kind"] == "insert"
    assert statement["sources"] == ["stg.s"] and statement["targets"] == ["dw.t"]
    assert {(c["target"], tuple(c["sources"]), c["transform"]) for c in statement["columns"]} == {
        ("dw.t.a", ("stg.s.x",), "direct"),
        ("dw.t.b", ("stg.s.y",), "expression"),
    }


def test_folder_uses_folder_dialects_and_reports_errors(project_env):
    result = json.loads(project_env.run("lineage", "parse", "--format", "json", str(project_env.corpus / "staging")).stdout)
    by_name = {f["path"].rsplit("/", 1)[1]: f for f in result["files"]}
    assert by_name["load_stg_accounts.sql"]["dialect"] == "tsql"
    broken = by_name["broken_load_branches.sql"]
    assert len(broken["errors"]) == 1 and broken["errors"][0]["line"] > 1
    assert sum("stg.branches" in s["targets"] for s in broken["statements"]) == 2


def test_missing_path_is_named(project_env, tmp_path):
    result = project_env.run("lineage", "parse", str(tmp_path / "nope.sql"), check=False)
    assert result.returncode == 2 and "nope.sql: no such file or folder" in result.stderr
