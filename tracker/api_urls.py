"""The routes of API v1."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from instruments.api import CitationViewSet, InstrumentViewSet, ProvisionViewSet, SourceViewSet
from recommendations.api import (
    AssessmentViewSet,
    ConcernViewSet,
    RecommendationViewSet,
    ThemeViewSet,
)
from tracker.api import OrganisationViewSet
from tracker.api_webhooks import WebhookEndpointViewSet
from tracker.feed import ChangeFeedViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("instruments", InstrumentViewSet, basename="instrument")
router.register("provisions", ProvisionViewSet, basename="provision")
router.register("sources", SourceViewSet, basename="source")
router.register("citations", CitationViewSet, basename="citation")
router.register("themes", ThemeViewSet, basename="theme")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("concerns", ConcernViewSet, basename="concern")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("changes", ChangeFeedViewSet, basename="change")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls
