"""Chaos spec of the graph writer (issue 17): ``kill -9`` of the real embedded FalkorDB at a random
point of ``GraphWriter.sync_domain``, over seeded generated corpora, then a re-sync; the graph must
then equal, node for node and property for property (``graph.dump``), the graph a fault-free run of
the same syncs writes into a separate data dir.

Each seed generates a corpus version 1 and a version 2 (files rewritten, deleted, added; shared
tables; a table turning into a view). The oracle replays the same history without faults, because
some properties depend on history by design (a table once seen as a view stays a view).
"""

import os
import random
import signal
import threading
import time
from pathlib import Path

import falkordb
import pytest

from lineage_pipeline.graph.connect import GraphStoreConfig, open_backend
from lineage_pipeline.graph.dump import GraphDump, canonical_dump
from lineage_pipeline.graph.embedded_server import server_status, stop_server
from lineage_pipeline.graph.faults import GraphStoreUnavailable, RetryPolicy
from lineage_pipeline.graph.rows import build_file_graph
from lineage_pipeline.graph.writer import GraphWriter
from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, StatementLineage

pytestmark = pytest.mark.integration

DOMAIN = "chaos"
SEEDS = [1, 2, 3, 4]
KILLS_PER_SEED = 3
RETRY = RetryPolicy(max_retries=6, base_delay_s=0.05, deadline_s=120)

Corpus = dict[str, tuple[str, FileLineage]]
"""path -> (revision, lineage)."""


def _lineage(rng: random.Random, path: str, tables: list[str]) -> FileLineage:
    statements = []
    for index in range(rng.randint(1, 3)):
        target = rng.choice(tables)
        sources = rng.sample([t for t in tables if t != target], rng.randint(1, 3))
        columns = [
            ColumnEdge(
                target=f"{target}.c{c}",
                sources=[f"{s}.c{rng.randint(0, 4)}" for s in rng.sample(sources, rng.randint(1, len(sources)))],
                transform=rng.choice(["direct", "expression", "aggregation"]),
            )
            for c in rng.sample(range(6), rng.randint(1, 4))
        ]
        statements.append(
            StatementLineage(
                index=index, kind="INSERT", sources=sources, targets=[target], columns=columns,
                target_kind="view" if rng.random() < 0.1 else "table",
            )
        )
    return FileLineage(path=path, dialect="tsql", statements=statements)


def corpora(seed: int) -> tuple[Corpus, Corpus]:
    """Version 1 and 2 of a generated corpus: ~60 files over a shared pool of tables."""
    rng = random.Random(seed)
    tables = [f"{rng.choice(['stg', 'dw', 'rpt'])}.t{i}" for i in range(40)]
    first = {f"{DOMAIN}/f{i:03d}.sql": ("r1", _lineage(rng, f"{DOMAIN}/f{i:03d}.sql", tables)) for i in range(60)}
    second: Corpus = {}
    for path, entry in first.items():
        roll = rng.random()
        if roll < 0.1:
            continue  # deleted
        second[path] = ("r2", _lineage(rng, path, tables)) if roll < 0.4 else entry
    for i in range(60, 66):
        path = f"{DOMAIN}/f{i:03d}.sql"
        second[path] = ("r1", _lineage(rng, path, tables))
    return first, second


def sync(writer: GraphWriter, corpus: Corpus):
    return writer.sync_domain(
        DOMAIN,
        {path: rev for path, (rev, _) in corpus.items()},
        lambda paths: [build_file_graph(corpus[p][1], DOMAIN, "0" * 64, corpus[p][0]) for p in paths],
    )


def _graph_queries(data_dir: Path) -> int:
    """GRAPH.QUERY (write) commands the server processed since it started."""
    connection = falkordb.FalkorDB(unix_socket_path=str(server_status(data_dir).socket_path)).connection
    try:
        return int(connection.info("commandstats").get("cmdstat_graph.QUERY", {}).get("calls", 0))
    finally:
        connection.close()


def clean_history(data_dir: Path, first: Corpus, second: Corpus) -> tuple[GraphDump, int]:
    """The fault-free graph after syncing ``first`` then ``second``, and how many writes the second sync sent."""
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
    try:
        sync(GraphWriter(backend, batch_size=25), first)
        before = _graph_queries(data_dir)
        report = sync(GraphWriter(backend, batch_size=25), second)
        assert not report.dead_lettered
        return canonical_dump(backend), _graph_queries(data_dir) - before
    finally:
        backend.close()
        stop_server(data_dir)


