"""Dates known only to a month or a year."""

from __future__ import annotations

import datetime

from django.utils import formats

from tracker.choices import DatePrecision


def format_partial_date(value: datetime.date | None, precision: str) -> str:
    """Render a date only to the precision its source gives."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    return formats.date_format(value, "DATE_FORMAT")


def truncated_to_precision(value: datetime.date, precision: str) -> bool:
    """True when a date carries no more detail than its precision claims."""
    if precision == DatePrecision.YEAR:
        return value.month == 1 and value.day == 1
    if precision == DatePrecision.MONTH:
        return value.day == 1
    return True
