"""The change feed's documents of every synced entity, built from plain rows.

A feed page through the API's serializers spent most of its time creating
model instances and running DRF fields, once per event. Here each entity type
of a page is one `.values_list()` query for the page's keys, each related list
one more query for all of them, and the documents plain dicts of JSON types
that orjson encodes as they are. They are the serializers' documents key for
key; `tests/api/test_feed.py` holds each builder equal to its serializer, for
several clients, with confidential evidence, drafts, nulls and another
language. The recommendations' documents are the list page's
(`recommendations.api_lists`).

Every builder takes the keys the page names and the reading client's request
and answers {key: document} for those that exist and the client may see; a
key left out shows as null in the feed, as a deleted record does. The
queries drop the models' default ordering (`order_by()`): documents by key
need none, and some orderings cost a join and a sort.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import ManyToManyField, Model, Q, QuerySet
from django.utils import timezone
from modeltranslation.manager import MultilingualQuerySet
from rest_framework.request import Request

from instruments.api import PROVISION_KEY_SEPARATOR, provision_key
from instruments.models import (
    CITATION_TARGETS,
    Citation,
    Instrument,
    InstrumentRelation,
    Provision,
    Source,
    TreatyParticipation,
)
from recommendations.api import assessment_scope, assessments_for_api, assessments_in_scope
from recommendations.api_lists import (
    ArrayQuery,
    OneOf,
    UtcText,
    UuidText,
    assessment_document,
    local_moment,
    provision_links,
    recommendation_documents_by_code,
)
from recommendations.models import Concern, StatusAssessment, Theme
from recommendations.serializers import readable_visibilities
from tracker.models import Organisation

Document = dict[str, Any]
DocumentsByKey = dict[str, Document]
DocumentBuilder = Callable[[Sequence[str], Request], DocumentsByKey]


def _date(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def encoded_moment(value: datetime.datetime) -> str:
    """A time as DRF's JSON encoder writes it: ISO 8601 in the value's own zone, UTC as `Z`.

    The feed's `changed_at` was always written so, in UTC whatever the active
    zone, since it reached the renderer as a datetime rather than through a field.
    """
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _country(value: Any) -> str:
    return str(value or "")


def _grouped(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows whose first column is their owner's id, as lists by owner, in query order."""
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _related_keys(
    owner: type[Model], relation: str, column: str, ids: Sequence[int]
) -> dict[int, list[str]]:
    """One many-to-many list per owner, in the related model's own ordering.

    Through the related model's manager, as a prefetch goes, so that
    modeltranslation orders themes by their name in the active language; `id`
    breaks the ties a prefetch left to the database.
    """
    field = owner._meta.get_field(relation)
    if not isinstance(field, ManyToManyField):
        raise TypeError(f"{relation} is not a many-to-many field of {owner.__name__}")
    model: type[Model] = field.related_model
    reverse_name = field.related_query_name()
    ordered = model._default_manager.filter(OneOf(reverse_name, ids)).order_by(
        *(model._meta.ordering or []), "id"
    )
    if isinstance(ordered, MultilingualQuerySet):
        # Ordered by the translated name already; the plain key column needs no fallback.
        ordered = ordered.rewrite(False)
    grouped: dict[int, list[str]] = defaultdict(list)
    for owner_id, value in ordered.values_list(reverse_name, column):
        grouped[owner_id].append(value)
    return grouped


def _in_default_order(model: type[Model]) -> list[Any]:
    """The model's own ordering, which its prefetches used, with `id` for the ties."""
    return [*(model._meta.ordering or []), "id"]


# Entities without related lists ---------------------------------------------------


def organisation_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    rows = (
        Organisation.objects.filter(OneOf("slug", keys))
        .order_by()
        .values_list(
            "slug", "name", "acronym", "kind", "parent__slug", "country", "description", "website"
        )
    )
    return {
        slug: {
            "slug": slug,
            "name": name,
            "acronym": acronym,
            "kind": kind,
            "parent": parent,
            "country": _country(country),
            "description": description,
            "website": website,
        }
        for slug, name, acronym, kind, parent, country, description, website in rows
    }


def source_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    rows = (
        Source.objects.filter(OneOf("key", keys))
        .order_by()
        .values_list(
            "key",
            "title",
            "kind",
            "published_on",
            "published_on_precision",
            "publisher__slug",
            "author",
            "language",
            "url",
            "description",
        )
    )
    return {
        key: {
            "key": key,
            "title": title,
            "kind": kind,
            "published_on": _date(published_on),
            "published_on_precision": precision,
            "publisher": publisher,
            "author": author,
            "language": language,
            "url": url,
            "description": description,
        }
        for (
            key,
            title,
            kind,
            published_on,
            precision,
            publisher,
            author,
            language,
            url,
            description,
        ) in rows
    }


