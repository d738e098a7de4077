"""What the API keeps between requests: compiled list queries, filter forms, serializer fields.

`ArrayQuery` reuses a query's SQL for every page and language,
`tracker.filters.FilterSet` a form class per language and
`tracker.api.FieldsOnceMixin` a serializer's fields; each must answer
exactly what Django or DRF answers when it builds them anew.
"""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework import serializers

from recommendations.api import RecommendationFilter
from recommendations.api_lists import (
    _BY_CODE,
    _RELATED_KEYS,
    PAGE_COLUMNS,
    ArrayQuery,
    OneOf,
    TranslatedText,
    _keys_by_recommendation,
    array_literal,
    recommendation_documents,
    recommendation_documents_by_code,
)
from recommendations.models import Recommendation, Theme
from tests import factories
from tracker.api import FieldsOnceMixin
from tracker.filters import FilterSet
from tracker.models import Organisation


@pytest.fixture
def themed(issuer) -> list[int]:
    """Two recommendations with themes whose English and Russian names sort apart."""
    with translation.override("en"):
        zebra = Theme.objects.create(slug="z-theme", name="Zebra", name_ru="Альфа")
        aardvark = Theme.objects.create(slug="a-theme", name="Aardvark", name_ru="Бета")
        ids = []
        for code in ("CQ-1", "CQ-2"):
            recommendation = factories.recommendation(issuer, code=code)
            recommendation.themes.set([zebra, aardvark])
            ids.append(recommendation.pk)
    return ids


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_compiled_query_answers_as_django_in_each_language(themed) -> None:
    query = ArrayQuery(
        Theme,
        lambda ids: (
            Theme.objects.filter(OneOf("recommendations", ids))
            .order_by("name", "id")
            .rewrite(False)
            .values_list("recommendations", "slug")
        ),
    )
    for language, first in (("en", "a-theme"), ("ru", "z-theme"), ("en", "a-theme")):
        with translation.override(language):
            rows = query.rows(themed)
            assert rows == list(query._build(themed))
            assert rows[0][1] == first
    # Compiled once per language, and each compiled SQL is the one run.
    assert set(query._compiled) == {("default", "en", 0), ("default", "ru", 0)}
    assert all(query._compiled.values())
    with translation.override("en"), CaptureQueriesContext(connection) as queries:
        query.rows(themed[1:])
    compiled = query._compiled["default", "en", 0]
    assert compiled is not None
    assert [entry["sql"].split(" WHERE ")[0] for entry in queries.captured_queries] == [
        compiled.split(" WHERE ")[0]
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_with_another_parameter_or_a_fallback_is_left_to_django(themed) -> None:
    with_name = ArrayQuery(
        Organisation,
        lambda ids: Organisation.objects.filter(OneOf("id", ids), slug__startswith="x").values_list(
            "slug"
        ),
    )
    assert with_name.rows([1, 2]) == []
    # Translated columns are filled in by modeltranslation after reading.
    translated = ArrayQuery(
        Recommendation,
        lambda ids: Recommendation.objects.filter(OneOf("id", ids)).values_list("code", "text"),
    )
    assert sorted(translated.rows(themed)) == sorted(translated._build(themed))
    assert list(with_name._compiled.values()) == [None]
    assert list(translated._compiled.values()) == [None]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_compiled_query_takes_its_extra_parameters_after_the_array(themed) -> None:
    slugs = ["cq-alpha", "cq-beta"]
    ids = [factories.organisation(slug).pk for slug in slugs]
    query = ArrayQuery(
        Organisation,
        lambda ids, slug: (
            Organisation.objects.filter(OneOf("id", ids))
            .filter(slug=slug)
            .values_list("id", "slug")
        ),
    )
    for slug, expected in zip(slugs, ids, strict=True):
        assert query.rows(ids, slug) == [(expected, slug)]
    assert query.rows(ids, "cq-none") == []
    # One SQL for every slug, the one run.
    language = translation.get_language()
    assert list(query._compiled) == [("default", language, 1)]
    compiled = query._compiled["default", language, 1]
    assert compiled is not None
    with CaptureQueriesContext(connection) as queries:
        query.rows(ids[:1], slugs[0])
    assert [entry["sql"].split(" WHERE ")[0] for entry in queries.captured_queries] == [
        compiled.split(" WHERE ")[0]
    ]
    # A None would have Django write IS NULL: left to Django, and nothing kept for it.
    nullable = ArrayQuery(
        Organisation,
        lambda ids, parent: (
            Organisation.objects.filter(OneOf("id", ids)).filter(parent=parent).values_list("slug")
        ),
    )
    assert sorted(nullable.rows(ids, None)) == sorted(nullable._build(ids, None))
    assert nullable._compiled == {}
    # A parameter Django rewrites (a pattern for LIKE) is not the one given.
    pattern = ArrayQuery(
        Organisation,
        lambda ids, prefix: (
            Organisation.objects.filter(OneOf("id", ids))
            .filter(slug__startswith=prefix)
            .values_list("slug")
        ),
    )
    assert sorted(pattern.rows(ids, "cq-")) == [("cq-alpha",), ("cq-beta",)]
    assert list(pattern._compiled.values()) == [None]


@pytest.mark.django_db
def test_a_translated_text_in_sql_is_what_modeltranslation_reads(issuer) -> None:
    """Each language's column empty, null or filled: the text each language reads."""
    nullable = Recommendation._meta.get_field("text_ru").null
    values = ["", "Кыргызча", *([None] if nullable else [])]
    combinations = [
        (english, russian, kazakh)
        for english in ("", "English")
        for russian in values
        for kazakh in ("", "Қазақша")
    ]
    codes = []
    for number, (english, russian, kazakh) in enumerate(combinations):
        code = f"TT-{number}"
        factories.recommendation(issuer, code=code)
        Recommendation.objects.filter(code=code).update(
            text_en=english, text_ru=russian, text_kk=kazakh
        )
        codes.append(code)
    seen: set[str] = set()
    for language in ("en", "ru", "kk"):
        with translation.override(language):
            in_sql = dict(
                Recommendation.objects.filter(code__in=codes)
                .rewrite(False)
                .values_list("code", TranslatedText(Recommendation, "text"))
            )
            read = {row.code: row.text for row in Recommendation.objects.filter(code__in=codes)}
            assert in_sql == read
            seen.update(read.values())
    # Each language's own text was read, English as the fallback, and nothing.
    assert seen == {"", "English", "Кыргызча", "Қазақша"}
    with pytest.raises(TypeError, match="not a translated field"):
        TranslatedText(Recommendation, "code")


@pytest.mark.django_db
def test_the_feeds_recommendations_are_the_list_pages_and_compiled_once(themed) -> None:
    for language in ("en", "ru"):
        with translation.override(language):
            codes = ["CQ-2", "CQ-1", "missing"]
            page = Recommendation.objects.filter(code__in=codes).values(*PAGE_COLUMNS)
            expected = {document["code"]: document for document in recommendation_documents(page)}
            assert recommendation_documents_by_code(codes) == expected
            assert expected["CQ-1"]["themes"] == (
                ["a-theme", "z-theme"] if language == "en" else ["z-theme", "a-theme"]
            )
    if connection.vendor == "postgresql":
        assert {key[1] for key in _BY_CODE._compiled} >= {"en", "ru"}
        assert all(_BY_CODE._compiled.values())


@pytest.mark.django_db
def test_the_list_pages_related_keys_follow_the_language(themed) -> None:
    with translation.override("en"):
        assert _keys_by_recommendation("themes", themed)[themed[0]] == ["a-theme", "z-theme"]
    with translation.override("ru"):
        assert _keys_by_recommendation("themes", themed)[themed[0]] == ["z-theme", "a-theme"]
    assert "themes" in _RELATED_KEYS


def test_a_filter_forms_class_is_kept_per_language() -> None:
    with translation.override("en"):
        english = RecommendationFilter(data={}).form.__class__
        assert RecommendationFilter(data={}).form.__class__ is english
    with translation.override("ru"):
        russian = RecommendationFilter(data={}).form.__class__
    assert russian is not english
    assert str(russian.base_fields["overdue"].label) == str(english.base_fields["overdue"].label)


@pytest.mark.django_db
def test_a_kept_filter_form_still_names_the_bad_field_every_time() -> None:
    for _ in range(2):
        filters = RecommendationFilter(
            data={"due_after": "not a date"}, queryset=Recommendation.objects.all()
        )
        assert not filters.is_valid()
        assert list(filters.errors) == ["due_after"]


class _RequestChoices(FilterSet):
    issued_by = django_filters.ModelChoiceFilter(
        field_name="issued_by", queryset=lambda request: Organisation.objects.all()
    )

    class Meta:
        model = Recommendation
        fields: list[str] = []


def test_a_filter_set_with_request_choices_builds_its_form_every_time() -> None:
    assert (
        _RequestChoices(data={}).get_form_class() is not _RequestChoices(data={}).get_form_class()
    )


AWKWARD = [
    "plain",
    'a "quoted" one',
    "back\\slash",
    "comma, and {braces}",
    " spaced ",
    "NULL",
    "",
    "Қазақ",
]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "array_type"),
    [
        (AWKWARD, "text"),
        ([3, 1, 2_000_000_000_000], "bigint"),
        ([uuid.UUID(int=7), uuid.UUID(int=2**127)], "uuid"),
    ],
)
def test_an_array_sent_as_one_text_reaches_postgresql_element_for_element(
    values, array_type
) -> None:
    literal = array_literal(values)
    assert isinstance(literal, str)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT unnest(%s::{array_type}[])", [literal])
        assert [row[0] for row in cursor.fetchall()] == values


