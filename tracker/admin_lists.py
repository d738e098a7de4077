"""What the admin's changelists share, so that they cost the same at a million rows as at ten.

Two costs of a changelist grew with the data or the rows shown:

- `RelatedOnlyFieldListFilter` finds the related records the list uses with
  `pk IN (SELECT DISTINCT …)` over the whole list: at 100,000 recommendations
  and 1,000,000 assessments, 90 to 120 ms a filter in a profile.
  `RelatedOnlyExistsFilter` asks instead, for each related record, whether
  the list holds a row of it (`EXISTS`), which the foreign key's index answers
  at once, and gives the same choices.
- A country column shown by the field itself makes the admin look its label
  up in the field's `flatchoices`, which django-countries builds anew, about
  250 countries, for each cell: about 2 ms a row, two thirds of a changelist
  page of concerns. `country_column` reads the label from the row's
  own `Country`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Exists, Field, Model, OuterRef, Q, QuerySet
from django.http import HttpRequest

M = TypeVar("M", bound=Model)


class RelatedOnlyExistsFilter(admin.RelatedOnlyFieldListFilter):
    """`RelatedOnlyFieldListFilter`'s choices, each found by an `EXISTS` on the list's queryset.

    The queryset is the model admin's own (`get_queryset`), so a list that
    shows a user only some rows offers only the related records of those.
    """

    def rows_of_choice(self, request: HttpRequest, model_admin: Any) -> QuerySet[Any]:
        """The rows that make a related record a choice, `OuterRef("pk")` standing for it."""
        rows: QuerySet[Any] = (
            model_admin.get_queryset(request)
            .order_by()
            .filter(**{f"{self.field_path}__pk": OuterRef("pk")})
        )
        return rows

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        rows = self.rows_of_choice(request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, limit_choices_to=Q(Exists(rows)), ordering=ordering
        )


def country_column(model: type[M]) -> Callable[[M], Any]:
    """A changelist column of `model`'s `country` by name, headed as the field."""
    field = model._meta.get_field("country")
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.country is not a field of its own")

    @admin.display(description=field.verbose_name, ordering="country")
    def country(record: M) -> str | None:
        # The name in the active language; no country shows as the empty value.
        value = getattr(record, "country", None)
        return str(value.name) if value else None

    return country
