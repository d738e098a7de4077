"""Time-ordered UUIDs (version 7 of RFC 9562) for the keys the tracker indexes.

A version 4 key falls anywhere in its unique index, and in the change feed's
index of (entity, key): each insert dirties a random page of both. Once those
indexes outgrow the database's cache, every write may wait on a page read
back and another written out, and writes slow down as the data grows.
A version 7 key starts with the time it was made, in milliseconds, so keys
made one after another sit side by side and the pages being written stay few.
The other 74 bits are random, as unguessable as a key needs to be here: an
assessment's key names it, it grants nothing.
"""

from __future__ import annotations

import secrets
import time
import uuid

_TIME_BITS = 48
_LOW_BITS = 80  # version, 12 random bits, variant, 62 random bits


def time_ordered(random_bits: int, unix_ms: int) -> uuid.UUID:
    """The version 7 UUID of `unix_ms`, filled from the low bits of `random_bits`."""
    if not 0 <= unix_ms < 1 << _TIME_BITS:
        raise ValueError(f"{unix_ms} ms is outside the 48 bits of a version 7 UUID")
    value = unix_ms << _LOW_BITS | random_bits & ((1 << _LOW_BITS) - 1)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant, 10
    return uuid.UUID(int=value)


def uuid7() -> uuid.UUID:
    """A new version 7 UUID for now: the default key of records the tracker indexes by key."""
    return time_ordered(secrets.randbits(_LOW_BITS), time.time_ns() // 1_000_000)
