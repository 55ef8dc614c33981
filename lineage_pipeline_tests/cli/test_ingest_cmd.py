"""Spec of ``lineage ingest`` run as a user would (subprocess, real Dagster instance, real FalkorDB)."""

import re

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from lineage_pipeline.graph.connect import graph_backend
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts
from lineage_pipeline_tests.graph.test_writer import snapshot

DOMAINS = ["_root", "core", "reporting", "risk", "staging"]


def totals(stdout: str) -> dict[str, int]:
    line = next(line for line in stdout.splitlines() if line.startswith("Totals: "))
    return {name: int(value) for name, value in re.findall(r"(\w+) (\d+)", line)}


def test_ingest_prints_counts_and_rerun_changes_nothing(project_env):
    first = project_env.run("lineage", "ingest")
    counts = totals(first.stdout)
    assert set(counts) == {"files", "statements", "tables", "columns", "edges", "errors"}
    assert counts["files"] == len(list(project_env.corpus.rglob("*.sql")))
    assert counts["statements"] > counts["files"] and counts["tables"] > 20 and counts["edges"] > 100
    for domain in DOMAINS:
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+0\s+ok", first.stdout, re.M), first.stdout
    with graph_backend(project_env.graph_config()) as backend:
        before = snapshot(backend)

    second = project_env.run("lineage", "ingest")  # nothing changed: no run starts
    assert totals(second.stdout) == counts and "nothing changed" in second.stdout
    for domain in DOMAINS:
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+unchanged", second.stdout, re.M), second.stdout
    rerun = project_env.run("lineage", "ingest", "--rerun")  # asked to run anyway: each run writes nothing
    assert totals(rerun.stdout) == counts
    for domain in DOMAINS:
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+ok", rerun.stdout, re.M), rerun.stdout
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == before
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        runs = instance.get_runs()
        assert sorted(instance.get_dynamic_partitions("corpus_domain")) == DOMAINS
    assert len(runs) == 2 * len(DOMAINS) and all(r.status.value == "SUCCESS" for r in runs)


def test_bad_files_are_reported_with_file_line_and_message(project_env):
    result = project_env.run("lineage", "ingest")
    errors = result.stdout.split("\nErrors (", 1)[1]
    assert re.search(r"staging/broken_load_branches\.sql:\d+ statement \d+: ", errors)
    assert re.search(r"risk/binary_junk_model_export\.sql: .*binary", errors)
    warnings = result.stdout.split("\nWarnings (", 1)[1]
    assert "core/empty_usp_load_fact_fees.sql: no SQL statements" in warnings
    assert re.search(r"staging/latin1_load_crm_contacts\.sql: not UTF-8; decoded as (cp1252|latin-1)", warnings)
    assert "STEP_START" not in result.stdout + result.stderr, "Dagster's debug log stays in the instance"
    # the good statements around the broken one still made it into the graph
    with graph_backend(project_env.graph_config()) as backend:
        rows = backend.read(
            "MATCH (:Table {key: 'src_core_banking.branches'})-[e:FEEDS]->(:Table {key: 'stg.branches'}) RETURN e.file"
        )
        latin1 = backend.read("MATCH (f:SqlFile {path: 'staging/latin1_load_crm_contacts.sql'})-[:WRITES]->(t) RETURN t.key")
    assert [r[0] for r in rows] == ["staging/broken_load_branches.sql"]
    assert latin1, "the latin-1 file is decoded and its lineage ingested"


def test_edited_and_deleted_files_equal_a_clean_ingest(project_env, tmp_path):
    project_env.run("lineage", "ingest")
    loader = project_env.corpus / "staging" / "load_stg_fx_rates.sql"
    loader.write_text(
        "TRUNCATE TABLE stg.fx_rates;\n"
        "INSERT INTO stg.fx_rates (rate_date, currency_code, rate)\n"
        "SELECT q.quote_date, q.ccy, q.mid_rate FROM src_market.ecb_quotes AS q;\n"
    )
    deleted = project_env.corpus / "core" / "views_dw_customer.sql"
    deleted.unlink()
    result = project_env.run("lineage", "ingest")
    assert re.search(r"^staging\s+\d+\s+\d+\s+\d+\s+1\s+0\s+\d+\s+ok", result.stdout, re.M), result.stdout
    assert re.search(r"^core\s+\d+\s+\d+\s+\d+\s+0\s+1\s+\d+\s+ok", result.stdout, re.M), result.stdout
    with graph_backend(project_env.graph_config()) as backend:
        incremental = snapshot(backend)
        backend.write("MATCH (n) DETACH DELETE n")
    project_env.run("lineage", "ingest")
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == incremental
    nodes, rels = incremental
    assert ("FEEDS", "src_market.ecb_quotes", "stg.fx_rates", "staging/load_stg_fx_rates.sql") in {r[:4] for r in rels}
    assert ("SqlFile", "core/views_dw_customer.sql") not in nodes
    assert not any(r[3] == "core/views_dw_customer.sql" for r in rels)


