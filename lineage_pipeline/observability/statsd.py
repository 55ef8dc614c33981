"""Optional StatsD export: the same figures as the Prometheus metrics, sent as UDP datagrams.

Enabled when ``configure_metrics`` is given a StatsD host (settings ``statsd_host``; port 8125 by default).
UDP is fire-and-forget by design: a missing StatsD daemon must never slow down or fail ingestion.
"""

import socket
from dataclasses import dataclass


@dataclass
class StatsdClient:
    """Sends ``<prefix>.<name>:<value>|<type>`` lines to one StatsD daemon."""

    host: str
    port: int = 8125
    prefix: str = "lineage"

    def __post_init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._address: tuple[str, int] | None = None

    def _send(self, name: str, value: float, kind: str) -> None:
        line = f"{self.prefix}.{name}:{value:g}|{kind}" if self.prefix else f"{name}:{value:g}|{kind}"
        try:
            # resolved lazily and once: a DNS failure at start must not stop the pipeline
            if self._address is None:
                self._address = (socket.gethostbyname(self.host), self.port)
            self._socket.sendto(line.encode(), self._address)
        except OSError:
            pass

    def incr(self, name: str, value: float = 1) -> None:
        self._send(name, value, "c")

    def gauge(self, name: str, value: float) -> None:
        self._send(name, value, "g")

    def timing(self, name: str, seconds: float) -> None:
        self._send(name, seconds * 1000, "ms")

    def histogram(self, name: str, value: float) -> None:
        self._send(name, value, "h")

    def close(self) -> None:
        self._socket.close()


def client_from_settings(host: str | None, port: int, prefix: str) -> StatsdClient | None:
    """A client when a host is configured, else None (export disabled)."""
    return StatsdClient(host, port, prefix) if host else None
