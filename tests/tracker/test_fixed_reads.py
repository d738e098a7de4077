"""Records read by a fixed statement are the records the ORM reads, or the ORM reads them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework import serializers

from recommendations.models import Recommendation
from tests import factories
from tracker.api import KeyRelatedField
from tracker.fixed_reads import RecordByColumn
from tracker.models import Organisation


def fields_of(record: Model) -> dict[str, object]:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


@pytest.fixture
def translated(issuer) -> Recommendation:
    recommendation = factories.recommendation(issuer, code="FX-1")
    Recommendation.objects.filter(pk=recommendation.pk).update(
        text_en="Repeal the exit visa.", text_ru="Отменить выездную визу."
    )
    return Recommendation.objects.get(pk=recommendation.pk)


def test_a_record_by_column_is_the_one_the_orm_reads(translated):
    lookup = RecordByColumn(Recommendation, "code")
    found = lookup.get("FX-1")
    assert found is not None
    assert fields_of(found) == fields_of(translated)
    assert found == translated and not found._state.adding
    # The translated field answers in the active language, as the ORM's record does.
    with translation.override("ru"):
        assert found.text == translated.text == "Отменить выездную визу."
    assert lookup.get("FX-2") is None


def test_a_key_field_with_a_fixed_read_reads_once_and_names_an_unknown_key(translated):
    field = KeyRelatedField(
        slug_field="code", queryset=Recommendation.objects.all(), fixed_read=True
    )
    field.to_internal_value("FX-1")  # the statement is made at the first call
    with CaptureQueriesContext(connection) as queries:
        assert field.to_internal_value("FX-1") == translated
    assert len(queries) == 1
    with pytest.raises(serializers.ValidationError) as error:
        field.to_internal_value("FX-9")
    assert "FX-9" in str(error.value.detail)


def test_a_fixed_read_refuses_a_filtered_queryset():
    with pytest.raises(ValueError, match="unfiltered"):
        KeyRelatedField(
            slug_field="slug", queryset=Organisation.objects.filter(kind="ngo"), fixed_read=True
        )


@pytest.mark.postgres
def test_postgresql_reads_by_the_fixed_statement():
    statement = RecordByColumn(Organisation, "slug").statement()
    assert statement is not None
    assert statement.startswith("SELECT t.") and statement.endswith('t."slug" = %s')


def test_sqlite_leaves_to_the_orm_a_model_whose_columns_it_converts(translated):
    if connection.vendor == "postgresql":
        pytest.skip("checks what SQLite needs")
    # Its times and booleans come from SQLite as text and integers.
    lookup = RecordByColumn(Recommendation, "code")
    assert lookup.statement() is None
    found = lookup.get("FX-1")
    assert found is not None and fields_of(found) == fields_of(translated)
    # A model without such columns is read by the fixed statement there too.
    assert RecordByColumn(Organisation, "slug").statement() is not None
