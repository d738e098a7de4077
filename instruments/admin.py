"""Curation of instruments, provisions, sources and citations (editors), browsing (monitors)."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from instruments.models import (
    Citation,
    Instrument,
    InstrumentRelation,
    Provision,
    Source,
    TreatyParticipation,
)
from tracker.admin_lists import country_column


class CitationInline(admin.TabularInline[Citation, Instrument]):
    model = Citation
    fk_name = "instrument"
    fields = ["key", "source", "quote", "claim_field", "claim_value"]
    autocomplete_fields = ["source"]
    extra = 0


class ProvisionInline(admin.TabularInline[Provision, Instrument]):
    model = Provision
    fields = ["eid", "label", "heading", "parent"]
    autocomplete_fields = ["parent"]
    extra = 0


class TreatyParticipationInline(admin.TabularInline[TreatyParticipation, Instrument]):
    model = TreatyParticipation
    fields = ["country", "status", "date", "date_precision", "note"]
    extra = 0


class RelationInline(admin.TabularInline[InstrumentRelation, Instrument]):
    model = InstrumentRelation
    fk_name = "subject"
    fields = ["kind", "target", "note"]
    autocomplete_fields = ["target"]
    extra = 0


@admin.register(Source)
class SourceAdmin(TranslationAdmin[Source]):
    list_display = ["title", "kind", "published_display", "publisher", "language", "document"]
    list_filter = ["kind", "language", "publisher"]
    list_select_related = ["publisher"]
    search_fields = ["title_en", "title_ru", "title_kk", "key", "author", "description"]
    autocomplete_fields = ["publisher"]
    prepopulated_fields = {"key": ["title_en"]}


@admin.register(Instrument)
class InstrumentAdmin(TranslationAdmin[Instrument]):
    list_display = [
        "title",
        "kind",
        "jurisdiction",
        country_column(Instrument),
        "state",
        "adopted_display",
    ]
    list_filter = ["kind", "jurisdiction", "state", "country"]
    search_fields = [
        "title_en",
        "title_ru",
        "title_kk",
        "short_title_en",
        "short_title_ru",
        "short_title_kk",
        "slug",
        "description",
    ]
    autocomplete_fields = ["adopted_by"]
    prepopulated_fields = {"slug": ["title_en"]}
    inlines = [ProvisionInline, RelationInline, TreatyParticipationInline, CitationInline]


@admin.register(InstrumentRelation)
class InstrumentRelationAdmin(admin.ModelAdmin[InstrumentRelation]):
    list_display = ["subject", "kind", "target"]
    list_filter = ["kind"]
    list_select_related = ["subject", "target"]
    search_fields = ["subject__title_en", "subject__slug", "target__title_en", "target__slug"]
    autocomplete_fields = ["subject", "target"]


@admin.register(TreatyParticipation)
class TreatyParticipationAdmin(admin.ModelAdmin[TreatyParticipation]):
    list_display = ["instrument", country_column(TreatyParticipation), "status", "date_display"]
    list_filter = ["status", "country"]
    list_select_related = ["instrument"]
    search_fields = ["instrument__title_en", "instrument__slug"]
    autocomplete_fields = ["instrument"]


@admin.register(Provision)
class ProvisionAdmin(admin.ModelAdmin[Provision]):
    list_display = ["label", "instrument", "eid", "heading"]
    list_filter = ["instrument__kind"]
    list_select_related = ["instrument"]
    search_fields = ["label", "eid", "heading", "text", "instrument__title_en", "instrument__slug"]
    autocomplete_fields = ["instrument", "parent"]


@admin.register(Citation)
class CitationAdmin(admin.ModelAdmin[Citation]):
    list_display = ["key", "source", "quote", "claim_field", "claim_value"]
    list_filter = ["source", "claim_field"]
    list_select_related = ["source"]
    search_fields = ["key", "quote"]
    autocomplete_fields = [
        "source",
        "organisation",
        "described_source",
        "instrument",
        "instrument_relation",
        "treaty_participation",
        "provision",
        "theme",
        "recommendation",
        "concern",
        "provision_link",
    ]