def test_a_change_runs_its_domain_and_those_a_catalog_can_change_not_the_others(project_env):
    project_env.run("lineage", "ingest")
    edited = project_env.corpus / "risk" / "large_exposures.sql"
    edited.write_text(edited.read_text() + "\nINSERT INTO risk.audit_log (note) SELECT n.note FROM risk.notes AS n;\n")
    result = project_env.run("lineage", "ingest")
    # risk changed; core holds a file resolved against the corpus catalog, so any change may reach it; the
    # other domains' files name no table a catalog could change: their lineage stands as it is
    assert "(2 domain runs; 3 unchanged)" in result.stdout, result.stdout
    assert re.search(r"^risk\s+\d+\s+\d+\s+\d+\s+1\s+0\s+\d+\s+ok", result.stdout, re.M), result.stdout
    assert re.search(r"^core\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+ok", result.stdout, re.M), result.stdout
    for domain in ("_root", "reporting", "staging"):
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+unchanged", result.stdout, re.M), result.stdout
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        assert len(instance.get_runs()) == len(DOMAINS) + 2
    with graph_backend(project_env.graph_config()) as backend:
        assert ("risk.notes.note", "risk.audit_log.note") in _derives_into(backend, "risk.audit_log")
        incremental = snapshot(backend)
        backend.write("MATCH (n) DETACH DELETE n")
    project_env.run("lineage", "ingest", "--rerun")
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == incremental


def test_a_domain_whose_warehouse_facts_a_failed_run_left_stale_runs_again(project_env):
    project_env.run("lineage", "ingest")
    facts = WarehouseFacts(project_env.data_dir / "warehouse_facts.sqlite")
    facts.begin_write("risk")  # as a run does before its graph write, whose facts refresh then failed
    facts.close()
    result = project_env.run("lineage", "ingest")
    assert "nothing changed" not in result.stdout
    assert re.search(r"^risk\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+ok", result.stdout, re.M), result.stdout
    assert WarehouseFacts(project_env.data_dir / "warehouse_facts.sqlite").is_current("risk")
    assert "nothing changed" in project_env.run("lineage", "ingest").stdout


def test_unknown_domain_and_missing_corpus_are_named(project_env, tmp_path):
    result = project_env.run("lineage", "ingest", "--domain", "nope", check=False)
    assert result.returncode != 0 and "no such domain(s)" in result.stderr and "nope" in result.stderr
    result = project_env.run("lineage", "ingest", "--corpus", str(tmp_path / "missing"), check=False)
    assert result.returncode != 0 and "is not a readable directory" in result.stderr


def _derives_into(backend, table: str) -> set[tuple[str, str]]:
    rows = backend.read("MATCH (s:Column)-[:DERIVES]->(t:Column) WHERE t.table = $table RETURN s.key, t.key", {"table": table})
    return {(row[0], row[1]) for row in rows}


