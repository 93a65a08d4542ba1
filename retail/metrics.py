"""Prometheus metrics: what this process measures, what the shared store holds, and what is read at scrape.

Three kinds, because Winkelpunt runs as several processes (API replicas, Celery workers and their
prefork children, beat):

- Per process (`HTTP_REQUESTS`, `HTTP_LATENCY`): prometheus_client counters kept in the API process that
  served the request. Each replica is scraped on its own and Prometheus sums them.
- Shared (`SharedCounters`): events that happen in workers (task failures, the reconciliation's drift) are
  counted in Redis when the service has one, so a scrape of any API replica shows the whole deployment's
  totals, whichever worker child counted them. Without Redis, tasks run inside the API process and the
  counts are kept in that process.
- At scrape time (`Probe`): gauges read from the database with one cheap query each (orders by status,
  sync lag). Domain packages say what is measured (a function taking a session); the shell only renders it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from sqlmodel import Session

from retail.redis_client import redis_client

logger = logging.getLogger(__name__)

PREFIX = "winkelpunt"

# `_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# The process's own metrics; the shared and scrape-time ones are added per app by `ScrapeCollector`.
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests served by this process, by method, route template and status code",
    ("method", "route", "status"),
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

# The label of requests that matched no route: their raw paths would make the label set unbounded.
UNMATCHED_ROUTE = "<unmatched>"


# ------------------------------------------------------------------------------------------ shared store


@dataclass(frozen=True)
class SharedMetric:
    name: str
    documentation: str
    kind: str  # "counter" or "gauge"
    labelnames: tuple[str, ...] = ()


TASK_FAILURES = SharedMetric(
    f"{PREFIX}_task_failures", "Celery tasks that raised, by task name, in any worker", "counter", ("task",)
)
RECONCILIATION_DRIFT = SharedMetric(
    f"{PREFIX}_stock_reserved_drift_rows",
    "Stock rows whose `reserved` the last reconciliation found out of line with the live orders",
    "gauge",
)
RECONCILIATION_REPAIRED = SharedMetric(
    f"{PREFIX}_stock_reserved_repaired_rows",
    "Stock rows the reconciliation has repaired since the counters began",
    "counter",
)
RECONCILIATION_LAST_RUN = SharedMetric(
    f"{PREFIX}_stock_reconciliation_last_run_timestamp_seconds",
    "Unix time of the last completed reconciliation of `reserved`",
    "gauge",
)
SHARED_METRICS = (TASK_FAILURES, RECONCILIATION_DRIFT, RECONCILIATION_REPAIRED, RECONCILIATION_LAST_RUN)

_REDIS_KEY = f"{PREFIX}:metrics:"
_LABEL_SEPARATOR = "\x1f"


class SharedCounters:
    """Counters and gauges kept in Redis (one hash per metric, one field per label set), or in this process
    without Redis. Writes never raise: a metric must not fail the task it measures."""

    def __init__(self) -> None:
        self._local: dict[str, dict[str, float]] = defaultdict(dict)
        self._lock = threading.Lock()

    def inc(self, metric: SharedMetric, amount: float = 1.0, labels: tuple[str, ...] = ()) -> None:
        self._write(metric, labels, amount, add=True)

    def set(self, metric: SharedMetric, value: float, labels: tuple[str, ...] = ()) -> None:
        self._write(metric, labels, value, add=False)

    def _write(self, metric: SharedMetric, labels: tuple[str, ...], value: float, *, add: bool) -> None:
        field = _LABEL_SEPARATOR.join(labels)
        client = redis_client()
        if client is not None:
            try:
                if add:
                    client.hincrbyfloat(_REDIS_KEY + metric.name, field, value)
                else:
                    client.hset(_REDIS_KEY + metric.name, field, value)
                return
            except RedisError:
                logger.warning("could not write %s in Redis; kept in this process", metric.name)
        with self._lock:
            values = self._local[metric.name]
            values[field] = values.get(field, 0.0) + value if add else value

    def read(self, metric: SharedMetric) -> dict[tuple[str, ...], float]:
        """Every label set's value: Redis's, with this process's own (counted while Redis was away) added."""
        values: dict[tuple[str, ...], float] = {}
        client = redis_client()
        if client is not None:
            try:
                stored: Mapping[bytes, bytes] = client.hgetall(_REDIS_KEY + metric.name)  # type: ignore[assignment]
                values = {_labels(f.decode(), metric): float(v) for f, v in stored.items()}
            except RedisError:
                logger.warning("could not read %s from Redis", metric.name)
        with self._lock:
            for field, value in self._local.get(metric.name, {}).items():
                key = _labels(field, metric)
                if metric.kind == "counter":
                    values[key] = values.get(key, 0.0) + value
                else:
                    values.setdefault(key, value)
        return values

    def clear(self) -> None:
        """Forget every value (tests)."""
        client = redis_client()
        if client is not None:
            with contextlib.suppress(RedisError):
                client.delete(*(_REDIS_KEY + m.name for m in SHARED_METRICS))
        with self._lock:
            self._local.clear()


def _labels(field: str, metric: SharedMetric) -> tuple[str, ...]:
    return tuple(field.split(_LABEL_SEPARATOR)) if metric.labelnames else ()


shared = SharedCounters()


# --------------------------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class Probe:
    """A gauge read from the database at scrape time: `read` answers `{label values: value}`."""

    name: str
    documentation: str
    labelnames: tuple[str, ...]
    read: Callable[[Session], Mapping[tuple[str, ...], float]]


class ScrapeCollector(Collector):
    """Renders the shared metrics and the probes at each scrape, in one database transaction."""

    def __init__(self, probes: Iterable[Probe], session: Session) -> None:
        self._probes = list(probes)
        self._session = session

    def collect(self) -> Iterator[Metric]:
        for metric in SHARED_METRICS:
            family: CounterMetricFamily | GaugeMetricFamily
            if metric.kind == "counter":
                family = CounterMetricFamily(metric.name, metric.documentation, labels=metric.labelnames)
            else:
                family = GaugeMetricFamily(metric.name, metric.documentation, labels=metric.labelnames)
            for labels, value in sorted(shared.read(metric).items()):
                family.add_metric(list(labels), value)
            yield family
        if not self._probes:
            return
        up = GaugeMetricFamily(
            f"{PREFIX}_database_probe_up", "1 when the scrape-time database queries answered, else 0"
        )
        families: list[GaugeMetricFamily] = []
        try:
            for probe in self._probes:
                gauge = GaugeMetricFamily(probe.name, probe.documentation, labels=probe.labelnames)
                for labels, value in sorted(probe.read(self._session).items()):
                    gauge.add_metric(list(labels), value)
                families.append(gauge)
            up.add_metric([], 1)
        except Exception:  # an unreachable database must not turn the scrape into a 500
            logger.warning("the scrape-time database probes failed", exc_info=True)
            self._session.rollback()
            families = []
            up.add_metric([], 0)
        yield up
        yield from families
