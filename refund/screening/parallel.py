"""Running independent pieces of a set-based job on several database connections at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

T = TypeVar("T")
R = TypeVar("R")


def in_parallel(work: Callable[[T], R], items: Iterable[T], *, workers: int) -> list[R]:
    """``work(item)`` for each item, ``workers`` at a time, each thread on its own connection.

    Each piece must be its own transaction: the threads do not see the caller's uncommitted
    writes. One worker (or SQLite, whose writers lock the whole file) runs them in turn here.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1 or connection.vendor != "postgresql":
        return [work(item) for item in items]

    def in_thread(item: T) -> R:
        try:
            return work(item)
        finally:
            connection.close()  # the thread's own connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(in_thread, items))
