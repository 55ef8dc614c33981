"""Spec of pipeline.ingest: a clean ingest of the demo corpus through the ingest service gives the same
graph on every run (every node and relationship with all properties), equal to a fixed dump (revisions
aside: they name the parser version), and each clean file's revision is what ``rows.file_revision`` says."""

import json
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from lineage_pipeline.corpus import manifest as manifest_module
from lineage_pipeline.corpus.files import discover_domains
from lineage_pipeline.corpus.manifest import ManifestFolder
from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.connect import GraphStoreConfig, graph_backend
from lineage_pipeline.graph.embedded_server import stop_server
from lineage_pipeline.graph.faults import RetryPolicy
from lineage_pipeline.graph.rows import file_revision
from lineage_pipeline.parsing import PARSER_VERSION
from lineage_pipeline.pipeline.ingest import (
    CorpusSpec,
    WriteOptions,
    lineage_is_current,
    parse_domain,
    scan_corpus,
    scan_domain,
    write_domain,
)
from lineage_pipeline.pipeline.parse_pool import PoolKeeper
from lineage_pipeline.pipeline.parse_stage import ParseOptions
from lineage_pipeline.stores.parse_cache import ParseCache
from lineage_pipeline.stores.parse_results import ParseResults
from lineage_pipeline.stores.warehouse_facts import WarehouseFacts
from lineage_pipeline_tests.conftest import DEMO_CORPUS, DEMO_DIALECTS

pytestmark = pytest.mark.integration  # parse workers and a real FalkorDB server

EXPECTED_DUMP = Path(__file__).parent / "fixtures" / "demo_corpus_graph.json"
"""The demo corpus's graph, every node and relationship with all properties. It was first the dump of
commit 1c864c1's pipeline (before the ingest service), which the ingest service's graph equalled exactly;
it was regenerated after 697b117 (revisions name the dialect; READS/WRITES carry statements, lines, kinds
and procedures), all else unchanged. Regenerate (``python -m lineage_pipeline_tests.pipeline.test_ingest``)
only for an intended change of the graph."""


def canonical_dump(backend: GraphBackend) -> dict[str, list[dict]]:
    """Every node (labels, all properties) and relationship (type, both ends' labels and identity, all
    properties) of the graph, sorted, JSON-ready."""
    nodes = [
        {"labels": sorted(labels), "properties": properties}
        for labels, properties in backend.read("MATCH (n) RETURN labels(n), properties(n)")
    ]
    relationships = [
        {"type": rel_type, "from": [sorted(a_labels), a_id], "to": [sorted(b_labels), b_id], "properties": properties}
        for rel_type, a_labels, a_id, b_labels, b_id, properties in backend.read(
            "MATCH (a)-[e]->(b) RETURN type(e), labels(a), coalesce(a.key, a.path, a.domain), labels(b), "
            "coalesce(b.key, b.path, b.domain), properties(e)"
        )
    ]

    def order(item: dict) -> str:
        return json.dumps(item, sort_keys=True)

    return {"nodes": sorted(nodes, key=order), "relationships": sorted(relationships, key=order)}


