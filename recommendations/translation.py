"""Fields of recommendations that readers see in their own language (English is the fallback)."""

from modeltranslation.translator import TranslationOptions, register

from recommendations.models import Concern, Recommendation, SdgTarget, Theme


@register(Theme)
class ThemeTranslationOptions(TranslationOptions):
    fields = ("name",)


@register(SdgTarget)
class SdgTargetTranslationOptions(TranslationOptions):
    fields = ("title",)


@register(Recommendation)
class RecommendationTranslationOptions(TranslationOptions):
    fields = ("text",)


@register(Concern)
class ConcernTranslationOptions(TranslationOptions):
    fields = ("text",)