def provision_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    # One condition per instrument rather than per key (`provisions_by_keys`):
    # a page of provisions is mostly one instrument's articles.
    eids_by_instrument: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        instrument_slug, _separator, eid = key.partition(PROVISION_KEY_SEPARATOR)
        eids_by_instrument[instrument_slug].append(eid)
    condition = Q(pk__in=[])
    for instrument_slug, eids in eids_by_instrument.items():
        condition |= Q(OneOf("eid", eids), instrument__slug=instrument_slug)
    rows = (
        Provision.objects.filter(condition)
        .order_by()
        .values_list("instrument__slug", "eid", "parent__eid", "label", "heading", "text")
    )
    documents: DocumentsByKey = {}
    for instrument, eid, parent, label, heading, text in rows:
        key = provision_key(instrument, eid)
        documents[key] = {
            "key": key,
            "instrument": instrument,
            "eid": eid,
            "parent": parent,
            "label": label,
            "heading": heading,
            "text": text,
        }
    return documents


# The columns of each citation target's natural key, in `natural_key()`'s order.
CITATION_TARGET_KEYS: dict[str, tuple[str, ...]] = {
    "organisation": ("organisation__slug",),
    "described_source": ("described_source__key",),
    "instrument": ("instrument__slug",),
    "instrument_relation": (
        "instrument_relation__subject__slug",
        "instrument_relation__kind",
        "instrument_relation__target__slug",
    ),
    "treaty_participation": (
        "treaty_participation__instrument__slug",
        "treaty_participation__country",
        "treaty_participation__status",
    ),
    "provision": ("provision__instrument__slug", "provision__eid"),
    "theme": ("theme__slug",),
    "recommendation": ("recommendation__code",),
    "concern": ("concern__code",),
    "provision_link": ("provision_link__key",),
}


def citation_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    # Per target its id, whose presence decides, then its natural key's columns.
    target_columns = [
        column
        for name in CITATION_TARGETS
        for column in (f"{name}_id", *CITATION_TARGET_KEYS[name])
    ]
    rows = (
        Citation.objects.filter(OneOf("key", keys))
        .order_by()
        .values_list(
            "key", "source__key", "quote", "claim_field", "claim_value", "note", *target_columns
        )
    )
    documents: DocumentsByKey = {}
    for row in rows:
        key, source, quote, claim_field, claim_value, note = row[:6]
        supports: dict[str, str] = {}
        position = 6
        for name in CITATION_TARGETS:
            width = len(CITATION_TARGET_KEYS[name])
            if row[position] is not None:
                natural_key = row[position + 1 : position + 1 + width]
                supports = {
                    "type": name,
                    "key": PROVISION_KEY_SEPARATOR.join(str(part) for part in natural_key),
                }
                break
            position += 1 + width
        documents[key] = {
            "key": key,
            "source": source,
            "quote": quote,
            "claim_field": claim_field,
            "claim_value": claim_value,
            "note": note,
            "supports": supports,
        }
    return documents


def theme_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    rows = (
        Theme.objects.filter(OneOf("slug", keys))
        .order_by()
        .values_list("slug", "name", "description")
    )
    return {
        slug: {"slug": slug, "name": name, "description": description}
        for slug, name, description in rows
    }


# Entities with related lists ------------------------------------------------------


def instrument_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    rows = list(
        Instrument.objects.filter(OneOf("slug", keys))
        .order_by()
        .values_list(
            "id",
            "slug",
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
            "adopted_by__slug",
            "description",
            "url",
        )
    )
    ids = [row[0] for row in rows]
    if not ids:
        return {}
    participations = _grouped(
        TreatyParticipation.objects.filter(OneOf("instrument_id", ids))
        .order_by(*_in_default_order(TreatyParticipation))
        .values_list("instrument_id", "country", "status", "date", "date_precision", "note")
    )
    relations_out = _grouped(
        InstrumentRelation.objects.filter(OneOf("subject_id", ids))
        .order_by(*_in_default_order(InstrumentRelation))
        .values_list("subject_id", "kind", "target__slug", "note")
    )
    relations_in = _grouped(
        InstrumentRelation.objects.filter(OneOf("target_id", ids))
        .order_by(*_in_default_order(InstrumentRelation))
        .values_list("target_id", "subject__slug", "kind", "note")
    )
    documents: DocumentsByKey = {}
    for (
        instrument_id,
        slug,
        title,
        short_title,
        kind,
        jurisdiction,
        country,
        state,
        adopted_on,
        adopted_on_precision,
        in_force_on,
        in_force_on_precision,
        period_start,
        period_end,
        adopted_by,
        description,
        url,
    ) in rows:
        documents[slug] = {
            "slug": slug,
            "title": title,
            "short_title": short_title,
            "kind": kind,
            "jurisdiction": jurisdiction,
            "country": _country(country),
            "state": state,
            "adopted_on": _date(adopted_on),
            "adopted_on_precision": adopted_on_precision,
            "in_force_on": _date(in_force_on),
            "in_force_on_precision": in_force_on_precision,
            "period_start": _date(period_start),
            "period_end": _date(period_end),
            "adopted_by": adopted_by,
            "description": description,
            "url": url,
            "participations": [
                {
                    "country": _country(country),
                    "status": status,
                    "date": _date(date),
                    "date_precision": date_precision,
                    "note": note,
                }
                for country, status, date, date_precision, note in participations.get(
                    instrument_id, []
                )
            ],
            "relations": [
                {"kind": kind, "target": target, "note": note}
                for kind, target, note in relations_out.get(instrument_id, [])
            ],
            "related_from": [
                {"subject": subject, "kind": kind, "note": note}
                for subject, kind, note in relations_in.get(instrument_id, [])
            ],
        }
    return documents


