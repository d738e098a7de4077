"""The transactions of services, and of callers that give up all of theirs at any error.

A service runs in a transaction of its own, and inside a caller's
transaction in a savepoint: a caller may catch the service's error (a
refused status as much as a failed statement) and go on, the service's
part undone and the rest of the caller's transaction usable. A caller that
never goes on after an error says so with `all_or_nothing`: the services it
calls then take no savepoint, each of which costs two round trips to the
database: the API's idempotent write recorded 295 and 307 assessments a
second with the service's savepoint, 335 and 359 without, in alternating
runs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")

# False inside `all_or_nothing`: a service there takes no savepoint of its own.
_savepoints: ContextVar[bool] = ContextVar("service_savepoints", default=True)


def service_transaction(service: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic` for a service: a savepoint in a caller's transaction, unless
    the caller runs `all_or_nothing`."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(savepoint=_savepoints.get()):
            return service(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """A transaction that any error inside undoes whole: its services take no savepoint.

    Its caller must not catch an error raised inside and go on within it;
    the transaction is then marked for rollback, and Django refuses any
    further query until the block ends. Inside another, it is part of that
    one and takes no savepoint: any error undoes the outer whole anyway.
    """
    with transaction.atomic(savepoint=_savepoints.get()):
        token = _savepoints.set(False)
        try:
            yield
        finally:
            _savepoints.reset(token)