def without_revisions(dump: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """``dump`` with the ``rev`` property of every node and relationship left out."""

    def strip(item: dict) -> dict:
        return {**item, "properties": {k: v for k, v in item["properties"].items() if k != "rev"}}

    return {part: [strip(item) for item in items] for part, items in dump.items()}


class DemoStores(NamedTuple):
    corpus: Path
    data: Path
    spec: CorpusSpec
    manifests: ManifestFolder
    cache: ParseCache
    results: ParseResults
    write: WriteOptions


def demo_stores(work: Path) -> DemoStores:
    """A copy of the demo corpus under ``work`` and the stores of a fresh data dir beside it."""
    corpus, data = work / "corpus", work / "data"
    shutil.copytree(DEMO_CORPUS, corpus)
    return DemoStores(
        corpus, data, CorpusSpec(corpus, [".sql"], DEMO_DIALECTS, "postgres", 5_000_000), ManifestFolder(data / "manifests"),
        ParseCache(data / "parse_cache.sqlite", max_entries=10_000, ttl_seconds=30 * 86400.0),
        ParseResults(data / "parse_results.sqlite"),
        WriteOptions(batch_size=1000, max_delete_fraction=0.5, retry=RetryPolicy(), orphan_policy="remove", pipelined=True),
    )


def ingest_demo_corpus(work: Path) -> tuple[dict[str, list[dict]], dict[str, str], dict[str, str]]:
    """Copy the demo corpus under ``work`` and ingest every domain into a fresh data dir through the ingest
    service; returns the graph's dump, each file's graph revision, and the revision ``rows.file_revision``
    gives for its stored result."""
    corpus, data, spec, manifests, cache, results, write = demo_stores(work)
    expected_revisions: dict[str, str] = {}
    try:
        with PoolKeeper() as pools, graph_backend(GraphStoreConfig(data_dir=data, graph_name="lineage")) as backend:
            for domain in discover_domains(corpus, spec.extensions):
                scan = scan_domain(domain, spec, manifests)
                parse = parse_domain(domain, spec, manifests, cache, results, ParseOptions(workers=2, pools=pools))
                assert parse.outcome.provisional == [], "a clean ingest has only final results"
                write_domain(domain, manifests, results, backend, write)
                stored = results.stored(domain)
                for entry in scan.manifest.files:
                    context = stored[entry.path].key.context
                    expected_revisions[entry.path] = (
                        file_revision(entry.sha256, entry.dialect, PARSER_VERSION, context) if context
                        else file_revision(entry.sha256, entry.dialect, PARSER_VERSION)
                    )
            revisions = dict(backend.read("MATCH (f:SqlFile) RETURN f.path, f.rev"))
            return canonical_dump(backend), revisions, expected_revisions
    finally:
        stop_server(data)


def test_a_clean_ingest_gives_the_fixed_graph_every_time(tmp_path):
    first, revisions, expected_revisions = ingest_demo_corpus(tmp_path / "first")
    second, _, _ = ingest_demo_corpus(tmp_path / "second")
    assert first == second, "two clean ingests in fresh data dirs give the same graph, revisions included"
    expected = without_revisions(json.loads(EXPECTED_DUMP.read_text()))
    found = without_revisions(first)
    assert len(found["nodes"]) == len(expected["nodes"]) and len(found["relationships"]) == len(expected["relationships"])
    assert found["nodes"] == expected["nodes"]
    assert found["relationships"] == expected["relationships"]
    assert revisions == expected_revisions
    assert any(rev.count(":") == 3 for rev in revisions.values()), "one file's revision carries its catalog context"
    edge_revisions = {item["properties"]["file"]: item["properties"]["rev"] for item in first["relationships"]}
    assert all(revisions[path] == rev for path, rev in edge_revisions.items()), "each edge carries its file's revision"


def write_expected_dump(path: Path = EXPECTED_DUMP) -> None:
    """Write the dump of a clean ingest with this code as the fixed expectation, one item per line."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        dump, _, _ = ingest_demo_corpus(Path(work))
    lines = ["{", '"nodes": [']
    lines += [json.dumps(n, sort_keys=True) + ("," if i < len(dump["nodes"]) - 1 else "") for i, n in enumerate(dump["nodes"])]
    lines += ["],", '"relationships": [']
    rels = dump["relationships"]
    lines += [json.dumps(r, sort_keys=True) + ("," if i < len(rels) - 1 else "") for i, r in enumerate(rels)]
    lines += ["]", "}"]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_expected_dump(Path(sys.argv[1]) if len(sys.argv) > 1 else EXPECTED_DUMP)


def test_a_run_after_the_corpus_scan_takes_its_manifest_without_walking_again(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    spec = CorpusSpec(corpus, [".sql"], DEMO_DIALECTS, "postgres", 5_000_000)
    manifests = ManifestFolder(tmp_path / "manifests")
    alone = scan_domain("core", spec, manifests, walk=False)  # nothing saved yet: it scans
    assert alone.mode == "full" and alone.manifest.files
    (scanned,) = scan_corpus(["core"], spec, manifests)
    edited = corpus / alone.manifest.files[0].path
    edited.write_text(edited.read_text() + "\n-- edited after the corpus scan\n")
    taken = scan_domain("core", spec, manifests, walk=False)
    assert taken.mode == "saved by this ingest's corpus scan" and taken.manifest == scanned.manifest
    walked = scan_domain("core", spec, manifests)
    assert walked.manifest != scanned.manifest, "a walk sees the edit"
    other_setup = CorpusSpec(corpus, [".sql"], {**DEMO_DIALECTS, "core": "snowflake"}, "postgres", 5_000_000)
    assert scan_domain("core", other_setup, manifests, walk=False).mode == "full", "another dialect setup: scanned"


def test_a_domain_the_corpus_scan_cannot_read_is_left_to_its_own_run(tmp_path, monkeypatch, caplog):
    # as root every file is readable, so an unreadable one is faked where the scan reads a file
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, corpus)
    spec = CorpusSpec(corpus, [".sql"], DEMO_DIALECTS, "postgres", 5_000_000)
    real_entry = manifest_module.manifest_entry

    def unreadable_core(root, path, *args, **kwargs):
        if path.startswith("core/"):
            raise PermissionError(13, "Permission denied", path)
        return real_entry(root, path, *args, **kwargs)

    monkeypatch.setattr(manifest_module, "manifest_entry", unreadable_core)
    reports = scan_corpus(["core", "staging"], spec, ManifestFolder(tmp_path / "manifests"))
    assert [report.manifest.domain for report in reports] == ["staging"]
    assert "could not scan domain 'core'" in caplog.text and "Permission denied" in caplog.text
    assert not (tmp_path / "manifests" / "core.json").exists()


def test_a_domain_is_current_when_scanned_as_last_time_and_its_results_and_graph_hold_that_manifest(tmp_path):
    """The no-op check of ``lineage ingest``: ``content_changed`` of the corpus scan, then ``lineage_is_current``."""
    corpus, data, spec, manifests, cache, results, write = demo_stores(tmp_path)
    retry = RetryPolicy()
    try:
        with PoolKeeper() as pools, graph_backend(GraphStoreConfig(data_dir=data, graph_name="lineage")) as backend:
            (first,) = scan_corpus(["core"], spec, manifests)
            assert first.content_changed, "nothing scanned before"
            (again,) = scan_corpus(["core"], spec, manifests)
            assert not again.content_changed
            assert not lineage_is_current(again.manifest, results, backend, retry), "not parsed nor written yet"
            parse_domain("core", spec, manifests, cache, results, ParseOptions(workers=2, pools=pools))
            assert not lineage_is_current(again.manifest, results, backend, retry), "parsed, not written"
            write_domain("core", manifests, results, backend, write)
            assert lineage_is_current(again.manifest, results, backend, retry)

            edited = corpus / first.manifest.files[0].path
            edited.write_text(edited.read_text() + "\n-- edited\n")
            (after_edit,) = scan_corpus(["core"], spec, manifests)
            assert after_edit.content_changed and not lineage_is_current(after_edit.manifest, results, backend, retry)
            parse_domain("core", spec, manifests, cache, results, ParseOptions(workers=2, pools=pools))
            write_domain("core", manifests, results, backend, write)
            (settled,) = scan_corpus(["core"], spec, manifests)
            assert not settled.content_changed and lineage_is_current(settled.manifest, results, backend, retry)

            backend.write("MATCH (f:SqlFile {path: $path}) SET f.rev = 'other'", {"path": first.manifest.files[0].path})
            assert not lineage_is_current(settled.manifest, results, backend, retry), "the graph holds another revision"
            # a run whose graph write completed but whose warehouse-facts refresh did not (disk full)
            facts = WarehouseFacts(data / "warehouse_facts.sqlite")
            write_domain("core", manifests, results, backend, write, warehouse_facts=facts)  # rewrites the 'other' file
            assert lineage_is_current(settled.manifest, results, backend, retry, warehouse_facts=facts)
            facts.begin_write("core")
            assert lineage_is_current(settled.manifest, results, backend, retry), "the graph and results are current"
            assert not lineage_is_current(settled.manifest, results, backend, retry, warehouse_facts=facts), (
                "the facts the code location's warehouse assets read are not"
            )
            other_setup = CorpusSpec(corpus, [".sql"], {**DEMO_DIALECTS, "core": "snowflake"}, "postgres", 5_000_000)
            (recut,) = scan_corpus(["core"], other_setup, manifests)
            assert recut.content_changed, "another dialect setup"
    finally:
        stop_server(data)