def concern_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    rows = list(
        Concern.objects.filter(OneOf("code", keys))
        .order_by()
        .values_list(
            "id",
            "code",
            "text",
            "raised_by__slug",
            "raised_on",
            "raised_on_precision",
            "source__key",
            "country",
            UtcText("created_at"),
            UtcText("updated_at"),
        )
    )
    ids = [row[0] for row in rows]
    if not ids:
        return {}
    themes = _related_keys(Concern, "themes", "slug", ids)
    answered_by = _related_keys(Concern, "answered_by", "code", ids)
    links = provision_links("concern_id", ids)
    zone = timezone.get_current_timezone()
    return {
        code: {
            "code": code,
            "text": text,
            "raised_by": raised_by,
            "raised_on": _date(raised_on),
            "raised_on_precision": raised_on_precision,
            "source": source,
            "country": _country(country),
            "themes": themes.get(concern_id, []),
            "answered_by": answered_by.get(concern_id, []),
            "provision_links": links.get(concern_id, []),
            "created_at": local_moment(created_at, zone),
            "updated_at": local_moment(updated_at, zone),
        }
        for (
            concern_id,
            code,
            text,
            raised_by,
            raised_on,
            raised_on_precision,
            source,
            country,
            created_at,
            updated_at,
        ) in rows
    }


def recommendation_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    """The list page's documents, which show no evidence, so are the same for every client."""
    return recommendation_documents_by_code(keys)


def _assessment_rows(keys: list[str], *scope: Any) -> QuerySet[StatusAssessment]:
    # The array first, then the scope's values: the order `ArrayQuery` asks for.
    return (
        assessments_in_scope(assessments_for_api().filter(OneOf("key", keys)), *scope)
        .order_by()
        .values_list(
            UuidText("key"),
            "recommendation__code",
            "assessor__slug",
            "status",
            "status_since",
            "evidence",
            "evidence_url",
            "visibility",
            "source__key",
            UuidText("corrects__key"),
            "correction_reason",
            "review_state",
            UtcText("recorded_at"),
            UtcText("submitted_at"),
            UtcText("reviewed_at"),
        )
    )


_ASSESSMENTS = ArrayQuery(StatusAssessment, _assessment_rows)


def assessment_documents(keys: Sequence[str], request: Request) -> DocumentsByKey:
    """The assessments this client may see, with evidence it may not read withheld.

    Which assessments, and whose evidence, are decided by the same scope and
    the same rights as the serializer's (`assessment_scope`, as
    `assessments_visible_to` filters, and `readable_visibilities`), by a
    query compiled once for each kind of client (`ArrayQuery`): compiling it
    took 0.7 to 0.8 ms of CPU for a page of 500 keys.
    """
    readable = readable_visibilities({"request": request})
    rows = _ASSESSMENTS.rows(keys, *assessment_scope(request.user))
    zone = timezone.get_current_timezone()
    documents: DocumentsByKey = {}
    for (
        key,
        recommendation,
        assessor,
        status,
        status_since,
        evidence,
        evidence_url,
        visibility,
        source,
        corrects,
        correction_reason,
        review_state,
        recorded_at,
        submitted_at,
        reviewed_at,
    ) in rows:
        documents[key] = assessment_document(
            key=key,
            recommendation=recommendation,
            assessor=assessor,
            status=status,
            status_since=status_since,
            evidence=evidence,
            evidence_url=evidence_url,
            visibility=visibility,
            source=source,
            corrects=corrects,
            correction_reason=correction_reason,
            review_state=review_state,
            recorded_at=local_moment(recorded_at, zone),
            submitted_at=local_moment(submitted_at, zone),
            reviewed_at=local_moment(reviewed_at, zone),
            readable=readable,
        )
    return documents
