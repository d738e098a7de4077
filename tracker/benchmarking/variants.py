"""What other Django teams would write for the list page and the overview, to compare with ours.

- plain: a `ModelViewSet` over the model with the nested `ModelSerializer`s,
  page-number pagination and the default JSON renderer, the overview counted
  one `count()` per group and status: what most Django projects write;
- tuned: `select_related`/`prefetch_related`, cursor pagination and an orjson
  renderer, the overview as one grouped query per breakdown: what a careful
  Django team writes.

Both produce the same representation as the API (the same serializers), so
that the benchmark can check their output equal to ours before timing them.
They are mounted only by the benchmark's own URL configuration
(`tracker.benchmarking.urls`), never by the site's.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import orjson
from django.db.models import Count, Q
from django.utils import timezone
from rest_framework import pagination, renderers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recommendations.api import recommendations_for_api
from recommendations.choices import Status
from recommendations.models import CurrentAssessment, ProvisionLink, Recommendation
from recommendations.reports import CLOSED_STATUSES
from recommendations.serializers import RecommendationSerializer
from recommendations.synthetic import m2m_through
from tracker.models import Organisation

PAGE_SIZE = 100

Counts = dict[str, dict[str, int]]


class OrjsonRenderer(renderers.BaseRenderer):
    """JSON through orjson, several times faster than the standard library's encoder."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data)


class PlainPagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE


class TunedPagination(pagination.CursorPagination):
    page_size = PAGE_SIZE
    ordering = "code"


class PlainRecommendationViewSet(viewsets.ModelViewSet[Recommendation]):
    """The textbook viewset. Reads only: its writes would go around the services."""

    queryset = Recommendation.objects.order_by("code")
    serializer_class = RecommendationSerializer
    pagination_class = PlainPagination
    lookup_field = "code"
    filter_backends: list[Any] = []
    http_method_names = ["get", "head", "options"]


class TunedRecommendationViewSet(viewsets.ReadOnlyModelViewSet[Recommendation]):
    """Related rows fetched in a fixed number of queries, cursor pages, orjson."""

    queryset = recommendations_for_api().order_by("code")
    serializer_class = RecommendationSerializer
    pagination_class = TunedPagination
    renderer_classes = [OrjsonRenderer]
    lookup_field = "code"
    filter_backends: list[Any] = []


def _add(counts: Counts, key: str, status: str, n: int) -> None:
    if n:
        counts.setdefault(key, {})[status] = n


class PlainOverview(APIView):
    """Counts one `count()` at a time: per status, per group and status."""

    def get(self, request: Request) -> Response:
        today = timezone.localdate()
        statuses = list(Status.values)
        recommendations = Recommendation.objects.all()
        by_status = {
            status: n
            for status in statuses
            if (n := recommendations.filter(headline_status=status).count())
        }
        breakdowns: dict[str, Counts] = {
            name: {} for name in ("issued_by", "instrument", "theme", "assessor", "country")
        }
        for organisation in Organisation.objects.all():
            for status in statuses:
                _add(
                    breakdowns["issued_by"],
                    organisation.slug,
                    status,
                    recommendations.filter(issued_by=organisation, headline_status=status).count(),
                )
                _add(
                    breakdowns["assessor"],
                    organisation.slug,
                    status,
                    CurrentAssessment.objects.filter(assessor=organisation, status=status).count(),
                )
        for link_instrument in (
            ProvisionLink.objects.filter(recommendation__isnull=False)
            .order_by()
            .values_list("instrument__slug", flat=True)
            .distinct()
        ):
            for status in statuses:
                _add(
                    breakdowns["instrument"],
                    link_instrument,
                    status,
                    recommendations.filter(
                        provision_links__instrument__slug=link_instrument, headline_status=status
                    )
                    .distinct()
                    .count(),
                )
        for theme_slug in (
            m2m_through(Recommendation, "themes")
            ._default_manager.values_list("theme__slug", flat=True)
            .distinct()
        ):
            for status in statuses:
                _add(
                    breakdowns["theme"],
                    theme_slug,
                    status,
                    recommendations.filter(themes__slug=theme_slug, headline_status=status)
                    .distinct()
                    .count(),
                )
        for country in recommendations.order_by().values_list("country", flat=True).distinct():
            for status in statuses:
                _add(
                    breakdowns["country"],
                    str(country),
                    status,
                    recommendations.filter(country=country, headline_status=status).count(),
                )
        return Response(
            {
                "total": recommendations.count(),
                "by_status": by_status,
                "disputed": recommendations.filter(disputed=True).count(),
                "overdue": recommendations.filter(follow_up_due__lt=today)
                .exclude(headline_status__in=CLOSED_STATUSES)
                .count(),
                "breakdowns": breakdowns,
            }
        )


def _grouped(rows: Any, key: str, status: str) -> Counts:
    counts: Counts = {}
    for row in rows:
        _add(counts, str(row[key]), row[status], row["n"])
    return counts


class TunedOverview(APIView):
    """One grouped query per breakdown, rendered by orjson."""

    renderer_classes = [OrjsonRenderer]

    def get(self, request: Request) -> Response:
        today: datetime.date = timezone.localdate()
        recommendations = Recommendation.objects.order_by()
        by_status = {
            row["headline_status"]: row["n"]
            for row in recommendations.values("headline_status").annotate(n=Count("pk"))
        }
        flags = recommendations.aggregate(
            disputed=Count("pk", filter=Q(disputed=True)),
            overdue=Count(
                "pk", filter=Q(follow_up_due__lt=today) & ~Q(headline_status__in=CLOSED_STATUSES)
            ),
        )
        status = "recommendation__headline_status"
        breakdowns = {
            "issued_by": _grouped(
                recommendations.values("issued_by__slug", "headline_status").annotate(
                    n=Count("pk")
                ),
                "issued_by__slug",
                "headline_status",
            ),
            "instrument": _grouped(
                ProvisionLink.objects.filter(recommendation__isnull=False)
                .values("instrument__slug", status)
                .annotate(n=Count("recommendation_id", distinct=True))
                .order_by(),
                "instrument__slug",
                status,
            ),
            "theme": _grouped(
                m2m_through(Recommendation, "themes")
                ._default_manager.values("theme__slug", status)
                .annotate(n=Count("recommendation_id", distinct=True))
                .order_by(),
                "theme__slug",
                status,
            ),
            "assessor": _grouped(
                CurrentAssessment.objects.values("assessor__slug", "status")
                .annotate(n=Count("pk"))
                .order_by(),
                "assessor__slug",
                "status",
            ),
            "country": _grouped(
                recommendations.values("country", "headline_status").annotate(n=Count("pk")),
                "country",
                "headline_status",
            ),
        }
        return Response(
            {
                "total": sum(by_status.values()),
                "by_status": by_status,
                "disputed": flags["disputed"],
                "overdue": flags["overdue"],
                "breakdowns": breakdowns,
            }
        )
