"""The change feed: complete, ordered, commit-safe, and filtered per client."""

from __future__ import annotations

import datetime
import gc
import hashlib
import json
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from instruments.models import CITATION_TARGETS, Citation, InstrumentRelation, TreatyParticipation
from recommendations import services as recommendation_services
from recommendations.api import assessment_scope
from recommendations.models import Concern, Theme
from tests import factories
from tests.api.conftest import build_world
from tracker.benchmarking.runner import first_difference
from tracker.feed import (
    CURSOR_SQL,
    ChangeRow,
    committed_change_rows,
    decode_cursor,
    encode_cursor,
    render,
    render_rows,
    synced_entities,
)
from tracker.feed_rows import _ASSESSMENTS
from tracker.models import Change
from tracker.roles import Role

ON_POSTGRES = connection.vendor == "postgresql"

# Tests whose writes really commit, so that other connections see them. Their
# flush empties the role groups too; tests/api/conftest.py puts them back.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed_editor():
    return factories.user("committed-editor", Role.EDITOR)


def read_feed(api, after=None, limit=100):
    params = {"limit": limit}
    if after:
        params["after"] = after
    response = api.get("/api/v1/changes/", params)
    assert response.status_code == 200, response.content
    return response.json()


def drain(api, after=None, limit=100):
    entries = []
    while True:
        page = read_feed(api, after, limit)
        entries += page["results"]
        after = page["next"]
        if not page["results"]:
            return entries, after


def drain_until(api, after, enough, limit=100, timeout=90.0):
    """Read on until `enough(entries)`: a transaction open anywhere on the database
    server (another test run, say) holds the feed back until it ends."""
    entries: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout
    while True:
        more, after = drain(api, after, limit)
        entries += more
        if enough(entries) or time.monotonic() > deadline:
            return entries, after
        time.sleep(0.2)


def themes(entries) -> list[str]:
    return [e["key"] for e in entries if e["entity"] == "theme"]


@pytest.mark.skipif(ON_POSTGRES, reason="checks what SQLite answers")
def test_it_says_on_sqlite_that_the_feed_needs_postgresql(api, editor):
    api.force_authenticate(editor)
    response = api.get("/api/v1/changes/")
    assert response.status_code == 501
    assert "PostgreSQL" in response.json()["errors"][0]["detail"]


@pytest.mark.postgres
@committed
def test_it_reports_inserts_updates_and_deletes_with_versions_and_tombstones(api, committed_editor):
    api.force_authenticate(committed_editor)
    _entries, start = drain(api)
    theme = Theme.objects.create(slug="labour", name="Labour")
    theme.name = "Labour migration"
    theme.save()
    theme.delete()
    entries, _end = drain_until(api, start, lambda entries: len(themes(entries)) >= 3)
    changes = [e for e in entries if e["entity"] == "theme"]
    assert [(e["key"], e["operation"], e["version"]) for e in changes] == [
        ("labour", "insert", 1),
        ("labour", "update", 2),
        ("labour", "delete", 3),
    ]
    assert all(e["data"] is None for e in changes)  # gone now: every entry is a tombstone


@pytest.mark.postgres
@committed
def test_it_reports_a_recommendation_when_its_status_is_published(api, committed_editor):
    editor = committed_editor
    alice_org = factories.organisation("alice-ngo")
    partner = factories.user("pat", Role.PARTNER, factories.organisation("bob-ngo"))
    rec = factories.recommendation(factories.organisation("issuer"), "rec-feed")
    api.force_authenticate(partner)
    _entries, start = drain(api)
    recommendation_services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=editor,
        status="mostly_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="internal notes",
        visibility="internal",
        publish=True,
    )
    entries, _end = drain_until(
        api, start, lambda entries: any(e["entity"] == "assessment" for e in entries)
    )
    kinds = {(e["entity"], e["operation"]) for e in entries}
    assert ("assessment", "insert") in kinds
    assert ("recommendation", "update") in kinds
    assessment = next(e for e in entries if e["entity"] == "assessment")
    assert assessment["data"]["status"] == "mostly_implemented"
    assert assessment["data"]["evidence"] is None  # internal: not for partners
    assert "internal notes" not in str(entries)
    latest = [e for e in entries if e["entity"] == "recommendation"][-1]
    assert latest["data"]["headline_status"] == "mostly_implemented"


