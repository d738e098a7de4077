"""Tamper evidence for published assessments: a hash chain per recommendation.

When an assessment is published it gets the next `chain_position` of its
recommendation, the `record_hash` of the previously published assessment of
that recommendation as `previous_hash` (64 zeros for the first), and its own

    record_hash = SHA-256( canonical_json(assessment) )

where `canonical_json` is the UTF-8 JSON of the fields below, keys sorted, no
whitespace (separators "," and ":"), non-ASCII characters kept as they are,
dates and times in ISO 8601 (times in UTC with microseconds), foreign keys as
the referenced row's id (null when empty). `previous_hash` and
`chain_position` are part of the hashed fields, so changing, removing or
reordering any published assessment breaks every later link.
`python manage.py verify_history` recomputes every chain.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from recommendations.models import StatusAssessment

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "key",
    "recommendation_id",
    "assessor_id",
    "status",
    "status_since",
    "evidence",
    "evidence_url",
    "source_id",
    "visibility",
    "corrects_id",
    "correction_reason",
    "recorded_by_id",
    "recorded_at",
    "submitted_at",
    "review_state",
    "reviewed_by_id",
    "reviewed_at",
    "review_note",
    "chain_position",
    "previous_hash",
)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)  # UUIDs


def canonical_json(assessment: StatusAssessment) -> bytes:
    document = {field: _canonical_value(getattr(assessment, field)) for field in HASHED_FIELDS}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def record_hash(assessment: StatusAssessment) -> str:
    return hashlib.sha256(canonical_json(assessment)).hexdigest()
