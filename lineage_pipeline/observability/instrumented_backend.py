"""A graph backend wrapper that records every write transaction in the metrics, for any backend."""

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from lineage_pipeline.graph.backend import GraphBackend, Write, WriteResult

if TYPE_CHECKING:
    from lineage_pipeline.observability.metrics import PipelineMetrics


class InstrumentedBackend:
    """Delegates to ``inner``; each successful ``write`` (one transaction) counts a batch write, its nodes,
    relationships and duration in ``metrics`` (failed attempts are counted as retries or dead letters by
    the writer)."""

    def __init__(self, inner: GraphBackend, metrics: "PipelineMetrics"):
        self.inner = inner
        self.metrics = metrics
        self.name = inner.name
        self.location = inner.location

    def ensure_schema(self) -> None:
        self.inner.ensure_schema()

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return self.inner.read(query, params)

    def write(self, query: str, params: dict[str, Any] | None = None) -> WriteResult:
        started = time.perf_counter()
        result = self.inner.write(query, params)
        stats = result.stats
        self.metrics.record_graph_write(stats.nodes_created, stats.relationships_created, time.perf_counter() - started)
        return result

    def write_stream(self, writes: Iterable[Write]) -> Iterator[WriteResult | Exception]:
        """The inner store's stream, each successful write recorded; a pipelined write's duration is the
        time the stream took to produce its outcome (its share of the stream's wall time)."""
        started = time.perf_counter()
        for outcome in self.inner.write_stream(writes):
            if isinstance(outcome, WriteResult):
                stats = outcome.stats
                self.metrics.record_graph_write(stats.nodes_created, stats.relationships_created, time.perf_counter() - started)
            yield outcome
            started = time.perf_counter()

    def recover(self) -> None:
        self.inner.recover()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # backend-specific extras (e.g. a retry policy) stay reachable through the wrapper
        return getattr(self.inner, name)


def instrumented(backend: GraphBackend, metrics: "PipelineMetrics") -> GraphBackend:
    """``backend`` with its writes recorded in ``metrics``."""
    return InstrumentedBackend(backend, metrics)
