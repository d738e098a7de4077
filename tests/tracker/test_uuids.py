"""Version 7 keys: the RFC's layout, and keys made later sorting after earlier ones."""

from __future__ import annotations

import datetime
import time

import pytest

from tracker.uuids import time_ordered, uuid7


def test_layout_is_version_7_with_the_rfc_variant() -> None:
    key = time_ordered((1 << 128) - 1, 0x0123_4567_89AB)
    assert key.version == 7
    assert key.variant == "specified in RFC 4122"
    # The first 48 bits are the time, as given.
    assert key.int >> 80 == 0x0123_4567_89AB
    assert str(key).startswith("01234567-89ab-7")


def test_random_bits_fill_everything_but_time_version_and_variant() -> None:
    zeros, ones = time_ordered(0, 5), time_ordered((1 << 128) - 1, 5)
    # 12 bits after the version, 62 after the variant.
    assert bin(zeros.int ^ ones.int).count("1") == 74


def test_the_time_part_is_the_millisecond_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    key = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= key.int >> 80 <= after
    made = datetime.datetime.fromtimestamp((key.int >> 80) / 1000, tz=datetime.UTC)
    assert abs(made - datetime.datetime.now(tz=datetime.UTC)) < datetime.timedelta(seconds=5)


def test_keys_of_later_milliseconds_sort_after_earlier_ones() -> None:
    keys = [time_ordered(bits, 1_700_000_000_000 + n) for n, bits in enumerate([9, 3, 7, 1, 5])]
    assert sorted(keys) == keys
    assert sorted(str(key) for key in keys) == [str(key) for key in keys]


@pytest.mark.parametrize("unix_ms", [-1, 1 << 48])
def test_a_time_outside_48_bits_is_refused(unix_ms: int) -> None:
    with pytest.raises(ValueError, match="48 bits"):
        time_ordered(0, unix_ms)
