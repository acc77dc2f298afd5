"""AgentScope's own health in Prometheus' format, with prometheus-client: served at /metrics behind
METRICS_TOKEN (apps.core.views.metrics).

Counters and histograms are kept by each process. Under gunicorn (several worker processes) set
PROMETHEUS_MULTIPROC_DIR to an empty directory the workers share: prometheus-client then writes each
worker's values there and /metrics adds them up, whichever worker answers the scrape. What the
database knows (paused runs, the task queue) is read when scraped, by collectors registered here by
the apps that own it (`register_collector`).
"""

import os
from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

REQUESTS = Counter(
    "agentscope_http_requests", "HTTP requests answered, by route (URL pattern), method and status.",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "agentscope_http_request_duration_seconds", "Time to answer a request, by route and method.",
    ["route", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
THROTTLED = Counter("agentscope_throttle_refusals", "Requests refused by a throttle (429), by route.", ["route"])
INGEST_EVENTS = Counter(
    "agentscope_ingest_events", "Ingest events (single posts and batch events), accepted or refused.", ["outcome"]
)
INGEST_SPANS = Counter(
    "agentscope_ingest_spans", "OTLP spans received on /v1/traces, accepted or refused.", ["outcome"]
)
POOL = Gauge(
    "agentscope_db_pool_connections",
    "PostgreSQL pool of the web workers (summed over live workers): connections open, idle, and requests waiting.",
    ["state"],
    multiprocess_mode="livesum",
)

_collectors: dict[str, Callable[[], Iterable[Metric]]] = {}


class _Collected:
    def collect(self) -> Iterable[Metric]:
        for collect in _collectors.values():
            yield from collect()


def register_collector(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """`collect()` yields metrics read when /metrics is scraped (by name: ready() may run twice)."""
    _collectors[name] = collect


def ingest_counted(accepted: int, refused: int, *, spans: bool = False) -> None:
    metric = INGEST_SPANS if spans else INGEST_EVENTS
    if accepted:
        metric.labels("accepted").inc(accepted)
    if refused:
        metric.labels("refused").inc(refused)


def pool_observe(pool) -> None:
    """Records the pool's state (psycopg_pool's `get_stats()`): called after each request."""
    stats = pool.get_stats()
    POOL.labels("open").set(stats.get("pool_size", 0))
    POOL.labels("idle").set(stats.get("pool_available", 0))
    POOL.labels("waiting").set(stats.get("requests_waiting", 0))


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process's, or all workers' in multiprocess mode,
    then what the collectors read from the database."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    collected = CollectorRegistry()
    collected.register(_Collected())
    return generate_latest(registry) + generate_latest(collected)


def task_queue_metrics() -> Iterable[Metric]:
    """The background task queue (django-tasks-db): tasks ready to run, and how long the oldest has waited."""
    from django.db.models import Count, Min
    from django.tasks import TaskResultStatus
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready().aggregate(depth=Count("*"), oldest=Min("enqueued_at"))
    age = (timezone.now() - ready["oldest"]).total_seconds() if ready["oldest"] else 0
    yield GaugeMetricFamily(
        "agentscope_task_queue_depth", "Background tasks ready to run, not started.", ready["depth"]
    )
    yield GaugeMetricFamily(
        "agentscope_task_queue_oldest_age_seconds", "How long the oldest ready task has waited.", age
    )
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
    yield GaugeMetricFamily("agentscope_tasks_running", "Background tasks running now.", running)
