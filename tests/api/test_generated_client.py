"""A partner's client generated from the schema by openapi-python-client syncs for real.

The client is generated once per session from the schema the app serves,
imported, and pointed at a live server with an API key: a full sync, then an
incremental one from what the full sync saved, which must see exactly the
change made in between.
"""

from __future__ import annotations

import datetime
import importlib
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from recommendations import services as recommendation_services
from recommendations.models import Recommendation
from tests import factories
from tracker import services
from tracker.roles import Role

PACKAGE = "tracker_client"
CODES = [f"rec-sync-{i}" for i in range(5)]
# Other connections' transactions hold the feed back until they end (that is
# its promise); a change is waited for this long at most.
FEED_WAIT_SECONDS = 30


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The client package, generated from `manage.py spectacular` output and imported."""
    root = tmp_path_factory.mktemp("generated")
    schema = root / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    # No post-generation hooks: they would run whatever `ruff` is on PATH.
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(  # noqa: S603 (our own arguments)
        [
            str(generator),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        cwd=root,
        timeout=300,
    )
    sys.path.insert(0, str(root))
    try:
        yield _GeneratedClient(importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class _GeneratedClient:
    """The generated package, with its endpoint modules at hand."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package
        self.recommendations_list = importlib.import_module(
            f"{PACKAGE}.api.v1.v1_recommendations_list"
        )
        self.changes_list = importlib.import_module(f"{PACKAGE}.api.v1.v1_changes_list")

    def connect(self, base_url: str, key: str) -> Any:
        return self.package.AuthenticatedClient(base_url=base_url, token=key)


@pytest.fixture
def partner_key(transactional_db):
    """A partner's read key, on data committed where the live server can see it."""
    issuer = factories.organisation("sync-issuer", kind="intergovernmental")
    for code in CODES:
        factories.recommendation(issuer, code)
    partner = factories.user("sync-partner", Role.PARTNER, issuer)
    _api_key, raw_key = services.api_key_issue(user=partner, name="sync")
    return raw_key


def change_a_recommendation(code: str) -> None:
    """An editor rewrites one recommendation's text, as the admin would."""
    editor = factories.user("sync-editor", Role.EDITOR)
    recommendation = Recommendation.objects.get(code=code)
    recommendation_services.recommendation_upsert(
        user=editor,
        code=code,
        text="Amend Article 14 to remove exit visas.",
        issued_by=recommendation.issued_by,
        country=str(recommendation.country),
        issued_on=recommendation.issued_on,
    )


def _cursor_of(next_url: str) -> str:
    return parse_qs(urlparse(next_url).query)["cursor"][0]


def walk_recommendations(generated, client, **filters: Any) -> dict[str, Any]:
    """Every recommendation the lists give, following `next` to the end, by code."""
    local: dict[str, Any] = {}
    cursor = generated.package.types.UNSET
    while True:
        page = generated.recommendations_list.sync(
            client=client, cursor=cursor, page_size=2, **filters
        )
        local.update({recommendation.code: recommendation for recommendation in page.results})
        if not page.next_:
            return local
        cursor = _cursor_of(page.next_)


def test_it_syncs_by_walking_the_lists(generated_client, live_server, partner_key):
    client = generated_client.connect(live_server.url, partner_key)
    local = walk_recommendations(generated_client, client)
    assert sorted(local) == CODES
    assert local[CODES[0]].text == f"Text of {CODES[0]}"
    last_sync = max(recommendation.updated_at for recommendation in local.values())

    change_a_recommendation(CODES[2])

    changed = walk_recommendations(generated_client, client, updated_after=last_sync)
    assert sorted(changed) == [CODES[2]]
    assert changed[CODES[2]].text == "Amend Article 14 to remove exit visas."
    assert changed[CODES[2]].updated_at > last_sync


def read_feed(generated, client, after: Any) -> Any:
    page = generated.changes_list.sync(client=client, after=after, limit=3)
    assert isinstance(page, generated.package.models.ChangePage), page
    return page


@pytest.mark.postgres
def test_it_syncs_through_the_change_feed(generated_client, live_server, partner_key):
    client = generated_client.connect(live_server.url, partner_key)
    local: dict[str, Any] = {}
    after = generated_client.package.types.UNSET
    deadline = time.monotonic() + FEED_WAIT_SECONDS
    # The full sync: every change since the beginning, page by page, until
    # every recommendation has come (or the wait is over).
    while sorted(local) != CODES and time.monotonic() < deadline:
        page = read_feed(generated_client, client, after)
        for entry in page.results:
            if entry.entity == "recommendation":
                local[entry.key] = entry.data
        after = page.next_
        if not page.has_more and not page.results:
            time.sleep(0.2)
    assert sorted(local) == CODES
    assert local[CODES[0]]["text"] == f"Text of {CODES[0]}"

    change_a_recommendation(CODES[3])

    deadline = time.monotonic() + FEED_WAIT_SECONDS
    seen: list[Any] = []
    while not seen and time.monotonic() < deadline:
        seen = read_feed(generated_client, client, after).results
        if not seen:
            time.sleep(0.2)
    assert [(entry.entity, entry.key, entry.operation.value) for entry in seen] == [
        ("recommendation", CODES[3], "update")
    ]
    assert seen[0].data["text"] == "Amend Article 14 to remove exit visas."
    assert seen[0].changed_at > datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