@pytest.mark.postgres
def test_it_refuses_a_cursor_it_did_not_issue(api, editor):
    api.force_authenticate(editor)
    for bad in ("garbage!", "bm90LWEtY3Vyc29y"):
        response = api.get("/api/v1/changes/", {"after": bad})
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "after"
    assert api.get("/api/v1/changes/", {"limit": 0}).status_code == 400


def _create_themes_in_one_transaction(slugs, hold: threading.Event | None = None, ready=None):
    try:
        with transaction.atomic():
            for slug in slugs:
                Theme.objects.create(slug=slug, name=slug)
                time.sleep(random.uniform(0, 0.01))  # noqa: S311
            if ready is not None:
                ready.set()
            if hold is not None:
                hold.wait(timeout=30)
    finally:
        connection.close()


@pytest.mark.postgres
@committed
def test_it_holds_back_changes_behind_a_transaction_still_open(committed_editor):
    editor = committed_editor
    api = APIClient()
    api.force_authenticate(editor)
    _entries, start = drain(api)
    hold, ready = threading.Event(), threading.Event()
    late = threading.Thread(target=_create_themes_in_one_transaction, args=(["late"], hold, ready))
    late.start()
    assert ready.wait(timeout=30)
    Theme.objects.create(slug="early", name="early")  # commits after "late" began

    held_back, cursor = drain(api, start)
    assert [e["key"] for e in held_back if e["entity"] == "theme"] == []

    hold.set()
    late.join(timeout=30)
    entries, _end = drain_until(api, cursor, lambda entries: len(themes(entries)) >= 2)
    assert themes(entries) == ["late", "early"]


@pytest.mark.postgres
@committed
def test_it_misses_and_repeats_nothing_under_concurrent_writers(committed_editor):
    editor = committed_editor
    api = APIClient()
    api.force_authenticate(editor)
    _entries, cursor = drain(api)
    batches = [
        [f"w{writer}-{n}-{i}" for i in range(1 + n % 3)] for writer in range(6) for n in range(4)
    ]
    threads = [
        threading.Thread(target=_create_themes_in_one_transaction, args=(batch,))
        for batch in batches
    ]
    for thread in threads:
        thread.start()
    seen: list[str] = []
    while any(thread.is_alive() for thread in threads):
        page = read_feed(api, cursor, limit=3)
        seen += [e["key"] for e in page["results"] if e["entity"] == "theme"]
        cursor = page["next"]
    for thread in threads:
        thread.join()
    expected = [slug for batch in batches for slug in batch]
    rest, _end = drain_until(
        api, cursor, lambda entries: len(seen) + len(themes(entries)) >= len(expected), limit=3
    )
    seen += themes(rest)

    assert len(seen) == len(set(seen)), "a change was served twice"
    assert sorted(seen) == sorted(expected), "a change was missed"


# The documents built from rows (tracker/feed_rows.py) equal the serializers' --------

CONFIDENTIAL = "internal evidence that only reviewers may read"
FOR_PARTNERS = "evidence partners may read"
DRAFT = "a draft nobody outside Alice NGO may see"
ODD_TEXT = 'Quote " backslash \\ tab \t line\u2028paragraph\u2029 \x01 \x7f кириллица 😀'


def build_feed_world(alice_org, bob_org, issuer, editor) -> dict[str, str]:
    """Records of every synced entity in every shape: nulls, empties, ties, translations,
    citations of each kind of target, and assessments of every visibility and review state.

    Returns the keys of the assessments the clients see differently.
    """
    with translation.override("en"):
        return _build_feed_world(alice_org, bob_org, issuer, editor)


