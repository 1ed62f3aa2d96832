"""Prometheus metrics, one ``CollectorRegistry`` per app (never the process-global one).

Served by ``GET /metrics`` in the Prometheus text format (behind the API key when one is required).

Counted by the app as requests go by:

* ``evo2_http_requests_total{method, endpoint, status}`` and
  ``evo2_http_request_duration_seconds{method, endpoint}``: ``endpoint`` is the route template
  (``/variant-delta``), ``unmatched`` for paths no route serves, so random paths cannot add series.
* ``evo2_http_requests_in_flight``.
* ``evo2_model_batch_sequences``: sequences per call into the model (histogram).

Read from the app's parts at scrape time (a custom collector, no bookkeeping of its own):

* ``evo2_scorer_{sequences,forward_passes,tokens}_total``, ``evo2_scorer_seconds_total``: the scorer's
  ``stats.snapshot()`` (sequences = windows scored).
* ``evo2_model_seconds_total`` (``runner.model_seconds``), ``evo2_model_queue_depth``
  (``runner.queue_depth``).
* Per genome source that keeps them (``GenomeSource.status()``, UCSC): ``evo2_upstream_requests_total``,
  ``..._retries_total``, ``..._failures_total``, ``..._rejected_by_breaker_total``,
  ``evo2_genome_cache_{hits,misses,coalesced}_total``, ``evo2_upstream_breaker_state{state}`` (1 for the
  current state) and ``evo2_upstream_breaker_opened_total``.

``prometheus_client`` is imported when an app is built, not when this module is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.genome.base import GenomeSource
from service.scoring.base import Scorer

if TYPE_CHECKING:
    import numpy as np
    from prometheus_client.metrics_core import Metric

    from service.scoring.runner import ModelRunner

UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
#: ``UpstreamStats`` field of a genome source → (metric name, help).
UPSTREAM_COUNTERS = {
    "requests": ("evo2_upstream_requests", "HTTP requests sent upstream (UCSC), retries included."),
    "retries": ("evo2_upstream_retries", "Upstream requests that were retries."),
    "failures": ("evo2_upstream_failures", "Upstream fetches that failed after their retries."),
    "rejected_by_breaker": (
        "evo2_upstream_rejected_by_breaker",
        "Fetches refused without asking upstream because the circuit breaker was open.",
    ),
    "cache_hits": ("evo2_genome_cache_hits", "Region lookups served from the region cache."),
    "cache_misses": ("evo2_genome_cache_misses", "Region lookups that started an upstream fetch."),
    "coalesced": ("evo2_genome_cache_coalesced", "Region lookups that joined a fetch already under way."),
    "tile_fallbacks": (
        "evo2_upstream_tile_fallbacks",
        "Widened tiles that failed and were fetched exactly instead (no breaker verdict).",
    ),
    "refused_by_queue": (
        "evo2_upstream_refused_by_queue",
        "Upstream requests not sent: no slot within the queue timeout (503, no breaker verdict).",
    ),
    "refused_by_budget": (
        "evo2_upstream_refused_by_budget",
        "Upstream fetches not sent: the request had used its fetch budget (limit_exceeded).",
    ),
}
BREAKER_STATES = ("closed", "open", "half_open")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ServiceMetrics:
    """The app's registry and the metrics the app updates itself."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "evo2_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "evo2_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "evo2_http_requests_in_flight", "HTTP requests being served now.", registry=self.registry
        )
        self.batch_sequences = Histogram(
            "evo2_model_batch_sequences",
            "Sequences (windows) per call into the model.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )

    def observe_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint).observe(seconds)

    def instrument(self, scorer: Scorer) -> Scorer:
        """``scorer`` with every ``log_probs`` call's size observed (give this one to the runner)."""
        return ObservedScorer(scorer, self)

    def watch(self, *, scorer: Scorer, runner: ModelRunner, genome: GenomeSource) -> None:
        """Export the scorer's, the runner's and the genome sources' own counters at scrape time."""
        self.registry.register(_PartsCollector(scorer, runner, genome))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObservedScorer:
    """A scorer that reports the size of each call to the batch histogram, otherwise the same scorer."""

    def __init__(self, inner: Scorer, metrics: ServiceMetrics) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_length = inner.max_length
        self.stats = inner.stats
        self._metrics = metrics

    def log_probs(self, seqs: Sequence[str]) -> list[np.ndarray]:
        self._metrics.batch_sequences.observe(len(seqs))
        return self.inner.log_probs(seqs)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _PartsCollector:
    def __init__(self, scorer: Scorer, runner: ModelRunner, genome: GenomeSource) -> None:
        self.scorer = scorer
        self.runner = runner
        self.genome = genome

    def describe(self) -> list[Metric]:
        return []  # names are not reserved in the registry; collect() reads live values

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = self.scorer.stats.snapshot()
        model = self.scorer.name
        for key, help_text in (
            ("sequences", "Sequences (windows) scored by the model."),
            ("forward_passes", "Forward passes of the model."),
            ("tokens", "Tokens (bases) through the model."),
            ("seconds", "Seconds the scorer spent computing."),
        ):
            family = CounterMetricFamily(f"evo2_scorer_{key}", help_text, labels=["model"])
            family.add_metric([model], float(stats.get(key, 0)))
            yield family
        yield CounterMetricFamily(
            "evo2_model_seconds",
            "Seconds model jobs held the model (queue excluded).",
            value=float(self.runner.model_seconds),
        )
        yield GaugeMetricFamily(
            "evo2_model_queue_depth", "Model jobs waiting or running.", value=float(self.runner.queue_depth)
        )
        counters = {
            key: CounterMetricFamily(name, help_text, labels=["source"])
            for key, (name, help_text) in UPSTREAM_COUNTERS.items()
        }
        breaker_state = GaugeMetricFamily(
            "evo2_upstream_breaker_state",
            "Circuit breaker state of each upstream source (1 for the current state).",
            labels=["source", "state"],
        )
        breaker_opened = CounterMetricFamily(
            "evo2_upstream_breaker_opened", "Times the circuit breaker opened.", labels=["source"]
        )
        for source in self.genome.status():
            if source.upstream is not None:
                for key, family in counters.items():
                    family.add_metric([source.name], float(getattr(source.upstream, key)))
            if source.breaker_state is not None:
                for state in BREAKER_STATES:
                    breaker_state.add_metric([source.name, state], float(source.breaker_state == state))
                breaker_opened.add_metric([source.name], float(source.breaker_opened))
        yield from counters.values()
        yield breaker_state
        yield breaker_opened


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The path template of the route that serves ``scope`` (``unmatched`` for none)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # Answered before routing (413 on Content-Length, CORS preflight): find the route the same way.
    partial = None
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED))
        if match == Match.PARTIAL and partial is None:
            partial = str(getattr(candidate, "path", UNMATCHED))
    return partial or UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request by route template and status (pure ASGI)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_flight.dec()
            endpoint = route_template(scope, self.routes)
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            self.metrics.observe_request(method, endpoint, status, time.perf_counter() - started)
