"""Spec of explore.openlineage on the fixture corpus in a real FalkorDB: one RunEvent per file, inputs,
outputs and columnLineage, checked against the openlineage-python client's model of the spec."""

import io
import json
import uuid

import pytest
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.job_type_job import JobTypeJobFacet

from lineage_pipeline.explore.openlineage import (
    PRODUCER,
    TRANSFORMATIONS,
    event_dict,
    run_events,
    transformation,
    write_json_lines,
)

WHEN = "2026-12-03T12:00:00+00:00"
ALLOWED_SUBTYPES = {
    "DIRECT": {"IDENTITY", "TRANSFORMATION", "AGGREGATION"},
    "INDIRECT": {"JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL"},
}
"""Transformation types and subtypes of the ColumnLineageDatasetFacet 1-2-0 spec."""


def _plain(facet: dict) -> dict:
    return {k: v for k, v in facet.items() if not k.startswith("_")}


def rebuild(data: dict) -> RunEvent:
    """The event rebuilt from its JSON with the client's spec classes: a key the spec does not define is
    a TypeError, a missing required one too, so a JSON that survives the round trip unchanged conforms."""
    outputs = []
    for out in data["outputs"]:
        facets = {}
        if "columnLineage" in out["facets"]:
            lineage = _plain(out["facets"]["columnLineage"])
            fields = {
                name: Fields(inputFields=[
                    InputField(**{**f, "transformations": [Transformation(**t) for t in f["transformations"]]})
                    for f in spec["inputFields"]
                ])
                for name, spec in lineage["fields"].items()
            }
            assert set(out["facets"]) == {"columnLineage"} and lineage["dataset"] == []
            facets["columnLineage"] = ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)
        outputs.append(OutputDataset(**{**out, "facets": facets}))
    job = data["job"]
    return RunEvent(
        eventType=RunState(data["eventType"]),
        eventTime=data["eventTime"],
        producer=data["producer"],
        run=Run(**data["run"]),
        job=Job(**{**job, "facets": {"jobType": JobTypeJobFacet(**_plain(job["facets"]["jobType"]), producer=PRODUCER)}}),
        inputs=[InputDataset(**i) for i in data["inputs"]],
        outputs=outputs,
    )


@pytest.fixture
def events(fixture_graph):
    return {e.job.name: event_dict(e) for e in run_events(fixture_graph, event_time=WHEN)}


def test_one_event_per_file_conforming_to_the_spec(events):
    assert sorted(events) == [
        "core/usp_load_dim_account.sql", "reporting/balance_summary.sql", "reporting/report_balances.sql",
        "staging/00_create_stg_accounts.sql", "staging/load_accounts.sql",
    ]
    for data in events.values():
        assert event_dict(rebuild(data)) == data
        assert data["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
        assert data["eventType"] == "COMPLETE" and uuid.UUID(data["run"]["runId"])


def test_inputs_outputs_and_column_lineage(events):
    load = events["core/usp_load_dim_account.sql"]
    assert [(d["namespace"], d["name"]) for d in load["inputs"]] == [("warehouse", "stg.accounts")]
    assert [d["name"] for d in load["outputs"]] == ["dw.dim_account"]
    fields = load["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields == {
        "account_id": {"inputFields": [{
            "namespace": "warehouse", "name": "stg.accounts", "field": "account_id",
            "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "description": "copied unchanged"}],
        }]},
        "balance_eur": {"inputFields": [{
            "namespace": "warehouse", "name": "stg.accounts", "field": "balance",
            "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "expression over the source"}],
        }]},
    }
    summary = events["reporting/balance_summary.sql"]["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert summary["total_eur"]["inputFields"][0]["transformations"][0]["subtype"] == "AGGREGATION"


def test_a_file_that_only_reads_is_an_event_with_inputs_only(events):
    report = events["reporting/report_balances.sql"]
    assert [d["name"] for d in report["inputs"]] == ["dw.dim_account", "stg.accounts"]
    assert report["outputs"] == []


def test_every_transform_kind_maps_to_a_spec_transformation():
    for kind in [*TRANSFORMATIONS, None, "something new"]:
        t = transformation(kind)
        assert t.type in ALLOWED_SUBTYPES and (t.subtype is None or t.subtype in ALLOWED_SUBTYPES[t.type])
    assert (transformation("filter").type, transformation("join").subtype) == ("INDIRECT", "JOIN")


def test_run_ids_are_stable_and_the_domain_filter_applies(fixture_graph, events):
    again = {e.job.name: e.run.runId for e in run_events(fixture_graph, event_time=WHEN)}
    assert again == {name: data["run"]["runId"] for name, data in events.items()}
    staging = [e.job.name for e in run_events(fixture_graph, domain="staging", event_time=WHEN)]
    assert staging == ["staging/00_create_stg_accounts.sql", "staging/load_accounts.sql"]
    assert list(run_events(fixture_graph, domain="nowhere")) == []


def test_json_lines(fixture_graph):
    out = io.StringIO()
    assert write_json_lines(run_events(fixture_graph, event_time=WHEN), out) == 5
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["eventTime"] == WHEN for line in lines)