def _build_feed_world(alice_org, bob_org, issuer, editor) -> dict[str, str]:
    build_world(2, alice_org, editor)
    office = factories.organisation(
        "issuer-office",
        parent=issuer,
        acronym="IO",
        country="KZ",
        description=ODD_TEXT,
        website="https://example.org/office",
    )
    undated = factories.source(
        "source-undated",
        title="Zulu report",
        title_ru="Альфа доклад",
        language="ru",
        url="https://example.org/report",
        description=ODD_TEXT,
    )
    dated = factories.source(
        "source-dated", publisher=office, published_on=datetime.date(2023, 5, 1)
    )
    treaty = factories.instrument(
        "treaty-odd",
        title="Treaty",
        title_ru="Договор",
        short_title="T",
        kind="convention",
        jurisdiction="international",
        country="",
        adopted_on=datetime.date(1990, 1, 1),
        adopted_on_precision="year",
        adopted_by=issuer,
        description=ODD_TEXT,
    )
    # Subjects whose English and Russian titles sort the other way round.
    zulu = factories.instrument("law-zulu", title="Zulu law", title_ru="Альфа закон")
    alpha = factories.instrument("law-alpha", title="Alpha law", title_ru="Яблоко закон")
    for subject in (zulu, alpha):
        InstrumentRelation.objects.create(subject=subject, kind="implements", target=treaty)
    InstrumentRelation.objects.create(subject=zulu, kind="amends", target=alpha, note=ODD_TEXT)
    # Two acts of the same date and state: a tie the row order must break as before.
    for country, status, date in (
        ("UZ", "ratified", None),
        ("KZ", "ratified", datetime.date(1999, 1, 1)),
        ("KZ", "signed", datetime.date(1999, 1, 1)),
        ("KG", "acceded", datetime.date(1995, 6, 1)),
    ):
        TreatyParticipation.objects.create(
            instrument=treaty, country=country, status=status, date=date, note=ODD_TEXT
        )
    article = factories.provision(zulu, "art_2", heading="Freedom of movement")
    paragraph = factories.provision(zulu, "art_2__para_1", parent=article, text=ODD_TEXT)
    first = Theme.objects.create(slug="a-theme", name="Zebra", name_ru="Альфа")
    second = Theme.objects.create(
        slug="b-theme", name="Aardvark", name_ru="Бета", description=ODD_TEXT
    )
    base = factories.recommendation(issuer, "rec-base")
    odd = factories.recommendation(
        issuer, "rec-odd", text=ODD_TEXT, text_ru="Русский текст", issued_on=None, country=""
    )
    odd.themes.add(first, second)
    concern = Concern.objects.create(
        code="concern-odd", text=ODD_TEXT, text_ru="Русская забота", raised_by=bob_org, country="UZ"
    )
    concern.themes.add(first, second)
    concern.answered_by.add(odd, base)
    Concern.objects.create(
        code="concern-dated",
        text="c",
        raised_by=office,
        raised_on=datetime.date(2022, 2, 2),
        raised_on_precision="month",
        source=dated,
        country="KZ",
    )
    # A time on the second, which ISO 8601 writes without a fraction.
    Concern.objects.filter(code="concern-dated").update(
        updated_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    )
    recommendation_services.provision_link_create(
        key="link-concern-whole", relation="to_change", concern=concern, instrument=treaty
    )
    link = recommendation_services.provision_link_create(
        key="link-concern-article",
        relation="to_change",
        concern=concern,
        provision=paragraph,
        note=ODD_TEXT,
    )
    relation = InstrumentRelation.objects.get(subject=zulu, target=alpha)
    participation = TreatyParticipation.objects.get(instrument=treaty, country="KG")
    for name, target in (
        ("organisation", office),
        ("described_source", undated),
        ("instrument", treaty),
        ("instrument_relation", relation),
        ("treaty_participation", participation),
        ("provision", paragraph),
        ("theme", first),
        ("recommendation", odd),
        ("concern", concern),
        ("provision_link", link),
    ):
        Citation.objects.create(
            key=f"cit-odd-{name}",
            source=undated,
            quote=ODD_TEXT,
            claim_field="status",
            claim_value="x",
            **{name: target},
        )

    def record(assessor, evidence, visibility, **options):
        return recommendation_services.assessment_record(
            recommendation=odd,
            assessor=assessor,
            recorded_by=editor,
            status="partially_implemented",
            status_since=datetime.date(2024, 3, 1),
            evidence=evidence,
            evidence_url="https://example.org/evidence",
            visibility=visibility,
            **options,
        )

    confidential = record(alice_org, CONFIDENTIAL, "internal", publish=True, source=dated)
    record(bob_org, FOR_PARTNERS, "partners", publish=True)
    correction = record(
        alice_org,
        "public evidence, corrected",
        "public",
        publish=True,
        corrects=confidential,
        correction_reason=ODD_TEXT,
    )
    draft = record(alice_org, DRAFT, "public")
    submitted = record(bob_org, "submitted by Bob NGO", "partners", submit=True)
    return {
        "alice_draft": str(draft.key),
        "bob_submitted": str(submitted.key),
        "correction": str(correction.key),
    }


