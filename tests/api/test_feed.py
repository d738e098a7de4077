"""The change feed: complete, ordered, commit-safe, and filtered per client."""

from __future__ import annotations

import datetime
import random
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from recommendations import services as recommendation_services
from recommendations.models import Theme
from tests import factories
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
