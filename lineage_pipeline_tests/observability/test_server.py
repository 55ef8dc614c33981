"""Spec of the aggregation server helpers: exposition of a metrics dir, and reset."""

from lineage_pipeline.observability.server import exposition, reset
from lineage_pipeline_tests.observability.support import record_in_subprocess, samples


def test_reset_removes_accumulated_values(tmp_path):
    directory = tmp_path / "metrics"
    record_in_subprocess(directory, "m.record_dead_letter(5)")
    assert samples(exposition(directory).decode())["dead_letter_items_total"] == 5
    assert reset(directory) >= 1
    assert "dead_letter_items_total" not in samples(exposition(directory).decode())