@pytest.fixture
def feed_world(alice_org, bob_org, issuer, editor) -> dict[str, str]:
    return build_feed_world(alice_org, bob_org, issuer, editor)


def api_request(user) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/changes/"))
    request.user = user
    return request


def every_key(entity) -> list[str]:
    """The keys of all the entity's records, whoever may see them."""
    return sorted(entity.key_of(row) for row in entity.model._default_manager.all())


def serializer_documents(entity, keys: list[str], request: Request) -> dict[str, object]:
    """What the API's serializer makes of these records for this client, as JSON reads it."""
    rows = list(entity.by_keys(entity.queryset(request), keys))
    data = entity.serializer(rows, many=True, context={"request": request}).data
    rendered = json.loads(JSONRenderer().render(data))
    return {entity.key_of(row): document for row, document in zip(rows, rendered, strict=True)}


def feed_clients(alice, partner, editor) -> dict[str, object]:
    return {"anonymous": AnonymousUser(), "partner": partner, "alice": alice, "editor": editor}


def assert_documents_equal_the_serializers(request: Request) -> dict[str, bytes]:
    """Each entity's documents against its serializer's; returns each entity's as bytes."""
    rendered: dict[str, bytes] = {}
    for name, entity in synced_entities().items():
        keys = every_key(entity)
        assert keys, f"the world has no {name}"
        documents = entity.documents(keys, request)
        expected = serializer_documents(entity, keys, request)
        assert sorted(documents) == sorted(expected), name
        for key in sorted(expected):
            ours = json.loads(JSONRenderer().render(documents[key]))
            assert ours == expected[key], (name, first_difference(ours, expected[key]))
            assert JSONRenderer().render(documents[key]) == JSONRenderer().render(expected[key])
        rendered[name] = JSONRenderer().render(documents)
    return rendered


