"""A row written by a fixed statement is the row `save()` writes, or `save()` writes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, signals
from django.test.utils import CaptureQueriesContext

from recommendations.models import Recommendation
from tests import factories
from tracker.fixed_inserts import RowInsert
from tracker.models import IdempotencyRecord, User

pytestmark = pytest.mark.django_db

BODY = {"key": "7c1d", "evidence": "Отменить выездную визу.", "withheld": False, "source": None}


def answer(user: User, key: str) -> IdempotencyRecord:
    return IdempotencyRecord(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/assessments/",
        request_hash="f" * 64,
        response_status=201,
        response_body=BODY,
    )


def stored(record: Model) -> dict[str, Any]:
    """The row as the ORM reads it back, without what differs between any two rows."""
    read = type(record)._default_manager.get(pk=record.pk)
    fields = {field.attname: getattr(read, field.attname) for field in read._meta.concrete_fields}
    return {name: value for name, value in fields.items() if name not in {"id", "key"}}


def test_it_writes_the_row_save_writes(partner):
    by_orm = answer(partner, "by-save")
    by_orm.save()
    fixed = answer(partner, "fixed")

    RowInsert(IdempotencyRecord).insert(fixed)

    assert fixed.pk is not None and fixed.pk != by_orm.pk
    assert not fixed._state.adding and fixed._state.db == connection.alias
    # The time set on creation, the JSON, the foreign key: all as save() stores them.
    assert fixed.created_at is not None
    by_orm_row, fixed_row = stored(by_orm), stored(fixed)
    assert fixed_row.pop("created_at") >= by_orm_row.pop("created_at")
    assert fixed_row == by_orm_row
    assert fixed_row["response_body"] == BODY
    assert IdempotencyRecord.objects.get(pk=fixed.pk) == fixed


def test_it_sends_the_signals_save_sends(partner):
    received: list[tuple[str, dict[str, Any]]] = []

    def pre(sender: type[Model], **kwargs: Any) -> None:
        received.append(("pre", {"sender": sender, "pk": kwargs["instance"].pk, **kwargs}))

    def post(sender: type[Model], **kwargs: Any) -> None:
        received.append(("post", {"sender": sender, "pk": kwargs["instance"].pk, **kwargs}))

    signals.pre_save.connect(pre, sender=IdempotencyRecord)
    signals.post_save.connect(post, sender=IdempotencyRecord)
    try:
        record = answer(partner, "signalled")
        RowInsert(IdempotencyRecord).insert(record)
    finally:
        signals.pre_save.disconnect(pre, sender=IdempotencyRecord)
        signals.post_save.disconnect(post, sender=IdempotencyRecord)

    assert [name for name, _kwargs in received] == ["pre", "post"]
    before, after = received[0][1], received[1][1]
    assert before["pk"] is None and before["raw"] is False and before["update_fields"] is None
    assert after["pk"] == record.pk and after["created"] is True
    assert before["instance"] is after["instance"] is record


@pytest.mark.postgres
def test_it_writes_one_fixed_statement_on_postgresql(partner):
    insert = RowInsert(IdempotencyRecord)
    insert.insert(answer(partner, "first"))  # the statement is made at the first call
    with CaptureQueriesContext(connection) as queries:
        insert.insert(answer(partner, "second"))
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("INSERT INTO") and "RETURNING" in queries[0]["sql"]


def test_it_leaves_to_save_a_model_whose_columns_the_database_fills(issuer):
    # Recommendations' times have a database default: the row returns them.
    insert = RowInsert(Recommendation)
    assert insert.statement() is None
    recommendation = factories.recommendation(issuer, code="FI-1")
    recommendation.pk = None
    recommendation._state.adding = True
    recommendation.code = "FI-2"
    insert.insert(recommendation)
    assert Recommendation.objects.get(code="FI-2").pk == recommendation.pk


def test_it_leaves_to_save_a_record_that_has_its_key(partner):
    record = answer(partner, "kept")
    record.save()
    record.response_status = 200
    RowInsert(IdempotencyRecord).insert(record)
    assert IdempotencyRecord.objects.filter(user=partner).count() == 1
    assert IdempotencyRecord.objects.get(pk=record.pk).response_status == 200


def test_it_refuses_a_related_record_that_is_not_saved(partner):
    unsaved = User(username="not-saved")
    with pytest.raises(ValueError, match="unsaved related object"):
        RowInsert(IdempotencyRecord).insert(answer(unsaved, "orphan"))
    assert not IdempotencyRecord.objects.exists()


def test_a_duplicate_fails_as_it_would_through_save_and_writes_nothing(partner):
    insert = RowInsert(IdempotencyRecord)
    insert.insert(answer(partner, "twice"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert.insert(answer(partner, "twice"))
    assert IdempotencyRecord.objects.filter(key="twice").count() == 1
    # Inside a transaction without a savepoint of its own, the failure marks it for rollback.
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert.insert(answer(partner, "twice"))
        assert transaction.get_rollback()
