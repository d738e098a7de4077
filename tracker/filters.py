"""The API's filter sets, whose forms are built once per language instead of per request.

django-filter builds a filter set's form class anew for every request: a
form field per filter, each labelled by looking up and translating its
model field's name. On the recommendations list, whose page is otherwise
plain rows, that was about a twelfth of an unfiltered request at 100,000
recommendations (README, "Scale"). Nothing in these forms depends on the
request, only on the active language, so the class is kept per language.
A filter whose choices come from a query the request decides (a
`ModelChoiceFilter` given a callable) would, so a filter set holding one
builds its form class for every request, as django-filter does.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.utils import translation
from django_filters.filters import QuerySetRequestMixin


class FilterSet(django_filters.FilterSet):  # type: ignore[misc]
    """A `django_filters.FilterSet` whose form class is kept per language."""

    _form_classes: ClassVar[dict[tuple[type[Any], str | None], type[Any]]] = {}

    def get_form_class(self) -> type[Any]:
        if any(isinstance(filter_, QuerySetRequestMixin) for filter_ in self.filters.values()):
            return super().get_form_class()  # type: ignore[no-any-return]
        key = (type(self), translation.get_language())
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = self._form_classes[key] = super().get_form_class()
        return form_class