@pytest.mark.parametrize("client_kind", ["anonymous", "partner", "alice", "editor"])
def test_it_builds_each_entitys_serializer_documents_for_every_client(
    feed_world, alice, partner, editor, client_kind
):
    user = feed_clients(alice, partner, editor)[client_kind]
    _ASSESSMENTS._compiled.clear()
    rendered = assert_documents_equal_the_serializers(api_request(user))
    if connection.vendor == "postgresql":
        # The assessments were read by the query compiled for this kind of client.
        scope = assessment_scope(user)
        assert [count for _database, _language, count in _ASSESSMENTS._compiled] == [len(scope)]
        assert all(_ASSESSMENTS._compiled.values())

    assessments = rendered["assessment"]
    assert (CONFIDENTIAL.encode() in assessments) == (client_kind == "editor")
    assert (FOR_PARTNERS.encode() in assessments) == (client_kind != "anonymous")
    # Drafts and submissions only for their own organisation and for reviewers.
    assert (feed_world["alice_draft"].encode() in assessments) == (
        client_kind in {"alice", "editor"}
    )
    assert (DRAFT.encode() in assessments) == (client_kind in {"alice", "editor"})
    assert (feed_world["bob_submitted"].encode() in assessments) == (
        client_kind in {"partner", "editor"}
    )
    assert feed_world["correction"].encode() in assessments
    citations = json.loads(rendered["citation"])
    assert {citation["supports"]["type"] for citation in citations.values()} == set(
        CITATION_TARGETS
    )


def test_it_follows_the_language_and_time_zone_of_the_request(feed_world, partner):
    request = api_request(partner)
    with translation.override("ru"), timezone.override("America/New_York"):
        rendered = assert_documents_equal_the_serializers(request)
    assert "Русская забота".encode() in rendered["concern"]
    assert "Альфа доклад".encode() in rendered["source"]
    treaty = json.loads(rendered["instrument"])["treaty-odd"]
    # By the subjects' titles in the default language, as the prefetch ordered them.
    assert [relation["subject"] for relation in treaty["related_from"]] == [
        "law-alpha",
        "law-zulu",
    ]
    assert [act["status"] for act in treaty["participations"]] == [
        "acceded",
        "ratified",
        "signed",
        "ratified",
    ]
    concern = json.loads(rendered["concern"])["concern-odd"]
    assert concern["themes"] == ["a-theme", "b-theme"]  # by the Russian names
    assert concern["created_at"].endswith(("-04:00", "-05:00"))


def feed_rows_of_world(*, every_change: bool) -> list[ChangeRow]:
    """Feed rows naming the world's records: one of each entity type, or every record
    twice, a tombstone and an entity type the feed does not know."""
    changed_at = "2025-01-02T03:04:05.123456Z"
    rows: list[ChangeRow] = []
    for name, entity in synced_entities().items():
        keys = every_key(entity)
        if not every_change:
            keys = keys[:1]
        for key in keys * (2 if every_change else 1):
            rows.append((7, len(rows) + 1, name, key, "update", 1, changed_at, ""))
    if every_change:
        rows.append((8, len(rows) + 1, "theme", "a-theme", "delete", 3, changed_at, ""))
        rows.append((8, len(rows) + 1, "unknown-entity", "x", "insert", 1, changed_at, ""))
    return [(*row[:7], encode_cursor(row[0], row[1])) for row in rows]


def serializer_entries(
    rows: Sequence[tuple[Any, ...]], request: Request
) -> list[dict[str, object]]:
    """The entries as the feed rendered them through the serializers, before the rows.

    Each row is a change's (txid, id, entity, key, operation, version,
    changed_at), and may go on with a cursor, which this encodes anew.
    """
    entities = synced_entities()
    entries = []
    for txid, change_id, name, key, operation, version, changed_at, *_cursor in rows:
        entity = entities.get(name)
        if entity is None or not request.user.has_perm(
            f"{entity.model._meta.app_label}.view_{entity.model._meta.model_name}"
        ):
            continue
        data = None
        if operation != "delete":
            data = serializer_documents(entity, [key], request).get(key)
        entries.append(
            {
                "cursor": encode_cursor(txid, change_id),
                "entity": name,
                "key": key,
                "operation": operation,
                "version": version,
                "changed_at": changed_at,
                "data": data,
            }
        )
    return entries