def test_an_array_with_a_null_goes_as_a_list() -> None:
    assert array_literal(["a", None]) == ["a", None]


class _Nested(serializers.Serializer[Any]):
    name = serializers.CharField()


class _Composite(FieldsOnceMixin, serializers.Serializer[Any]):
    """Plain fields beside fields that hold other fields."""

    code = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3))
    owners = serializers.PrimaryKeyRelatedField(many=True, queryset=Organisation.objects.all())
    nested = _Nested()


def test_serializer_fields_built_once_are_bound_apart_for_each_instance() -> None:
    first, second = (_Composite(context={"n": n}) for n in (1, 2))
    for serializer in (first, second):
        fields: Any = serializer.fields
        assert all(field.parent is serializer for field in fields.values())
        # What a field holds belongs to that instance's copy, and sees its context.
        assert fields["tags"].child.parent is fields["tags"]
        assert fields["owners"].child_relation.parent is fields["owners"]
        assert fields["nested"].fields["name"].root is serializer
        assert fields["nested"].fields["name"].context == serializer.context
    assert not {id(field) for field in first.fields.values()} & {
        id(field) for field in second.fields.values()
    }
    # The prototypes stay unbound, whichever instance bound its copies first.
    assert all(
        getattr(field, "parent", None) is None
        for field, _deep in _Composite._field_prototypes.values()  # type: ignore[attr-defined]
    )
    # And a copy validates as a field made anew does.
    bad = _Composite(data={"code": "toolong", "tags": ["abcd"], "owners": [], "nested": {}})
    assert not bad.is_valid()
    assert set(bad.errors) == {"code", "tags", "nested"}
    assert set(bad.errors["tags"]) == {0}
