"""The change feed's triggers: one event per entity and statement, whatever wrote it."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from instruments.choices import RelationKind
from instruments.models import InstrumentRelation
from recommendations import services
from recommendations.choices import LinkRelation
from recommendations.models import ProvisionLink, Recommendation, Theme
from tests import factories
from tracker.models import Change

pytestmark = pytest.mark.postgres


def events_since(last_id: int, entity: str | None = None) -> list[tuple[str, str, str, int]]:
    changes = Change.objects.filter(id__gt=last_id).order_by("id")
    if entity is not None:
        changes = changes.filter(entity=entity)
    return [(c.entity, c.key, c.operation, c.version) for c in changes]


def last_id() -> int:
    return Change.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_a_bulk_insert_update_and_delete_make_one_event_per_row_changed(db):
    start = last_id()
    Theme.objects.bulk_create([Theme(slug=s, name=s) for s in ("b-theme", "a-theme", "c-theme")])
    # One statement, three rows, one of them left as it was.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE recommendations_theme SET name = CASE WHEN slug = 'c-theme' THEN name "
            "ELSE name || '!' END WHERE slug IN ('a-theme', 'b-theme', 'c-theme')"
        )
    Theme.objects.filter(slug__in=["a-theme", "c-theme"]).delete()
    assert events_since(start) == [
        ("theme", "a-theme", "insert", 1),
        ("theme", "b-theme", "insert", 1),
        ("theme", "c-theme", "insert", 1),
        ("theme", "a-theme", "update", 2),
        ("theme", "b-theme", "update", 2),
        ("theme", "a-theme", "delete", 3),
        ("theme", "c-theme", "delete", 2),
    ]


def test_an_update_that_changes_nothing_makes_no_event(issuer):
    rec = factories.recommendation(issuer, "rec-same")
    start = last_id()
    Recommendation.objects.filter(pk=rec.pk).update(text=rec.text)
    assert events_since(start) == []


def test_a_key_changed_in_place_is_a_delete_and_an_insert(db):
    theme = Theme.objects.create(slug="old-slug", name="Old")
    start = last_id()
    Theme.objects.filter(pk=theme.pk).update(slug="new-slug")
    assert events_since(start) == [
        ("theme", "new-slug", "insert", 1),
        ("theme", "old-slug", "delete", 2),
    ]


def test_links_written_in_one_statement_update_their_recommendation_once(issuer):
    law = factories.instrument("law-links")
    provisions = [factories.provision(law, f"art_{n}") for n in (1, 2, 3)]
    rec = factories.recommendation(issuer, "rec-links")
    other = factories.recommendation(issuer, "rec-other")
    start = last_id()
    ProvisionLink.objects.bulk_create(
        [
            ProvisionLink(
                key=f"link-{p.eid}",
                recommendation=rec,
                instrument=law,
                provision=p,
                relation=LinkRelation.TO_CHANGE,
            )
            for p in provisions
        ]
        + [
            ProvisionLink(
                key="link-other",
                recommendation=other,
                instrument=law,
                relation=LinkRelation.TO_CHANGE,
            )
        ]
    )
    assert events_since(start) == [
        ("recommendation", "rec-links", "update", 2),
        ("recommendation", "rec-other", "update", 2),
    ]
    start = last_id()
    ProvisionLink.objects.filter(recommendation=rec).delete()
    assert events_since(start) == [("recommendation", "rec-links", "update", 3)]


def test_a_provision_is_keyed_by_its_instrument_and_path(db):
    law = factories.instrument("law-keys")
    start = last_id()
    factories.provision(law, "art_7__para_2")
    assert events_since(start) == [("provision", "law-keys:art_7__para_2", "insert", 1)]


def test_a_relation_between_instruments_updates_both(db):
    draft = factories.instrument("draft-law")
    law = factories.instrument("adopted-law")
    start = last_id()
    InstrumentRelation.objects.create(subject=draft, kind=RelationKind.BECAME, target=law)
    assert events_since(start) == [
        ("instrument", "adopted-law", "update", 2),
        ("instrument", "draft-law", "update", 2),
    ]


def test_an_assessment_enters_the_feed_when_published(alice, alice_org, editor, issuer):
    rec = factories.recommendation(issuer, "rec-assessed")
    start = last_id()
    draft = services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=alice,
        status="partially_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="A draft law was tabled.",
        submit=True,
    )
    assert events_since(start, "assessment") == []
    services.assessment_publish(assessment=draft, reviewer=editor)
    assert events_since(start, "assessment") == [("assessment", str(draft.key), "insert", 1)]
    # Publishing also makes it the recommendation's current assessment.
    assert ("recommendation", "rec-assessed", "update", 2) in events_since(start)
