"""Point prometheus-client's multiprocess mode at the project's metrics directory.

prometheus-client picks its value class when ``prometheus_client.values`` is first imported and reads
``PROMETHEUS_MULTIPROC_DIR`` whenever a metric value is created, so ``configure_multiprocess()`` must
run before any metric is defined; it also repairs the value class if prometheus-client was imported
earlier in single-process mode.
"""

import atexit
import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# set alongside a directory the project derived itself, so a child process with a different data dir
# re-derives its own instead of inheriting the parent's (an operator's explicit choice is kept as is)
DERIVED_MARK_ENV = "LINEAGE_DERIVED_PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` when an operator set it, else the settings' ``effective_metrics_dir``."""
    configured = os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())
    if configured and os.environ.get(DERIVED_MARK_ENV) != configured:
        return Path(configured)
    from lineage_pipeline.settings import load_settings

    return load_settings().effective_metrics_dir


def configure_multiprocess() -> Path:
    """Create the metrics directory, export it to prometheus-client, and return it."""
    directory = multiprocess_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.environ.get(MULTIPROC_ENV) != str(directory):
        os.environ[MULTIPROC_ENV] = str(directory)
        os.environ[DERIVED_MARK_ENV] = str(directory)
    from prometheus_client import values

    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.get_value_class()
    return directory


def _forget_live_gauges() -> None:
    # live gauges (active_workers) must stop counting a process once it has exited
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(os.getpid())


def register_exit_cleanup() -> None:
    """Drop this process's live-gauge files at exit (counters and histograms stay and keep summing)."""
    atexit.register(_forget_live_gauges)
