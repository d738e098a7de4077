"""A small report world: two issuers, two assessors, themes, an instrument with provisions."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection, transaction

from instruments.models import InstrumentRelation
from recommendations import reports, services
from recommendations.models import Recommendation, StatusAssessment, Theme
from tests import factories
from tracker.models import Organisation, User

EARLY = datetime.date(2023, 3, 15)
LATE = datetime.date(2024, 6, 10)


def publish(
    reviewer: User,
    recommendation: Recommendation,
    assessor: Organisation,
    status: str,
    since: datetime.date,
    **fields: object,
) -> StatusAssessment:
    return services.assessment_record(
        recommendation=recommendation,
        assessor=assessor,
        recorded_by=reviewer,
        status=status,
        status_since=since,
        evidence=f"Evidence that it is {status}",
        publish=True,
        **fields,  # type: ignore[arg-type]
    )


def numbers(overview: reports.Overview) -> dict[str, object]:
    return {
        "by_status": {status: n for status, n in overview.by_status.items() if n},
        "disputed": overview.disputed,
        "overdue": overview.overdue,
        "breakdowns": {
            breakdown.slug: [(row.key, row.label, row.counts) for row in breakdown.rows]
            for breakdown in overview.breakdowns
        },
    }


@dataclass
class World:
    issuer: Organisation
    other_issuer: Organisation
    alice_org: Organisation
    bob_org: Organisation
    labour: Theme
    law: object
    draft: object
    recommendations: list[Recommendation]


def populate(editor: User, alice_org: Organisation, bob_org: Organisation, n: int) -> World:
    """`n` groups of four recommendations with a varied history; keys carry `n`."""
    issuer = Organisation.objects.get_or_create(
        slug="osce", defaults={"name": "OSCE", "kind": "intergovernmental"}
    )[0]
    other = Organisation.objects.get_or_create(
        slug="un-hrc", defaults={"name": "UN Human Rights Committee", "kind": "un_body"}
    )[0]
    labour = Theme.objects.get_or_create(slug="labour", defaults={"name": "Labour migration"})[0]
    law = factories.instrument(f"law-{n}", title=f"Law on Migration {n}", state="in_force")
    draft = factories.instrument(f"draft-{n}", title=f"Draft law {n}", kind="draft_law")
    InstrumentRelation.objects.create(subject=draft, kind="became", target=law)
    article = factories.provision(law, "art_14", label="Article 14", text="Статья 14. Көші-қон")
    draft_article = factories.provision(draft, "art_3", label="Article 3")
    recommendations = []
    for i in range(n):
        first = factories.recommendation(
            issuer, f"r{n}-{i}-a", follow_up_due=datetime.date(2024, 1, 1)
        )
        first.themes.add(labour)
        services.provision_link_create(
            key=f"l{n}-{i}-a", relation="to_change", recommendation=first, provision=article
        )
        publish(editor, first, alice_org, "not_implemented", EARLY)
        publish(editor, first, alice_org, "partially_implemented", LATE)

        second = factories.recommendation(other, f"r{n}-{i}-b", country="UZ")
        services.provision_link_create(
            key=f"l{n}-{i}-b", relation="to_change", recommendation=second, provision=draft_article
        )
        publish(editor, second, alice_org, "fully_implemented", EARLY)
        publish(editor, second, bob_org, "mostly_implemented", LATE)  # disputed from LATE

        third = factories.recommendation(
            issuer, f"r{n}-{i}-c", follow_up_due=datetime.date(2024, 1, 1)
        )
        third.themes.add(labour)
        publish(editor, third, bob_org, "fully_implemented", LATE)

        fourth = factories.recommendation(issuer, f"r{n}-{i}-d", text='=HYPERLINK("x")')
        recommendations += [first, second, third, fourth]
    return World(issuer, other, alice_org, bob_org, labour, law, draft, recommendations)


@pytest.fixture
def world(editor: User, alice_org: Organisation, bob_org: Organisation) -> World:
    """One group of four recommendations (see `populate`)."""
    return populate(editor, alice_org, bob_org, 1)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in the test's own process, even where a broker is configured."""
    from tracker.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@contextmanager
def waits_for_this_transaction(work: Callable[[], object]) -> Iterator[None]:
    """Run the block in a transaction, then `work` in another, from another thread.

    Checks that `work` cannot finish while the block's transaction is open
    (it waits for a lock the block holds) and that it finishes once the block
    commits, without an error.
    """
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                work()
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()
            connection.close()

    with transaction.atomic():
        yield
        other = threading.Thread(target=run)
        other.start()
        assert not done.wait(timeout=1.0), "it did not wait for this transaction"
    other.join(timeout=10)
    assert done.is_set()
    assert errors == []
