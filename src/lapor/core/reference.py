"""Reference data kept in each process for a short while: the admins' holiday overrides, the
institutions' deadline overrides, the national institution.

Every service call that starts a clock needs them, and they change a few times a year, so reading
them on every call is most of the cost of a report's lifecycle spent on answers that never change.
An entry lives ``REFERENCE_CACHE_SECONDS`` (default 60; 0 turns the cache off). A write in this
process (admin, service, shell, test) empties the whole cache at once, through the models' save and
delete signals (connected in `lapor.core.apps`); other processes see the change when their entries
expire, so a new holiday decree reaches every worker within a minute, long before the days it moves.

A write inside a transaction may yet be rolled back: until that transaction ends, this thread reads
the tables directly and stores nothing, and the first read after it ends starts from an empty cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction

T = TypeVar("T")
DEFAULT_SECONDS = 60.0

_entries: dict[Hashable, tuple[float, Any]] = {}
_lock = threading.Lock()
_thread = threading.local()  # .pending_write: set while a transaction that wrote reference data is open


def monotonic_now() -> float:
    return time.monotonic()


def lifetime() -> float:
    return float(getattr(settings, "REFERENCE_CACHE_SECONDS", DEFAULT_SECONDS))


def cached(key: Hashable, load: Callable[[], T], *, keep: Callable[[T], bool] | None = None) -> T:
    """The value stored under ``key`` while it is fresh; otherwise ``load()``, stored unless ``keep``
    says no (e.g. an empty answer to a key a visitor chose, so that made-up keys fill no memory)."""
    seconds = lifetime()
    if seconds <= 0:
        return load()
    pending = getattr(_thread, "pending_write", None)
    if pending is not None:
        if _transaction_open(pending):
            return load()
        _thread.pending_write = None
        clear()
    now = monotonic_now()
    entry = _entries.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    if keep is not None and not keep(value):
        return value
    with _lock:
        _entries[key] = (now + seconds, value)
    return value


def clear() -> None:
    """Forget every entry."""
    with _lock:
        _entries.clear()


def reset() -> None:
    """Forget every entry and any write this thread was waiting for (between tests)."""
    clear()
    _thread.pending_write = None


def changed(*_args: Any, **_kwargs: Any) -> None:
    """Receiver of the save and delete signals of reference models: forget every entry, and store no
    new ones in this thread until its transaction (if one is open) ends."""
    clear()
    if connection.in_atomic_block:
        # The transaction ends by committing (which runs its hooks) or rolling back (which drops
        # them): while the hook is still waiting, the write is neither in for good nor undone.
        hook = _CommitHook()
        transaction.on_commit(hook)
        _thread.pending_write = hook


class _CommitHook:
    def __call__(self) -> None:
        clear()


def _transaction_open(hook: _CommitHook) -> bool:
    # (savepoint ids, function, robust) per hook; the stubs still describe the two-item form.
    hooks: list[Any] = connection.run_on_commit
    return connection.in_atomic_block and any(waiting is hook for _ids, waiting, _robust in hooks)
