"""Writes to instruments that are more than a plain save.

The API calls these, so a partner's push and an editor's change check the
same permission, validate the same way and leave the same history.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from instruments.models import Instrument
from tracker.history import recorded_as
from tracker.roles import can_curate
from tracker.services import upsert_fields
from tracker.transactions import service_transaction

# Treaty acts and relations between instruments have their own records; an
# upsert by key replaces only the instrument's own fields.
INSTRUMENT_WRITABLE_FIELDS = (
    "title",
    "short_title",
    "kind",
    "jurisdiction",
    "country",
    "state",
    "adopted_on",
    "adopted_on_precision",
    "in_force_on",
    "in_force_on_precision",
    "period_start",
    "period_end",
    "adopted_by",
    "description",
    "url",
)


@recorded_as(user="user")
@service_transaction
def instrument_upsert(*, user: Any, slug: str, fields: dict[str, Any]) -> tuple[Instrument, bool]:
    """Create the instrument with key `slug`, or replace the given fields; True if created.

    Fields left out keep their values. Writing the same fields twice changes
    nothing the second time (no save, so no history row and no feed entry),
    so a batch pushed twice ends the same.
    """
    if not can_curate(user, "instruments", "instrument"):
        raise PermissionDenied(_("You may not curate instruments."))
    return upsert_fields(Instrument, {"slug": slug}, fields, INSTRUMENT_WRITABLE_FIELDS)
