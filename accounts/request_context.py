"""The current request's id and client address, for audit rows and log lines.

Set by ``RequestIdMiddleware`` for web requests and by ``bind_request_id`` in tasks
and commands; services read it through ``current``.
"""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import structlog


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("request_context", default=RequestContext())


def current() -> RequestContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bind_request_id(request_id: str | None = None, ip_address: str | None = None):
    ctx = RequestContext(request_id=request_id or new_request_id(), ip_address=ip_address)
    token = _current.set(ctx)
    structlog.contextvars.bind_contextvars(request_id=ctx.request_id)
    try:
        yield ctx
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
        _current.reset(token)
