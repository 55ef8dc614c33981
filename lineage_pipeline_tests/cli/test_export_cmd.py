"""Spec of ``lineage export openlineage`` on the demo corpus: JSON Lines to a file, events POSTed to a URL.
The command object runs in a subprocess of the venv's Python (it is registered in ``cli.main`` separately)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

RUN_EXPORT = "from lineage_pipeline.cli.export_cmd import export; export(prog_name='lineage export')"


@pytest.fixture
def ingested(project_env):
    project_env.run("lineage", "ingest")
    return project_env


def test_export_to_a_file_has_one_event_per_file_of_the_domain(ingested):
    out = ingested.root / "events.jsonl"
    result = ingested.run("python", "-c", RUN_EXPORT, "openlineage", "--domain", "reporting", "--out", str(out))
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert "wrote 6 OpenLineage event(s)" in result.stderr
    assert sorted(e["job"]["name"] for e in events) == [
        "reporting/bcbs239_large_exposures.sql", "reporting/customer_360.sql", "reporting/daily_balance_sheet.sql",
        "reporting/management_kpis.sql", "reporting/monthly_transaction_volumes.sql", "reporting/regulatory_capital.sql",
    ]
    capital = next(e for e in events if e["job"]["name"] == "reporting/regulatory_capital.sql")
    assert {"risk.credit_rwa", "risk.eligible_capital"} <= {d["name"] for d in capital["inputs"]}
    lineage = capital["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert {"name": "risk.credit_rwa", "field": "rwa_amount"} in [
        {"name": f["name"], "field": f["field"]} for f in lineage["total_rwa"]["inputFields"]
    ]


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_export_to_a_url_posts_each_event(ingested):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = ingested.run("python", "-c", RUN_EXPORT, "openlineage", "--domain", "risk", "--out", url)
    finally:
        server.shutdown()
    assert "sent 7 OpenLineage event(s)" in result.stderr
    assert {path for path, _ in _Collector.received} == {"/api/v1/lineage"}
    assert len({event["run"]["runId"] for _, event in _Collector.received}) == 7


def test_an_unreachable_url_is_a_clear_error(ingested):
    result = ingested.run(
        "python", "-c", RUN_EXPORT, "openlineage", "--domain", "risk", "--out", "http://127.0.0.1:9", check=False
    )
    assert result.returncode == 1 and "could not send OpenLineage events to http://127.0.0.1:9" in result.stderr
