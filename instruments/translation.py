"""Fields of instruments that readers see in their own language (English is the fallback)."""

from modeltranslation.translator import TranslationOptions, register

from instruments.models import Instrument, Source


@register(Instrument)
class InstrumentTranslationOptions(TranslationOptions):
    fields = ("title", "short_title")


@register(Source)
class SourceTranslationOptions(TranslationOptions):
    fields = ("title",)
