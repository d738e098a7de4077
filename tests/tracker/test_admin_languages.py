"""The admin in English, Russian and Kazakh; content in each language with English fallback."""

from __future__ import annotations

import ast
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
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


@dataclass
class _Entry:
    msgid: str = ""
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False


def _catalogue_entries(path: Path) -> list[_Entry]:
    """The live entries of a .po file (header and obsolete `#~` entries left out)."""
    entries: list[_Entry] = []
    entry = _Entry()
    target: list[str] | None = None  # the string the next continuation line belongs to
    msgid: list[str] = []

    def finish() -> None:
        nonlocal entry, msgid, target
        entry.msgid = "".join(msgid)
        if entry.msgid or entry.msgstrs:
            entries.append(entry)
        entry, msgid, target = _Entry(), [], None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            entry.fuzzy = entry.fuzzy or "fuzzy" in (flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        else:
            keyword, _space, quoted = line.partition(" ")
            if line.startswith('"'):
                keyword, quoted = "", line
            text = ast.literal_eval(quoted)
            if keyword == "msgid":
                if msgid or entry.msgstrs:
                    finish()
                msgid.append(text)
                target = msgid
            elif keyword.startswith("msgstr"):
                entry.msgstrs.append(text)
                target = None
            elif keyword == "" and target is not None:
                target.append(text)
            elif keyword == "" and entry.msgstrs:
                entry.msgstrs[-1] += text
            else:  # msgctxt, msgid_plural: not needed to judge the translation
                target = None
    finish()
    return [e for e in entries if e.msgid]  # the header has the empty msgid


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_message_is_translated(language):
    catalogues = sorted(
        path
        for locale_path in settings.LOCALE_PATHS
        for path in (Path(locale_path) / language / "LC_MESSAGES").glob("*.po")
    )
    assert catalogues, f"no .po catalogue for {language}"
    for path in catalogues:
        entries = _catalogue_entries(path)
        assert entries, f"{path} has no messages"
        untranslated = [e.msgid for e in entries if not e.msgstrs or not all(e.msgstrs)]
        assert not untranslated, (
            f"{path}: {len(untranslated)} untranslated, the first: {untranslated[0]!r}"
        )
        fuzzy = [e.msgid for e in entries if e.fuzzy]
        assert not fuzzy, f"{path}: {len(fuzzy)} fuzzy, the first: {fuzzy[0]!r}"
