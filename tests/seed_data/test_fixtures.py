"""Integrity of the seed data set in fixtures/: it loads, and every record cites its source.

The fixtures are the tracker's first real data (Kazakhstan's migration legislation, from the
five texts in fixtures/sources/), so they are held to the rule the tracker promises its
readers: every record is supported by a quote that can be found, word for word, in a document
the tracker keeps.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import models

from instruments.models import (
    Citation,
    Instrument,
    InstrumentRelation,
    Provision,
    Source,
    TreatyParticipation,
)
from recommendations.choices import Status
from recommendations.models import (
    Concern,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
    Theme,
)
from tracker.models import Organisation

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
FIXTURE_FILES = sorted(str(path) for path in FIXTURES_DIR.glob("*.json"))

# Every model whose records must each be supported by at least one citation.
CITED_MODELS: list[type[models.Model]] = [
    Organisation,
    Theme,
    Instrument,
    InstrumentRelation,
    TreatyParticipation,
    Provision,
    Recommendation,
    Concern,
    ProvisionLink,
]

# How each model's natural key reads from its serialised fields (foreign keys already
# appear there as natural keys).
NATURAL_KEY_OF: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "tracker.organisation": lambda fields: (fields["slug"],),
    "instruments.source": lambda fields: (fields["key"],),
    "recommendations.theme": lambda fields: (fields["slug"],),
    "instruments.instrument": lambda fields: (fields["slug"],),
    "instruments.instrumentrelation": lambda fields: (
        fields["subject"][0],
        fields["kind"],
        fields["target"][0],
    ),
    "instruments.treatyparticipation": lambda fields: (
        fields["instrument"][0],
        fields["country"],
        fields["status"],
    ),
    "instruments.provision": lambda fields: (fields["instrument"][0], fields["eid"]),
    "recommendations.recommendation": lambda fields: (fields["code"],),
    "recommendations.concern": lambda fields: (fields["code"],),
    "recommendations.provisionlink": lambda fields: (fields["key"],),
    "instruments.citation": lambda fields: (fields["key"],),
}

CORPUS_DOCUMENTS = [
    "2008-05-29-osce-almaty-labour-migration-conference.txt",
    "2009-10-29-osce-odihr-astana-workshop-draft-migration-law.txt",
    "2011-12-iom-100th-session-kazakhstan-statement.txt",
    "human-rights-commission-report-migrant-workers-trafficking.txt",
    "osce-eed-session-4-kazakhstan-statement-migration.txt",
]


def load_seed() -> None:
    call_command("loaddata", *FIXTURE_FILES, verbosity=0)


def fixture_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for name in FIXTURE_FILES:
        objects.extend(json.loads(Path(name).read_text(encoding="utf-8")))
    return objects


def collapsed(text: str) -> str:
    # Source texts break lines mid-sentence; a quote may be given on one line.
    return " ".join(text.split())


def row_counts() -> dict[str, int]:
    counted: list[type[models.Model]] = [*CITED_MODELS, Source, Citation]
    counts = {model._meta.label: model._default_manager.count() for model in counted}
    for field in (
        Recommendation.addressed_to,
        Recommendation.themes,
        Concern.themes,
        Concern.answered_by,
    ):
        through = field.through
        counts[through._meta.label] = through._default_manager.count()
    return counts


@pytest.fixture
def seeded(db: None) -> None:
    load_seed()


def test_it_finds_the_six_fixture_files() -> None:
    assert [Path(name).name for name in FIXTURE_FILES] == [
        "01_organisations.json",
        "02_sources.json",
        "03_themes.json",
        "04_instruments.json",
        "05_recommendations.json",
        "06_citations.json",
    ]


def test_it_loads(seeded: None) -> None:
    counts = row_counts()
    assert all(count > 0 for count in counts.values()), counts


def test_it_loads_twice_without_duplicates(seeded: None) -> None:
    before = row_counts()
    load_seed()
    assert row_counts() == before


def test_it_uses_no_primary_keys_in_fixtures() -> None:
    with_pk = [obj for obj in fixture_objects() if "pk" in obj]
    assert with_pk == []


def test_it_has_unique_natural_keys() -> None:
    keys = Counter(
        (obj["model"], NATURAL_KEY_OF[obj["model"]](obj["fields"])) for obj in fixture_objects()
    )
    duplicates = [key for key, count in keys.items() if count > 1]
    assert duplicates == []


def test_it_cites_every_record(seeded: None) -> None:
    uncited = {
        model._meta.label: list(model._default_manager.filter(citations__isnull=True))
        for model in CITED_MODELS
    }
    uncited["described sources"] = list(
        Source.objects.filter(document="", descriptions__isnull=True)
    )
    assert {label: rows for label, rows in uncited.items() if rows} == {}


def test_it_quotes_every_citation_from_its_source_document(seeded: None) -> None:
    texts: dict[int, str] = {}
    misquoted = []
    for citation in Citation.objects.select_related("source"):
        if citation.source_id not in texts:
            texts[citation.source_id] = collapsed(citation.source.read_text())
        if collapsed(citation.quote) not in texts[citation.source_id]:
            misquoted.append(citation.key)
    assert misquoted == []


def test_it_cites_only_sources_with_a_document_file(seeded: None) -> None:
    without_file = [
        citation.key
        for citation in Citation.objects.select_related("source")
        if (path := citation.source.document_path()) is None or not path.is_file()
    ]
    assert without_file == []


def test_it_cites_each_corpus_document(seeded: None) -> None:
    cited_documents = set(Citation.objects.values_list("source__document", flat=True))
    assert set(CORPUS_DOCUMENTS) <= cited_documents
    assert sorted(p.name for p in Path(settings.SOURCE_DOCUMENTS_DIR).glob("*.txt")) == sorted(
        CORPUS_DOCUMENTS
    )


def test_it_keeps_both_years_claimed_for_the_law_on_refugees(seeded: None) -> None:
    law = Instrument.objects.get(slug="kz-law-on-refugees")
    claims = law.citations.filter(claim_field="adopted_on")
    assert law.adopted_on is None
    assert sorted(claims.values_list("claim_value", flat=True)) == ["2009", "2010"]
    assert claims.values("source").distinct().count() == 2


def test_it_has_no_assessments_and_nothing_assessed(seeded: None) -> None:
    assert not StatusAssessment.objects.exists()
    assert set(Recommendation.objects.values_list("headline_status", flat=True)) == {
        Status.NOT_ASSESSED
    }


def test_it_records_the_draft_migration_law_becoming_the_2011_law(seeded: None) -> None:
    relation = InstrumentRelation.objects.get(
        subject__slug="kz-draft-law-migration-of-the-population",
        kind="became",
        target__slug="kz-law-migration-of-the-population-2011",
    )
    assert relation.subject.state == "draft"
    assert str(relation.target.adopted_on) == "2011-07-22"


def test_it_has_article_14_of_the_constitution_and_article_3_of_both_covenants(
    seeded: None,
) -> None:
    for instrument, eid, label in [
        ("kz-constitution", "art_14", "Article 14"),
        ("iccpr", "art_3", "Article 3"),
        ("icescr", "art_3", "Article 3"),
    ]:
        assert Provision.objects.get_by_natural_key(instrument, eid).label == label