@pytest.mark.parametrize("client_kind", ["partner", "alice", "editor", "recommendations only"])
def test_it_renders_the_entries_the_serializers_rendered(
    feed_world, alice, partner, editor, alice_org, client_kind
):
    users = feed_clients(alice, partner, editor)
    narrow = factories.user("narrow", None, alice_org)
    narrow.user_permissions.add(Permission.objects.get(codename="view_recommendation"))
    users["recommendations only"] = narrow
    request = api_request(users[client_kind])
    rows = feed_rows_of_world(every_change=True)
    entries = render_rows(rows, request)
    expected = serializer_entries(rows, request)
    assert JSONRenderer().render(entries) == JSONRenderer().render(expected)
    # Plain data, which orjson writes as DRF does but for the two separators.
    assert orjson.dumps(entries) == JSONRenderer().render(entries).replace(
        b"\\u2028", "\u2028".encode()
    ).replace(b"\\u2029", "\u2029".encode())
    assert entries[0]["changed_at"] == "2025-01-02T03:04:05.123456Z"
    entities = {entry["entity"] for entry in entries}
    if client_kind == "recommendations only":
        assert entities == {"recommendation"}
    else:
        assert entities == set(synced_entities())
        deleted = [entry for entry in entries if entry["operation"] == "delete"]
        assert [(entry["key"], entry["data"]) for entry in deleted] == [("a-theme", None)]


def test_it_costs_the_same_queries_for_a_short_and_a_long_page(
    feed_world, partner, django_assert_max_num_queries
):
    request = api_request(partner)
    short = feed_rows_of_world(every_change=False)
    long = feed_rows_of_world(every_change=True)
    assert len(long) > 5 * len(short)
    render_rows(short, request)  # the client's permissions are cached after
    counts = []
    for rows in (short, long):
        # One query per entity type and per related list (nine types, eleven
        # lists), and one for the client's roles, which decide its evidence.
        with (
            django_assert_max_num_queries(21),
            CaptureQueriesContext(connection) as queries,
        ):
            entries = render_rows(rows, request)
        assert {entry["entity"] for entry in entries} == set(synced_entities())
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.postgres
@committed
def test_it_sends_the_serializers_json_once_encoded_with_its_etag(committed_editor):
    editor = committed_editor
    alice_org = factories.organisation("alice-ngo", name="Alice NGO")
    bob_org = factories.organisation("bob-ngo", name="Bob NGO")
    issuer = factories.organisation("issuer", name="Issuing Body", kind="intergovernmental")
    partner = factories.user("pat", Role.PARTNER, bob_org)
    build_feed_world(alice_org, bob_org, issuer, editor)
    expected_changes = Change.objects.count()
    api = APIClient()
    api.force_authenticate(partner)
    entries, _end = drain_until(api, None, lambda entries: len(entries) >= expected_changes)
    assert len(entries) == expected_changes

    after = None
    pages = 0
    while True:
        response = api.get("/api/v1/changes/", {"limit": 37, **({"after": after} if after else {})})
        assert response.status_code == 200
        page = json.loads(response.content)
        positions = [decode_cursor(entry["cursor"]) for entry in page["results"]]
        changes = {
            change.pk: change for change in Change.objects.filter(pk__in=[p[1] for p in positions])
        }
        rows: list[tuple[int, int, str, str, str, int, object]] = [
            (
                txid,
                change_id,
                changes[change_id].entity,
                changes[change_id].key,
                changes[change_id].operation,
                changes[change_id].version,
                changes[change_id].changed_at,
            )
            for txid, change_id in positions
        ]
        expected = {
            "results": serializer_entries(rows, api_request(partner)),
            "next": page["next"],
            "has_more": page["has_more"],
        }
        assert response.content == JSONRenderer().render(expected)
        assert response["Content-Type"] == "application/json"
        assert response["ETag"] == '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        again = api.get(
            "/api/v1/changes/",
            {"limit": 37, **({"after": after} if after else {})},
            HTTP_IF_NONE_MATCH=response["ETag"],
        )
        assert again.status_code == 304
        pages += 1
        after = page["next"]
        if not page["has_more"]:
            break
    assert pages > 2
    assert CONFIDENTIAL.encode() not in response.content

    pretty = api.get("/api/v1/changes/", {"limit": 5}, HTTP_ACCEPT="application/json; indent=2")
    plain = api.get("/api/v1/changes/", {"limit": 5})
    assert pretty.content.startswith(b'{\n  "results"')
    assert json.loads(pretty.content) == json.loads(plain.content)
    assert pretty["ETag"] == plain["ETag"]


