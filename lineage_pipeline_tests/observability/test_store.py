"""Spec of the metric files: allocated on disk before they are mapped, so a full filesystem disables
metrics with a warning instead of killing the process with SIGBUS."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lineage_pipeline.observability.metrics import configure_metrics
from lineage_pipeline.observability.server import exposition
from lineage_pipeline_tests.observability.support import samples
from lineage_pipeline_tests.small_fs import fill, mounted_tmpfs


def test_every_file_is_fully_allocated_and_never_grows(tmp_path):
    directory = tmp_path / "metrics"
    metrics = configure_metrics(directory)
    sizes = {f.name: f.stat().st_size for f in directory.glob("*.db")}
    assert set(sizes) == {f"{p}_{os.getpid()}.db" for p in ("counter", "histogram", "gauge_mostrecent", "gauge_livesum")}
    metrics.record_parse_stage(files=3, failed=1, cache_hits=1, cache_misses=2, file_ms=[1, 2000], seconds=1, cache_entries=4)
    metrics.record_graph_sync(2, 1, 1, 0.5)
    metrics.record_graph_write(1, 1, 0.1)
    metrics.record_events_deduplicated(1)
    metrics.set_queue_size(1)
    with metrics.active_workers(1):
        pass
    for file in directory.glob("*.db"):
        stat = file.stat()
        assert stat.st_size == sizes[file.name], f"{file.name} grew past its allocation"
        assert stat.st_blocks * 512 >= stat.st_size, f"{file.name} is sparse"


def test_an_unwritable_directory_gives_disabled_metrics_and_one_warning(tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    metrics = configure_metrics(blocker / "metrics")
    assert not metrics.enabled
    metrics.record_files(1, 0)
    assert [r.getMessage() for r in caplog.records] == [f"metrics disabled: cannot write {blocker / 'metrics'}: Not a directory"]


@contextmanager
def full_filesystem_at(mount_point: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs at ``mount_point``, filled to the last byte (skips the test without mount rights)."""
    mount_point.parent.mkdir(parents=True, exist_ok=True)
    with mounted_tmpfs(mount_point, 1):
        fill(mount_point)
        yield mount_point


@pytest.fixture
def full_filesystem(tmp_path):
    with full_filesystem_at(tmp_path / "full") as mount_point:
        yield mount_point


def test_a_full_filesystem_disables_metrics_instead_of_sigbus(full_filesystem):
    directory = full_filesystem / "metrics"
    script = (
        "import sys\nfrom pathlib import Path\nfrom lineage_pipeline.observability.metrics import configure_metrics\n"
        "m = configure_metrics(Path(sys.argv[1]))\nm.record_parse_stage(files=5, failed=0, cache_hits=1, cache_misses=4, "
        "file_ms=[1, 2], seconds=1)\nm.record_graph_write(1, 2, 0.1)\nprint(m.enabled)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"exit {result.returncode} (SIGBUS is -7): {result.stderr}"
    assert result.stdout.strip() == "False"
    assert result.stderr.strip().splitlines() == [f"metrics disabled: cannot write {directory}: No space left on device"]
    # no half-made file is left for the collector: the directory reads as "nothing recorded"
    assert list(directory.glob("*.db")) == [] and samples(exposition(directory).decode()) == {}


def test_metrics_recorded_before_the_disk_filled_stay_readable(full_filesystem):
    directory = full_filesystem / "metrics"
    (full_filesystem / "ballast").unlink()
    metrics = configure_metrics(directory)
    metrics.record_files(7, 1)
    fill(full_filesystem)
    metrics.record_files(3, 0)  # writes into the allocated pages: no SIGBUS, no error
    assert samples(exposition(directory).decode())["files_processed_total"] == 10
