"""Spec of docs/grafana/ingestion_performance.json: it queries only metrics the pipeline really exposes, and all of them."""

import json
import re
from pathlib import Path

from lineage_pipeline.observability.metrics import HISTOGRAM_NAMES, METRIC_NAMES
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import record_in_subprocess, recording_process, samples

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "ingestion_performance.json"
PROMQL_WORDS = {"sum", "rate", "increase", "max", "by", "le", "histogram_quantile", "clamp_min", "label_values", "job"}


def _queries(node) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and template-variable queries."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        if isinstance(node.get("definition"), str):
            found.append(node["definition"])
        return found + [q for value in node.values() for q in _queries(value)]
    if isinstance(node, list):
        return [q for item in node for q in _queries(item)]
    return []


def _series_names(expression: str) -> set[str]:
    # drop label matchers, range selectors, strings and numbers; what is left are functions and series
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|\b\d+(\.\d+)?(e-?\d+)?\b", " ", expression)
    return set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", stripped)) - PROMQL_WORDS


def test_dashboard_references_only_exposed_series_and_covers_every_metric(tmp_path):
    dashboard = json.loads(DASHBOARD.read_text())
    queries = _queries(dashboard["panels"]) + _queries(dashboard["templating"])
    referenced = set().union(*(_series_names(q) for q in queries))
    assert referenced, "dashboard has no queries"

    # what a real process exposes once every kind of metric has been recorded
    directory = tmp_path / "metrics"
    record_in_subprocess(directory, (
        "m.record_parse_stage(files=2, failed=1, cache_hits=1, cache_misses=1, file_ms=[3], seconds=1)\n"
        "m.record_graph_write(1, 1, 0.1)\nm.record_graph_retry()\nm.record_dead_letter()\nm.record_batch(2, 1)\n"
        "m.record_events_deduplicated(1)\nm.set_queue_size(1)\nm.set_parse_cache_entries(1)\n"
    ))
    # active_workers is a live gauge: it is exposed while a worker process is running
    worker = recording_process(directory, "with m.active_workers(1):\n    print('busy', flush=True)\n    sys.stdin.readline()\n")
    try:
        assert worker.stdout.readline().strip() == "busy"
        scraped = {name.split("{")[0] for name in samples(exposition(directory).decode())}
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    assert referenced <= scraped, f"not exposed: {sorted(referenced - scraped)}"

    base_names = {re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(r"_(bucket|sum|count)$", "", n) in HISTOGRAM_NAMES else n
                  for n in referenced}
    assert base_names == METRIC_NAMES


def test_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(target["refId"] for panel in dashboard["panels"] for target in panel.get("targets", []))