def _kill_at(data_dir: Path, target: int, killed: list[int], stop: threading.Event) -> None:
    """kill -9 the server once it has processed ``target`` GRAPH.QUERY commands since it started."""
    info = server_status(data_dir)
    connection = falkordb.FalkorDB(unix_socket_path=str(info.socket_path)).connection
    try:
        while not stop.is_set():
            stats = connection.info("commandstats").get("cmdstat_graph.QUERY", {})
            if int(stats.get("calls", 0)) >= target:
                os.kill(info.pid, signal.SIGKILL)
                killed.append(info.pid)
                return
            time.sleep(0.002)
    except Exception:  # noqa: BLE001 - the sync may finish (and a test stop the server) before the kill point
        return
    finally:
        connection.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_at_random_points_then_resync_equals_a_clean_history(tmp_path, seed):
    first, second = corpora(seed)
    expected, writes = clean_history(tmp_path / "clean", first, second)
    assert writes > 5 and len(expected.relationships) > 200
    rng = random.Random(seed * 1000)
    for trial in range(KILLS_PER_SEED):
        data_dir = tmp_path / f"killed-{trial}"
        backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
        try:
            sync(GraphWriter(backend, batch_size=25, retry=RETRY), first)
            killed: list[int] = []
            stop = threading.Event()
            kill_at = rng.randint(1, writes)
            # the target is fixed before the sync starts, so the thread's start-up cannot shift it
            target = _graph_queries(data_dir) + kill_at
            killer = threading.Thread(target=_kill_at, args=(data_dir, target, killed, stop))
            killer.start()
            # both write paths: the pipelined stream and one write at a time
            writer = GraphWriter(backend, batch_size=25, retry=RETRY, pipelined=trial % 2 == 0)
            try:
                sync(writer, second)
            except GraphStoreUnavailable:
                pass  # allowed: a clear, resumable failure; never a raw driver error
            finally:
                stop.set()
                killer.join(30)
            report = sync(GraphWriter(backend, batch_size=25, retry=RETRY), second)
            assert not report.dead_lettered, "a kill is never a row error"
            actual = canonical_dump(backend)
            where = f"seed {seed}, kill after {kill_at} of {writes} writes:"
            assert actual == expected, "\n".join([where, *actual.difference(expected)])
            assert killed or kill_at >= writes - 2, "the kill landed inside the sync (or at its very end)"
        finally:
            backend.close()
            stop_server(data_dir)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_kill_during_retire_then_retire_again_leaves_nothing(tmp_path, seed):
    first, _ = corpora(seed)
    writes = _graph_queries_of_a_fresh_retire(tmp_path / "measure", first)
    assert writes > 3
    rng = random.Random(seed)
    data_dir = tmp_path / "killed"
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
    try:
        sync(GraphWriter(backend, batch_size=25), first)
        killed: list[int] = []
        stop = threading.Event()
        kill_at = rng.randint(1, writes)
        killer = threading.Thread(target=_kill_at, args=(data_dir, _graph_queries(data_dir) + kill_at, killed, stop))
        killer.start()
        try:
            GraphWriter(backend, batch_size=25, retry=RETRY).retire_domain(DOMAIN)
        except GraphStoreUnavailable:
            pass
        finally:
            stop.set()
            killer.join(30)
        assert killed or kill_at >= writes - 2, "the kill landed inside the retire (or at its very end)"
        GraphWriter(backend, batch_size=25, retry=RETRY).retire_domain(DOMAIN)
        assert canonical_dump(backend) == GraphDump((), ()), "nothing of the domain is left"
    finally:
        backend.close()
        stop_server(data_dir)


def _graph_queries_of_a_fresh_retire(data_dir: Path, corpus: Corpus) -> int:
    """How many writes retiring ``corpus``'s domain sends, fault-free (the range the kill is drawn from)."""
    backend = open_backend(GraphStoreConfig(data_dir=data_dir, graph_name="g"))
    try:
        sync(GraphWriter(backend, batch_size=25), corpus)
        before = _graph_queries(data_dir)
        GraphWriter(backend, batch_size=25).retire_domain(DOMAIN)
        return _graph_queries(data_dir) - before
    finally:
        backend.close()
        stop_server(data_dir)
