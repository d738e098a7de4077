"""The site's URLs plus the comparison variants, for the benchmark's test client only."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tracker.benchmarking import variants
from tracker.urls import urlpatterns as site_urlpatterns

router = SimpleRouter()
router.register(
    "plain/recommendations", variants.PlainRecommendationViewSet, basename="plain-recommendation"
)
router.register(
    "tuned/recommendations", variants.TunedRecommendationViewSet, basename="tuned-recommendation"
)

urlpatterns = [
    *site_urlpatterns,
    path("benchmark/", include(router.urls)),
    path("benchmark/plain/overview/", variants.PlainOverview.as_view()),
    path("benchmark/tuned/overview/", variants.TunedOverview.as_view()),
]
