"""Spec of ``lineage parse``: the JSON contract other tools consume, folder expansion, dialect choice."""

import json


def test_json_contract_for_a_file(project_env, tmp_path):
    sql = tmp_path / "load.sql"
    sql.write_text("INSERT INTO dw.t (a, b) SELECT s.x, s.y + 1 FROM stg.s AS s;\n")
    result = json.loads(project_env.run("lineage", "parse", "--dialect", "tsql", "--format", "json", str(sql)).stdout)
    (file,) = result["files"]
    assert file["path"] == str(sql) and file["dialect"] == "tsql" and file["errors"] == []
    (statement,) = file["statements"]
    assert statement["index"] == 0 and statement["kind"] == "INSERT"
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


def test_star_expands_from_tables_defined_in_other_files_given(project_env, tmp_path):
    (tmp_path / "ddl.sql").write_text("CREATE TABLE stg.account (account_id INT, iban VARCHAR(34));\n")
    (tmp_path / "views.sql").write_text(
        "CREATE VIEW dw.v_account AS SELECT * FROM stg.account;\n"
        "CREATE VIEW rpt.v_iban AS SELECT v.* FROM dw.v_account AS v;\n"
    )
    result = json.loads(project_env.run("lineage", "parse", "--dialect", "postgres", "--format", "json", str(tmp_path)).stdout)
    by_name = {f["path"].rsplit("/", 1)[1]: f for f in result["files"]}
    views = by_name["views.sql"]["statements"]
    assert [s["kind"] for s in views] == ["CREATE VIEW", "CREATE VIEW"]
    assert [{(c["target"], tuple(c["sources"])) for c in s["columns"]} for s in views] == [
        {("dw.v_account.account_id", ("stg.account.account_id",)), ("dw.v_account.iban", ("stg.account.iban",))},
        {("rpt.v_iban.account_id", ("dw.v_account.account_id",)), ("rpt.v_iban.iban", ("dw.v_account.iban",))},
    ]


def test_star_stays_explicit_without_the_defining_file(project_env, tmp_path):
    view = tmp_path / "views.sql"
    view.write_text("CREATE VIEW dw.v_account AS SELECT * FROM stg.account;\n")
    result = json.loads(project_env.run("lineage", "parse", "--dialect", "postgres", "--format", "json", str(view)).stdout)
    (statement,) = result["files"][0]["statements"]
    assert statement["columns"] == [{"target": "dw.v_account.*", "sources": ["stg.account.*"], "transform": "direct"}]


def test_table_format_lists_reads_writes_and_edges(project_env, tmp_path):
    sql = tmp_path / "load.sql"
    sql.write_text("INSERT INTO dw.t (a) SELECT SUM(s.x) FROM stg.s AS s;\n")
    out = project_env.run("lineage", "parse", "--dialect", "tsql", str(sql)).stdout
    assert "#0 INSERT (line 1)" in out
    assert "reads:  stg.s" in out and "writes: dw.t" in out
    assert "dw.t.a <- stg.s.x [aggregation]" in out


def test_default_schema_option(project_env, tmp_path):
    sql = tmp_path / "load.sql"
    sql.write_text("INSERT INTO fact_fee (a) SELECT s.a FROM stg.s AS s JOIN fees AS f ON f.id = s.id;\n")
    result = json.loads(
        project_env.run("lineage", "parse", "--dialect", "tsql", "--default-schema", "dbo", "--format", "json", str(sql)).stdout
    )
    (statement,) = result["files"][0]["statements"]
    assert (statement["sources"], statement["targets"]) == (["dbo.fees", "stg.s"], ["dbo.fact_fee"])
    assert statement["columns"] == [{"target": "dbo.fact_fee.a", "sources": ["stg.s.a"], "transform": "direct"}]


def test_settings_are_read_only_when_a_dialect_or_extension_comes_from_them(project_env, tmp_path):
    project_env.env["LINEAGE_WORKERS"] = "0"  # invalid: any command that loads the settings fails
    sql = tmp_path / "load.sql"
    sql.write_text("INSERT INTO dw.t (a) SELECT s.x FROM stg.s AS s;\n")
    forced = project_env.run("lineage", "parse", "--dialect", "tsql", str(sql))
    assert "writes: dw.t" in forced.stdout
    for args in ([str(sql)], ["--dialect", "tsql", str(tmp_path)]):
        result = project_env.run("lineage", "parse", *args, check=False)
        assert result.returncode == 1 and result.stderr.startswith("Error: invalid settings:")
        assert "workers='0' (from env LINEAGE_WORKERS)" in result.stderr and "Traceback" not in result.stderr