def _parsed_metadata(project_env, domain: str) -> dict:
    with DagsterInstance.from_config(str(project_env.dagster_home)) as instance:
        (record,) = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey("parsed_sql"), asset_partitions=[domain]), limit=1
        ).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def test_select_star_over_a_table_of_another_domain_follows_its_definition(project_env):
    table = project_env.corpus / "core" / "catalog_demo_table.sql"
    table.write_text("CREATE TABLE dw.catalog_demo (id INT, amount DECIMAL(10, 2));\n")
    (project_env.corpus / "reporting" / "v_catalog_demo.sql").write_text(
        "CREATE VIEW rpt.v_catalog_demo AS SELECT * FROM dw.catalog_demo;\n"
    )
    (project_env.corpus / "reporting" / "v_undefined.sql").write_text(
        "CREATE VIEW rpt.v_undefined AS SELECT * FROM ext.never_defined;\n"
    )
    project_env.run("lineage", "ingest")
    with graph_backend(project_env.graph_config()) as backend:
        assert _derives_into(backend, "rpt.v_catalog_demo") == {
            ("dw.catalog_demo.id", "rpt.v_catalog_demo.id"),
            ("dw.catalog_demo.amount", "rpt.v_catalog_demo.amount"),
        }
        assert _derives_into(backend, "rpt.v_undefined") == {("ext.never_defined.*", "rpt.v_undefined.*")}

    table.write_text("CREATE TABLE dw.catalog_demo (id INT, amount DECIMAL(10, 2), currency CHAR(3));\n")
    changed = project_env.run("lineage", "ingest")
    # core rewrites the table's file, reporting the view's file (its content did not change, its catalog did)
    assert re.search(r"^core\s+\d+\s+\d+\s+\d+\s+1\s+0\s+\d+\s+ok", changed.stdout, re.M), changed.stdout
    assert re.search(r"^reporting\s+\d+\s+\d+\s+\d+\s+1\s+0\s+\d+\s+ok", changed.stdout, re.M), changed.stdout
    with graph_backend(project_env.graph_config()) as backend:
        assert ("dw.catalog_demo.currency", "rpt.v_catalog_demo.currency") in _derives_into(backend, "rpt.v_catalog_demo")
        before = snapshot(backend)

    warm = project_env.run("lineage", "ingest", "--rerun")
    for domain in DOMAINS:
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+0\s+0\s+\d+\s+ok", warm.stdout, re.M), warm.stdout
    metadata = _parsed_metadata(project_env, "reporting")
    assert (metadata["cache_misses"], metadata["catalog_corpus_files_parsed"], metadata["catalog_parses"]) == (0, 0, 0)
    assert metadata["files_resolved_with_catalog"] >= 1
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == before


def test_a_definition_in_a_domain_that_runs_later_reaches_an_earlier_domain_in_the_same_ingest(project_env):
    # core runs before staging, and its run takes the manifest the ingest's corpus scan saved: the edit of
    # staging's table must still be in core's catalog within the same ingest
    table = project_env.corpus / "staging" / "late_table.sql"
    table.write_text("CREATE TABLE stg.late_table (id INT, amount DECIMAL(10, 2));\n")
    (project_env.corpus / "core" / "v_late.sql").write_text("CREATE VIEW dw.v_late AS SELECT * FROM stg.late_table;\n")
    project_env.run("lineage", "ingest")
    table.write_text("CREATE TABLE stg.late_table (id INT, amount DECIMAL(10, 2), currency CHAR(3));\n")
    project_env.run("lineage", "ingest")
    with graph_backend(project_env.graph_config()) as backend:
        assert _derives_into(backend, "dw.v_late") == {
            ("stg.late_table.id", "dw.v_late.id"),
            ("stg.late_table.amount", "dw.v_late.amount"),
            ("stg.late_table.currency", "dw.v_late.currency"),
        }
        incremental = snapshot(backend)
        backend.write("MATCH (n) DETACH DELETE n")
    project_env.run("lineage", "ingest", "--rerun")
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == incremental


def test_a_domain_another_run_is_ingesting_fails_by_name_and_the_rest_goes_on(project_env):
    from lineage_pipeline.pipeline.domain_lock import domain_lock

    with domain_lock(project_env.data_dir / "locks", "risk", holder="run 0123abcd (pid 4242)"):
        blocked = project_env.run("lineage", "ingest", check=False)
    assert blocked.returncode == 1
    last = [line for line in blocked.stderr.splitlines() if line.strip()][-1]
    assert re.fullmatch(
        r"run [0-9a-f-]{36} for domain risk failed: domain 'risk' is being ingested by run 0123abcd \(pid 4242\); "
        r"run it again when that has ended",
        last,
    ), blocked.stderr[-2000:]
    for domain in ("_root", "core", "reporting", "staging"):
        assert re.search(rf"^{domain}\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+0\s+ok", blocked.stdout, re.M), blocked.stdout
    assert re.search(r"^risk\s.*FAILED", blocked.stdout, re.M), blocked.stdout
    with graph_backend(project_env.graph_config()) as backend:
        assert backend.read("MATCH (f:SqlFile) WHERE f.domain = 'risk' RETURN count(f)") == [[0]]

    after = project_env.run("lineage", "ingest")  # the holder is gone: risk runs, the others are left alone
    assert re.search(r"^risk\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+0\s+ok", after.stdout, re.M), after.stdout
    with graph_backend(project_env.graph_config()) as backend:
        incremental = snapshot(backend)
        backend.write("MATCH (n) DETACH DELETE n")
    project_env.run("lineage", "ingest", "--rerun")
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == incremental
