"""Spec of ``lineage cache`` run as a user would, after real ``lineage ingest`` runs (subprocess, FalkorDB)."""

import json
import re

from lineage_pipeline.graph.connect import graph_backend
from lineage_pipeline_tests.graph.test_writer import snapshot

KEYS = ["hits", "misses", "hit_rate", "entries", "bytes", "evictions"]


def _stats(project_env) -> dict:
    result = project_env.run("lineage", "cache", "stats", "--format", "json")
    figures = json.loads(result.stdout)
    assert list(figures) == KEYS
    return figures


def _edges(stdout: str) -> int:
    return int(re.search(r"^Totals: .*edges (\d+)", stdout, re.M).group(1))


def test_stats_are_cumulative_over_ingest_processes_and_clear_resets(project_env):
    files = len(list(project_env.corpus.rglob("*.sql")))
    project_env.run("lineage", "ingest")
    cold = _stats(project_env)
    # the first domain's corpus-wide catalog pass parses every file, so later domains find theirs cached;
    # the counters count each domain's lookups of its own files, once per file
    assert cold["hits"] + cold["misses"] == files and cold["misses"] > 0 and cold["evictions"] == 0
    assert cold["entries"] >= files and cold["bytes"] > 0  # plus catalog-resolved results
    project_env.run("lineage", "ingest", "--rerun")
    warm = _stats(project_env)
    assert (warm["hits"], warm["misses"], warm["entries"]) == (cold["hits"] + files, cold["misses"], cold["entries"])
    assert project_env.run("lineage", "cache", "verify").stdout.startswith("ok: ")
    assert "pruned 0 entries" in project_env.run("lineage", "cache", "prune").stdout
    project_env.run("lineage", "cache", "clear")
    assert _stats(project_env) == dict.fromkeys(KEYS, 0) | {"hit_rate": 0.0}


def test_a_corrupted_cache_is_rebuilt_and_the_ingest_succeeds(project_env):
    first = project_env.run("lineage", "ingest")
    with graph_backend(project_env.graph_config()) as backend:
        before = snapshot(backend)
    cache_file = project_env.data_dir / "parse_cache.sqlite"
    cache_file.write_bytes(cache_file.read_bytes()[:4096] + b"\x00garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        cache_file.with_name(cache_file.name + suffix).unlink(missing_ok=True)
    second = project_env.run("lineage", "ingest", "--rerun")
    assert _edges(second.stdout) == _edges(first.stdout)
    with graph_backend(project_env.graph_config()) as backend:
        assert snapshot(backend) == before
    assert list(project_env.data_dir.glob("parse_cache.sqlite.corrupt-*"))
    stats = _stats(project_env)
    assert stats["misses"] > 0 and stats["hits"] + stats["misses"] == len(list(project_env.corpus.rglob("*.sql")))


def test_ingest_with_the_cache_disabled_still_builds_the_graph(project_env):
    project_env.env["ENABLE_PARSE_CACHE"] = "false"
    first = project_env.run("lineage", "ingest")
    changed = project_env.corpus / "core" / "usp_load_fact_transaction.sql"
    changed.write_text(changed.read_text() + "\nINSERT INTO dw.cache_probe (a) SELECT amount FROM stg.transactions;\n")
    second = project_env.run("lineage", "ingest")
    assert _edges(first.stdout) > 100 and _edges(second.stdout) > _edges(first.stdout)
    assert (_stats(project_env)["hits"], _stats(project_env)["misses"]) == (0, 0)


def test_verify_rebuilds_a_garbage_file_at_the_configured_path(project_env, tmp_path):
    cache_file = tmp_path / "elsewhere" / "cache.sqlite"
    cache_file.parent.mkdir()
    cache_file.write_bytes(b"definitely not sqlite" * 100)
    project_env.env["PARSE_CACHE_PATH"] = str(cache_file)  # the bare name works next to LINEAGE_*
    out = project_env.run("lineage", "cache", "verify").stdout
    assert out.startswith(f"rebuilt {cache_file}") and "damaged file kept at" in out
    assert len(list(cache_file.parent.glob("cache.sqlite.corrupt-*"))) == 1
    assert _stats(project_env)["entries"] == 0
    assert not (project_env.data_dir / "parse_cache.sqlite").exists()
