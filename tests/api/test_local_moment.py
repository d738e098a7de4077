"""`local_moment` writes a UTC text as DRF writes the datetime, in any zone, by joining text."""

from __future__ import annotations

import datetime
import random
import zoneinfo

import pytest

from recommendations.api_lists import _local_hour, _local_hours, _moment, local_moment

# Whole-hour offsets with summer time, half and quarter hours, a half-hour
# summer time, a zone with local mean time before 1924, one that changed its
# clocks one minute after local midnight until 2011 (in the middle of a UTC
# hour), and UTC.
ZONES = [
    "UTC",
    "America/Goose_Bay",
    "Asia/Almaty",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
]


def utc_text(moment: datetime.datetime) -> str:
    """As `UtcText` reads a time on PostgreSQL: six digits of fraction, `+00:00`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def moments(seed: int) -> list[datetime.datetime]:
    rng = random.Random(seed)  # noqa: S311 (times to convert, not secrets)
    start = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
    found = []
    for _ in range(3000):
        moment = start + datetime.timedelta(seconds=rng.randrange(4_400_000_000))
        found.append(moment.replace(microsecond=rng.choice([0, rng.randrange(1, 1_000_000)])))
    return found


@pytest.mark.parametrize("zone_name", ZONES)
def test_it_writes_what_drf_writes_at_random_times(zone_name: str) -> None:
    zone = zoneinfo.ZoneInfo(zone_name)
    for moment in moments(len(zone_name)):
        assert local_moment(utc_text(moment), zone) == _moment(moment, zone), moment


@pytest.mark.parametrize("zone_name", ZONES)
def test_it_writes_what_drf_writes_around_every_change_of_offset(zone_name: str) -> None:
    """Each second on either side of every change of 1990 to 2030, and a minute around."""
    zone = zoneinfo.ZoneInfo(zone_name)
    moment = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
    changes = 0
    while moment.year < 2030:
        later = moment + datetime.timedelta(hours=1)
        if moment.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            changes += 1
            for seconds in range(-3600, 3601, 1 if changes < 3 else 37):
                around = later + datetime.timedelta(seconds=seconds, microseconds=250_000)
                assert local_moment(utc_text(around), zone) == _moment(around, zone), around
        moment = later
    assert changes > 0 or zone_name in {"UTC", "Asia/Kathmandu"}


def test_it_leaves_out_a_zero_fraction_and_writes_utc_as_z() -> None:
    utc = zoneinfo.ZoneInfo("UTC")
    almaty = zoneinfo.ZoneInfo("Asia/Almaty")
    assert local_moment("2025-01-02T03:04:05.000000+00:00", utc) == "2025-01-02T03:04:05Z"
    late = local_moment("2025-01-02T23:04:05.000100+00:00", almaty)
    assert late == "2025-01-03T04:04:05.000100+05:00"
    assert local_moment(None, utc) is None


def test_text_of_another_form_is_converted_as_a_datetime() -> None:
    """SQLite's text has a space and no fraction when it is zero."""
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    assert local_moment("2025-07-01 10:00:00+00:00", zone) == "2025-07-01T12:00:00+02:00"
    assert local_moment("2025-07-01 10:00:00.5+00:00", zone) == "2025-07-01T12:00:00.500000+02:00"


def test_hours_whose_offset_is_not_whole_or_changes_are_left_to_the_datetime() -> None:
    # Kathmandu is 5:45 ahead; Berlin moved its clocks at 01:00 UTC on 30 March 2025.
    kathmandu = zoneinfo.ZoneInfo("Asia/Kathmandu")
    assert {_local_hour("2025-03-30", hour, kathmandu) for hour in range(24)} == {None}
    berlin = [
        _local_hour("2025-03-30", hour, zoneinfo.ZoneInfo("Europe/Berlin")) for hour in range(24)
    ]
    assert berlin[0] == ("2025-03-30T01", "+01:00")
    assert berlin[1] == ("2025-03-30T03", "+02:00")
    assert None not in berlin
    # Almaty left local mean time (+05:07:48) at 18:52:12 UTC on 1 May 1924.
    zone = zoneinfo.ZoneInfo("Asia/Almaty")
    assert _local_hour("1924-05-01", 17, zone) is None
    assert _local_hour("1924-05-01", 18, zone) is None
    assert _local_hour("1924-05-01", 19, zone) == ("1924-05-02T00", "+05:00")
    moment = datetime.datetime(1924, 5, 1, 18, 52, 11, tzinfo=datetime.UTC)
    for seconds in (0, 1, 2):
        later = moment + datetime.timedelta(seconds=seconds)
        assert local_moment(utc_text(later), zone) == _moment(later, zone)


def test_a_days_hours_are_worked_out_as_they_are_asked_for() -> None:
    zone = zoneinfo.ZoneInfo("Asia/Almaty")
    _local_hours.cache_clear()
    assert local_moment("2025-06-01T07:30:00.000000+00:00", zone) == "2025-06-01T12:30:00+05:00"
    hours = _local_hours("2025-06-01", zone)
    assert hours[7] == ("2025-06-01T12", "+05:00")
    assert [hour for hour in hours if hour is not False] == [hours[7]]
    assert local_moment("2025-06-01T19:00:00.000000+00:00", zone) == "2025-06-02T00:00:00+05:00"
    assert hours[19] == ("2025-06-02T00", "+05:00")
