"""The operators' health endpoint (``/health/``), built on django-health-check's v4 checks.

Components: the database (a query), Redis (only when ``REDIS_URL`` is set; the embedded
demo has none and that is not a failure) and the workers, proven by the heartbeat row
that beat and a worker write every minute (``accounts.tasks.record_worker_heartbeat``).
A broker ping would prove neither beat nor a worker, and cannot work on the demo's
filesystem transport.

The answer is JSON, 200 when every component is healthy and 503 otherwise. It needs no
login, so it names no host, port, database or exception text: details go to the log.
"""

import asyncio
import dataclasses
import datetime
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.contrib.redis import Redis
from health_check.exceptions import HealthCheckException, ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from accounts.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class _ExpectedFailuresOnOneLine(logging.Filter):
    """The library logs every failed check with a traceback; a known failure (no heartbeat
    yet, Redis down) says all it has to say in one line, and probes repeat it every few seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], HealthCheckException):
            record.msg = f"{record.getMessage()}: {record.exc_info[1]}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


logging.getLogger("health_check").addFilter(_ExpectedFailuresOnOneLine())

# Beat sends the heartbeat every minute; three missed minutes mean beat or every worker is down.
HEARTBEAT_MAX_AGE = datetime.timedelta(minutes=3)
REDIS_NOT_CONFIGURED = "not configured (embedded broker)"


@dataclasses.dataclass
class DatabaseQuery(HealthCheck):
    """``SELECT 1`` on the default database, in the request's thread (Django's connection handling)."""

    component = "database"

    async def run(self) -> None:
        try:
            await sync_to_async(self._select_one)()
        except DatabaseError as exc:
            logger.warning("Health check: database query failed: %s", exc)
            raise ServiceUnavailable("database query failed") from exc

    @staticmethod
    def _select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise DatabaseError("SELECT 1 returned an unexpected row")


@dataclasses.dataclass
class RedisPing(Redis):
    """django-health-check's Redis ping, against ``settings.REDIS_URL``."""

    component = "redis"


@dataclasses.dataclass
class RedisNotConfigured(HealthCheck):
    """Stands in for Redis in the embedded demo: nothing to check, and healthy."""

    component = "redis"
    note = REDIS_NOT_CONFIGURED

    async def run(self) -> None:
        return None


@dataclasses.dataclass
class WorkerHeartbeatCheck(HealthCheck):
    """Fails when the newest heartbeat is missing or older than ``HEARTBEAT_MAX_AGE``."""

    component = "worker"
    max_age: datetime.timedelta = dataclasses.field(default=HEARTBEAT_MAX_AGE, repr=False)
    age: datetime.timedelta | None = dataclasses.field(default=None, init=False, repr=False)

    async def run(self) -> None:
        try:
            last = await WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).afirst()
        except DatabaseError as exc:
            logger.warning("Health check: heartbeat query failed: %s", exc)
            raise ServiceUnavailable("heartbeat unknown (database query failed)") from exc
        if last is None:
            raise ServiceUnavailable("no heartbeat yet (are beat and a worker running?)")
        self.age = max(timezone.now() - last, datetime.timedelta(0))
        if self.age > self.max_age:
            raise ServiceUnavailable(
                f"last heartbeat {int(self.age.total_seconds())} s ago "
                f"(limit {int(self.max_age.total_seconds())} s): beat or workers are down"
            )


def _redis_client() -> RedisClient:
    return RedisClient.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3)


class HealthView(HealthCheckView):
    """Runs the checks concurrently (the library's view) and answers in one JSON shape."""

    def get_checks(self):
        yield DatabaseQuery()
        if settings.REDIS_URL:
            yield RedisPing(client_factory=_redis_client)
        else:
            yield RedisNotConfigured()
        yield WorkerHeartbeatCheck()

    async def get(self, request, *args, **kwargs):
        results = await asyncio.gather(*(check.get_result() for check in self.get_checks()))
        components = {}
        for result in results:
            check = result.check
            entry = {"status": "error" if result.error else "ok"}
            if result.error:
                # Messages of our checks and of the library's Redis check are fixed texts.
                entry["detail"] = result.error.message
            elif getattr(check, "note", ""):
                entry["detail"] = check.note
            if isinstance(check, WorkerHeartbeatCheck) and check.age is not None:
                entry["last_heartbeat_age_seconds"] = int(check.age.total_seconds())
            components[check.component] = entry
        healthy = not any(result.error for result in results)
        return JsonResponse(
            {"status": "ok" if healthy else "error", "components": components},
            status=200 if healthy else 503,
            json_dumps_params={"ensure_ascii": False},
        )