@pytest.mark.postgres
@committed
def test_it_lets_a_pages_documents_go_once_they_are_encoded(committed_editor):
    """Freed with the response, not when the collector frees the cycles a request leaves."""
    alice_org = factories.organisation("alice-ngo", name="Alice NGO")
    bob_org = factories.organisation("bob-ngo", name="Bob NGO")
    issuer = factories.organisation("issuer", name="Issuing Body", kind="intergovernmental")
    build_feed_world(alice_org, bob_org, issuer, committed_editor)
    api = APIClient()
    api.force_authenticate(committed_editor)
    gc.collect()
    gc.disable()
    try:
        response = api.get("/api/v1/changes/", {"limit": 50})
        assert response.status_code == 200
        body = response.content
        # Rendered again, it is the same answer, its documents gone or not.
        assert response.rendered_content == body
        del response
        cursors = {
            entry["cursor"] for entry in orjson.loads(body)["results"] if entry["data"] is not None
        }
        held = [
            entry
            for entry in gc.get_objects()
            # Only a feed entry's cursor is a string: a schema's "cursor" is a dict.
            if type(entry) is dict
            and isinstance(entry.get("cursor"), str)
            and entry["cursor"] in cursors
        ]
        # The request's own cycles are still there, for the collector to free.
        left = gc.collect()
    finally:
        gc.enable()
    assert len(cursors) > 20
    assert held == []
    assert left > 0


@pytest.mark.postgres
def test_it_writes_the_change_times_as_drfs_encoder_wrote_them(editor):
    """Read as text from PostgreSQL, the times are what DRF made of the datetimes."""
    moments = [
        datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        datetime.datetime(2025, 1, 2, 3, 4, 5, 100, tzinfo=datetime.UTC),
        datetime.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
    ]
    # A transaction id below every open one, which the feed serves at once.
    changes = [
        Change.objects.create(
            txid=1, entity="theme", key=f"t{n}", operation="insert", version=1, changed_at=moment
        )
        for n, moment in enumerate(moments)
    ]
    rows = committed_change_rows((0, 0), 10)
    assert [row[:6] for row in rows] == [
        (1, change.pk, "theme", change.key, "insert", 1) for change in changes
    ]
    expected = [json.loads(JSONRenderer().render(moment)) for moment in moments]
    assert [row[6] for row in rows] == expected
    assert expected[1] == "2025-01-02T03:04:05Z"
    # And so does the rendering of Change instances the webhooks use.
    entries = render(changes, api_request(editor))
    assert [entry["changed_at"] for entry in entries] == expected
    assert [row[7] for row in rows] == [entry["cursor"] for entry in entries]


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_encodes_the_cursors_in_sql_as_encode_cursor_does():
    rng = random.Random(7)  # noqa: S311 (positions to encode, not secrets)
    positions = [(0, 0), (1, 1), (9, 10), (2**63 - 1, 2**63 - 1), (2**31, 99)] + [
        (rng.randrange(10 ** rng.randrange(1, 19)), rng.randrange(10 ** rng.randrange(1, 19)))
        for _ in range(200)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {CURSOR_SQL} FROM unnest(%s::bigint[], %s::bigint[]) AS change(txid, id)",
            [[txid for txid, _ in positions], [change_id for _, change_id in positions]],
        )
        encoded = [row[0] for row in cursor.fetchall()]
    assert encoded == [encode_cursor(txid, change_id) for txid, change_id in positions]
    assert [decode_cursor(cursor) for cursor in encoded] == positions
