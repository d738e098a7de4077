"""The admin in English, Russian and Kazakh; content in each language with English fallback."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import formats, translation

from recommendations.models import Recommendation
from tests import factories


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    # LocaleMiddleware leaves the last request's language active in the thread;
    # later tests would then write content as Kazakh.
    yield
    translation.deactivate()


def test_it_switches_the_admin_to_russian_and_kazakh(client, alice):
    client.force_login(alice)
    english = client.get(reverse("admin:index")).content.decode()
    assert 'id="language-switcher"' in english and "Status assessments" in english

    client.post(reverse("set_language"), {"language": "ru", "next": "/admin/"})
    russian = client.get(reverse("admin:index")).content.decode()
    assert "Оценки статуса" in russian and "Рекомендации" in russian

    client.post(reverse("set_language"), {"language": "kk", "next": "/admin/"})
    kazakh = client.get(reverse("admin:index")).content.decode()
    assert "Мәртебе бағалары" in kazakh and "Ұсынымдар" in kazakh


def test_it_keeps_the_audit_notice_in_every_language(client, administrator):
    from tracker.history import audit_available

    client.force_login(administrator)
    client.post(reverse("set_language"), {"language": "ru", "next": "/admin/"})
    page = client.get(reverse("admin:index")).content.decode()
    assert ('id="audit-notice"' in page) is not audit_available()


def test_it_formats_dates_and_numbers_the_kazakh_way():
    with translation.override("kk"):
        assert formats.date_format(datetime.date(2024, 3, 5), "SHORT_DATE_FORMAT") == "05.03.2024"
        assert formats.number_format(12345.5, 1, force_grouping=True) == "12\xa0345,5"


def test_it_shows_content_in_the_readers_language_falling_back_to_english(issuer):
    rec = factories.recommendation(issuer, "rec-lang", text="Ratify the convention.")
    rec.text_ru = "Ратифицировать конвенцию."  # type: ignore[attr-defined]
    rec.save()
    rec = Recommendation.objects.get(code="rec-lang")
    with translation.override("ru"):
        assert rec.text == "Ратифицировать конвенцию."
    with translation.override("kk"):
        assert rec.text == "Ratify the convention."  # no Kazakh text: English instead
    with translation.override("en"):
        assert rec.text == "Ratify the convention."
