"""Parser and pagination of the REST API, named in REST_FRAMEWORK settings.

Kept apart from `tracker.api` because DRF imports these while it loads its
views, and `tracker.api` imports those views.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, filters, pagination, parsers, status
from rest_framework.request import Request


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class BoundedJSONParser(parsers.JSONParser):
    """JSON only, and no more than API_MAX_BODY_BYTES of it (413 beyond)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        request = (parser_context or {}).get("request")
        limit: int = settings.API_MAX_BODY_BYTES
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        if length and length.isdigit() and int(length) > limit:
            raise RequestTooLarge(
                _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            )
        return super().parse(stream, media_type, parser_context)


class KeyCursorPagination(pagination.CursorPagination):
    """Opaque cursors: pages stay stable while records are added before the cursor."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "pk"


class SearchFilter(filters.SearchFilter):
    """DRF's search, whose refusal of a null character names the `search` parameter.

    DRF's own error names no field, which the schema's field-keyed errors cannot describe.
    """

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            terms: list[str] = super().get_search_terms(request)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({self.search_param: error.detail}) from None
        return terms
