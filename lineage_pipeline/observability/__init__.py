"""Operational telemetry: Prometheus metrics aggregated across processes, optional StatsD export, the /metrics server."""
