"""TRANSITIONAL (issue 16): the old module-level ``record_*``/``set_*`` functions of ``observability.metrics``.

They forward to one ``PipelineMetrics`` per process, configured from the settings on the first call
(never at import). Only for call sites that do not receive a ``PipelineMetrics`` yet:
assets/parsed.py, assets/graph.py, sensors/corpus_sensor.py. Delete this module, and the
``__getattr__`` at the end of metrics.py, once they do.
"""

from functools import cache

from lineage_pipeline.observability.metrics import PipelineMetrics, configure_metrics

FUNCTIONS = frozenset({
    "record_parse_cache", "record_file_parse_durations", "record_files", "record_parse_stage",
    "record_events_deduplicated", "set_queue_size", "set_parse_cache_entries", "record_batch",
    "record_graph_write", "record_graph_sync", "record_graph_retry", "record_dead_letter", "active_workers",
})


@cache
def default_metrics() -> PipelineMetrics:
    """This process's metrics, from the settings' ``effective_metrics_dir`` and StatsD keys."""
    from lineage_pipeline.settings import load_settings

    settings = load_settings()
    return configure_metrics(
        settings.effective_metrics_dir,
        statsd_host=settings.statsd_host,
        statsd_port=settings.statsd_port,
        statsd_prefix=settings.statsd_prefix,
    )


def _forward(name: str):
    def forward(*args, **kwargs):
        return getattr(default_metrics(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = getattr(PipelineMetrics, name).__doc__
    return forward


globals().update({name: _forward(name) for name in FUNCTIONS})
