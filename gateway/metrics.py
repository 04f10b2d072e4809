"""Prometheus metrics for the gateway, served at /metrics by gateway.health.

Built from the gateway's own counters at scrape time (a custom collector), so the
hot path only increments integers.
"""

import time
from collections.abc import Callable, Iterator

from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from gateway.stats import Counters

_PREFIX = "binfleet_gateway_"
# Counter name -> help text. Anything named rejected.<field> becomes rejected_total{field=...}.
_COUNTERS = {
    "received": "Telemetry messages received from the broker",
    "committed": "Readings committed to the durable buffer",
    "acknowledged": "Messages acknowledged to the broker after their commit",
    "duplicates": "Readings dropped as already buffered or forwarded, by (bin, seq)",
    "dead_lettered": "Messages written to the dead-letter table",
    "forwarded": "Readings cloud_ingest confirmed",
    "forward_errors": "Forward attempts that failed and will be retried",
    "commit_failures": "Group commits the buffer refused (disk full, I/O error)",
    "backpressure_waits": "Times intake held acknowledgements because the buffer was full",
}


class _GatewayCollector(Collector):
    def __init__(self, counters: Counters, depth: Callable[[], tuple[int, int | None]]) -> None:
        self._counters = counters
        self._depth = depth

    def collect(self) -> Iterator[Metric]:
        values = self._counters.snapshot()
        for name, text in _COUNTERS.items():
            c = CounterMetricFamily(_PREFIX + name, text)
            c.add_metric([], values.get(name, 0))
            yield c
        rejected = CounterMetricFamily(_PREFIX + "rejected", "Messages rejected, by field",
                                       labels=["field"])
        for name, value in sorted(values.items()):
            if name.startswith("rejected."):
                rejected.add_metric([name.removeprefix("rejected.")], value)
        yield rejected
        latency = SummaryMetricFamily(_PREFIX + "forward_seconds",
                                      "Time for cloud_ingest to confirm a batch")
        latency.add_metric([], values.get("forward_batches", 0),
                           values.get("forward_ms", 0) / 1000)
        yield latency
        depth, oldest_ms = self._depth()
        yield GaugeMetricFamily(_PREFIX + "buffer_depth", "Readings waiting to be forwarded",
                                value=depth)
        age = 0.0 if oldest_ms is None else max(0.0, time.time() - oldest_ms / 1000)
        yield GaugeMetricFamily(_PREFIX + "buffer_oldest_age_seconds",
                                "Age of the oldest buffered reading", value=age)


def registry_for(counters: Counters,
                 depth: Callable[[], tuple[int, int | None]]) -> CollectorRegistry:
    """Return a registry exposing the gateway's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_GatewayCollector(counters, depth))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """Return the Prometheus text exposition."""
    return generate_latest(registry)
