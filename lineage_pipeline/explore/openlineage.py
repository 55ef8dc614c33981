"""The lineage graph as OpenLineage RunEvents: one COMPLETE event per SQL file, with the tables it reads as
inputs, the tables it writes as outputs and the ``columnLineage`` facet on each output.

Events are built with the ``openlineage-python`` client's generated classes (made from the official
spec), so a field the spec does not have cannot be produced, and the client's HTTP transport sends
them. A file that only reads (report queries) becomes an event with inputs and no outputs: that is how
a consumer such as Marquez learns who reads a table.

The run id is a UUID derived from the file's path and revision: exporting the same graph twice
produces the same runs, so a consumer deduplicates rather than accumulates them.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.generated.base import JobFacet
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.job_type_job import JobTypeJobFacet
from openlineage.client.serde import Serde

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.rows import table_of

PRODUCER = "urn:lineage_pipeline:openlineage-export"
"""``producer`` of every event and facet: the spec asks for a URI naming the producing code; a URN
because the project has no public URL to name."""

DEFAULT_NAMESPACE = "warehouse"
DEFAULT_JOB_NAMESPACE = "lineage_pipeline"

TRANSFORMATIONS: dict[str, tuple[str, str | None, str]] = {
    "direct": ("DIRECT", "IDENTITY", "copied unchanged"),
    "expression": ("DIRECT", "TRANSFORMATION", "expression over the source"),
    "aggregation": ("DIRECT", "AGGREGATION", "aggregate function"),
    "window": ("DIRECT", "TRANSFORMATION", "window function"),
    "filter": ("INDIRECT", "FILTER", "constrains rows (WHERE)"),
    "join": ("INDIRECT", "JOIN", "constrains rows (JOIN ON)"),
    "unknown": ("DIRECT", None, "derivation not determined"),
}
"""Our transform kind -> OpenLineage transformation (type, subtype, description). A window function's
value is computed from its arguments, so it is DIRECT; OpenLineage's INDIRECT/WINDOW is for columns
that only partition or order a window, which the parser does not record separately."""

FILES = """
MATCH (f:SqlFile) WHERE $domain IS NULL OR f.domain = $domain
RETURN f.path, f.domain, f.dialect, f.rev ORDER BY f.path
"""

DATASETS = """
UNWIND $paths AS p
MATCH (f:SqlFile {{path: p}})-[:{rel}]->(t:Table)
RETURN p, collect(DISTINCT t.key)
"""
"""Tables a file reads or writes; ``{rel}`` is READS or WRITES, fixed here."""

DERIVATIONS = """
UNWIND $paths AS p
MATCH (a:Column)-[d:DERIVES]->(b:Column) WHERE d.file = p
RETURN p, a.key, b.key, d.transform
"""


@dataclass(frozen=True)
class FileLineageRecord:
    """What the graph holds of one file, the input of one event."""

    path: str
    domain: str | None
    dialect: str | None
    rev: str | None
    reads: list[str]
    writes: list[str]
    derivations: list[tuple[str, str, str]]
    """(source column, target column, transform), sorted."""


def transformation(kind: str | None) -> Transformation:
    type_, subtype, description = TRANSFORMATIONS.get(kind or "unknown", TRANSFORMATIONS["unknown"])
    return Transformation(type=type_, subtype=subtype, description=description)


def file_records(backend: GraphBackend, domain: str | None = None) -> list[FileLineageRecord]:
    """Every file of ``domain`` (all domains: None) with its tables and column derivations, in path order;
    four reads whatever the number of files."""
    files = backend.read(FILES, {"domain": domain})
    paths = [row[0] for row in files]
    if not paths:
        return []
    reads = dict(backend.read(DATASETS.format(rel="READS"), {"paths": paths}))
    writes = dict(backend.read(DATASETS.format(rel="WRITES"), {"paths": paths}))
    derivations: dict[str, set] = defaultdict(set)
    for path, source, target, kind in backend.read(DERIVATIONS, {"paths": paths}):
        derivations[path].add((source, target, kind or "unknown"))
    return [
        FileLineageRecord(
            path, file_domain, dialect, rev, sorted(reads.get(path, [])), sorted(writes.get(path, [])),
            sorted(derivations.get(path, ())),
        )
        for path, file_domain, dialect, rev in files
    ]


def _column_lineage(namespace: str, output: str, derivations: list[tuple[str, str, str]]) -> ColumnLineageDatasetFacet | None:
    fields: dict[str, list[InputField]] = defaultdict(list)
    for source, target, kind in derivations:
        if table_of(target) != output:
            continue
        fields[target.rpartition(".")[2]].append(
            InputField(namespace=namespace, name=table_of(source), field=source.rpartition(".")[2],
                       transformations=[transformation(kind)])
        )
    if not fields:
        return None
    return ColumnLineageDatasetFacet(
        fields={name: Fields(inputFields=inputs) for name, inputs in sorted(fields.items())}, producer=PRODUCER
    )


def run_event(
    record: FileLineageRecord,
    event_time: str,
    namespace: str = DEFAULT_NAMESPACE,
    job_namespace: str = DEFAULT_JOB_NAMESPACE,
) -> RunEvent:
    """The COMPLETE RunEvent of one file: job ``job_namespace``/path, datasets ``namespace``/table key."""
    outputs = []
    for table in record.writes:
        facet = _column_lineage(namespace, table, record.derivations)
        outputs.append(OutputDataset(namespace=namespace, name=table, facets={"columnLineage": facet} if facet else {}))
    job_facets: dict[str, JobFacet] = {
        "jobType": JobTypeJobFacet(processingType="BATCH", integration="SQL", jobType="SCRIPT", producer=PRODUCER)
    }
    run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{job_namespace}/{record.path}@{record.rev or ''}")
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=event_time,
        run=Run(runId=str(run_id)),
        job=Job(namespace=job_namespace, name=record.path, facets=job_facets),
        inputs=[InputDataset(namespace=namespace, name=table) for table in record.reads],
        outputs=outputs,
        producer=PRODUCER,
    )


def run_events(
    backend: GraphBackend,
    domain: str | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    job_namespace: str = DEFAULT_JOB_NAMESPACE,
    event_time: str | None = None,
) -> Iterator[RunEvent]:
    """One RunEvent per file of ``domain`` (all: None), in path order; ``event_time`` defaults to now."""
    when = event_time or datetime.now(UTC).isoformat()
    for record in file_records(backend, domain):
        yield run_event(record, when, namespace, job_namespace)


def event_dict(event: RunEvent) -> dict[str, Any]:
    """The event as the JSON object the spec defines (nulls dropped, enums as strings)."""
    return Serde.to_dict(event)


def write_json_lines(events: Iterable[RunEvent], out) -> int:
    """Events as JSON Lines (one event per line, as the client's file transport writes them)."""
    count = 0
    for event in events:
        out.write(Serde.to_json(event) + "\n")
        count += 1
    return count


def emit_http(events: Iterable[RunEvent], url: str, endpoint: str = "api/v1/lineage", timeout: float = 10.0) -> int:
    """POST each event to an OpenLineage endpoint (e.g. Marquez ``http://host:5000``) with the client."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=url, endpoint=endpoint, timeout=timeout)))
    count = 0
    for event in events:
        client.emit(event)
        count += 1
    return count
