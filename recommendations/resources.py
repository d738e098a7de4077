"""Spreadsheet (CSV, XLSX) import and export of recommendations, links and assessments.

Rows name related records by their natural keys (organisation slugs, source
keys, recommendation codes), never by database ids, so a sheet moves between
trackers. Every imported row is written by the same service the admin and the
API use, so it is checked and leaves the same history. A preview is an import
inside a transaction that is rolled back (IMPORT_EXPORT_USE_TRANSACTIONS).

Exported text cells that a spreadsheet would read as a formula (starting with
`=`, `+`, `-`, `@`, their full-width forms, a tab or a line break) are written with a leading
apostrophe; the import takes that apostrophe off again, so an exported sheet
re-imports unchanged.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from instruments.models import Instrument, Provision, Source
from recommendations import services
from recommendations.choices import (
    ReviewState,
    StateResponse,
    Status,
    response_from_label,
    status_from_label,
)
from recommendations.models import (
    Concern,
    ProvisionLink,
    Recommendation,
    SdgTarget,
    StatusAssessment,
    Theme,
)
from tracker.models import Organisation

# A cell a spreadsheet would evaluate, possibly behind apostrophes already
# added by this module; `escape_formula` and `unescape_formula` are inverses.
# Full-width signs count too: some spreadsheet programs read them as formulas.
_TRIGGERS = "=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20"
_FORMULA = re.compile(f"^'*[{_TRIGGERS}]")
_ESCAPED_FORMULA = re.compile(f"^'+[{_TRIGGERS}]")


def escape_formula(value: Any) -> Any:
    """Neutralise a text cell that a spreadsheet would run as a formula."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """Undo `escape_formula`: the text as it was before export."""
    if isinstance(value, str) and _ESCAPED_FORMULA.match(value):
        return value[1:]
    return value


class DayWidget(widgets.DateWidget):
    """A date; XLSX cells arrive as datetimes, which are taken as their day."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            return value.date()
        day: datetime.date | None = super().clean(value, row, **kwargs)
        return day


class StatusWidget(widgets.Widget):
    """A status in our words or another vocabulary's (ODIHR's "mostly", "in progress")."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        try:
            return str(status_from_label(str(value or "")))
        except KeyError:
            raise ValueError(
                _("Unknown status “%(value)s”; use one of: %(known)s.")
                % {"value": value, "known": ", ".join(Status.values)}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class StateResponseWidget(widgets.Widget):
    """The state's response in our words or the UPR's ("supported", "noted")."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if not value:
            return str(StateResponse.NO_RESPONSE)
        try:
            return str(response_from_label(str(value)))
        except KeyError:
            raise ValueError(
                _("Unknown state response “%(value)s”; use one of: %(known)s.")
                % {"value": value, "known": ", ".join(StateResponse.values)}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class KeyWidget(widgets.ForeignKeyWidget):
    """A related record named by its natural key; an unknown key is an error naming it."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No %(model)s has the key “%(value)s”.")
                % {"model": self.model._meta.verbose_name, "value": value}
            ) from None


class KeysWidget(widgets.ManyToManyWidget):
    """Related records named by natural keys separated by `|`; unknown keys are errors."""

    def __init__(self, model: Any, field: str) -> None:
        super().__init__(model, separator="|", field=field)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        keys = [key.strip() for key in str(value or "").split(self.separator) if key.strip()]
        found = self.model.objects.filter(**{f"{self.field}__in": keys})
        missing = set(keys) - {str(getattr(record, self.field)) for record in found}
        if missing:
            raise ValueError(
                _("No %(model)s has the key “%(value)s”.")
                % {"model": self.model._meta.verbose_name, "value": ", ".join(sorted(missing))}
            )
        return found


class UuidWidget(widgets.Widget):
    """An assessment's key; an invalid one is an error naming the value."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> uuid.UUID | None:
        if value in (None, ""):
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise ValueError(_("“%(value)s” is not a valid key.") % {"value": value}) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


class TranslationWidget(widgets.Widget):
    """Text in one language; an empty cell is a missing translation (English shows instead)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        return str(value) if value not in (None, "") else None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value or "")


def _key(column: str, model: Any, field: str) -> fields.Field:
    return fields.Field(attribute=column, column_name=column, widget=KeyWidget(model, field))


class SpreadsheetResource(resources.ModelResource):
    """Shared behaviour: formula-safe export, apostrophes removed on import, the acting user."""

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
        # All rows or none: a sheet with one bad row changes nothing, so it can
        # be corrected and imported again without duplicating the good rows.
        with transaction.atomic():
            result = super().import_data(dataset, *args, **kwargs)
            if result.has_errors() or result.has_validation_errors():
                transaction.set_rollback(True)
        return result

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        for column in list(row.keys()):
            # XLSX gives empty cells as None; CSV as "". Treat both alike.
            row[column] = "" if row[column] is None else unescape_formula(row[column])

    def save_m2m(self, instance: Any, row: Any, **kwargs: Any) -> None:
        # Many-to-many relations are written by the service, with the row.
        return None

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        try:
            saved = self.save_through_service(instance, row, user=kwargs.get("user"))
        except PermissionDenied as refusal:
            # Shown in the preview beside the row, like any other error in it.
            raise ValidationError(str(refusal)) from None
        instance.pk = saved.pk

    def save_through_service(self, instance: Any, row: Any, *, user: Any) -> Any:
        raise NotImplementedError

    def m2m_value(self, name: str, row: Any) -> Any:
        """The cleaned value of a many-to-many column, or None when the sheet lacks it."""
        field = self.fields[name]
        if field.column_name not in row:
            return None
        return field.clean(row)


class RecommendationResource(SpreadsheetResource):
    """Recommendations by code, with the text in each language and related records by key."""

    code = fields.Field(attribute="code", column_name="code")
    text_en = fields.Field(attribute="text_en", column_name="text_en")
    text_ru = fields.Field(attribute="text_ru", column_name="text_ru", widget=TranslationWidget())
    text_kk = fields.Field(attribute="text_kk", column_name="text_kk", widget=TranslationWidget())
    issued_by = _key("issued_by", Organisation, "slug")
    issued_on = fields.Field(attribute="issued_on", column_name="issued_on", widget=DayWidget())
    source = _key("source", Source, "key")
    follow_up_due = fields.Field(
        attribute="follow_up_due", column_name="follow_up_due", widget=DayWidget()
    )
    reiterates = _key("reiterates", Recommendation, "code")
    state_response = fields.Field(
        attribute="state_response", column_name="state_response", widget=StateResponseWidget()
    )
    addressed_to = fields.Field(
        attribute="addressed_to",
        column_name="addressed_to",
        widget=KeysWidget(Organisation, "slug"),
    )
    themes = fields.Field(
        attribute="themes", column_name="themes", widget=KeysWidget(Theme, "slug")
    )
    sdg_targets = fields.Field(
        attribute="sdg_targets", column_name="sdg_targets", widget=KeysWidget(SdgTarget, "code")
    )

    class Meta:
        model = Recommendation
        import_id_fields = ["code"]
        fields = [
            "code",
            "kind",
            "text_en",
            "text_ru",
            "text_kk",
            "issued_by",
            "issued_on",
            "issued_on_precision",
            "source",
            "addressed_to",
            "country",
            "themes",
            "sdg_targets",
            "follow_up_due",
            "reiterates",
            "state_response",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def dehydrate_country(self, recommendation: Recommendation) -> str:
        return str(recommendation.country)

    def save_through_service(self, instance: Any, row: Any, *, user: Any) -> Any:
        return services.recommendation_upsert(
            user=user,
            code=instance.code,
            text=instance.text_en or "",
            text_translations={"ru": instance.text_ru or "", "kk": instance.text_kk or ""},
            issued_by=instance.issued_by,
            country=str(instance.country),
            kind=instance.kind,
            issued_on=instance.issued_on,
            issued_on_precision=instance.issued_on_precision,
            source=instance.source,
            follow_up_due=instance.follow_up_due,
            state_response=instance.state_response,
            reiterates=instance.reiterates,
            addressed_to=self.m2m_value("addressed_to", row),
            themes=self.m2m_value("themes", row),
            sdg_targets=self.m2m_value("sdg_targets", row),
        )


class ProvisionLinkResource(SpreadsheetResource):
    """Links by key; the provision is named by its instrument's key and its path."""

    key = fields.Field(attribute="key", column_name="key")
    recommendation = _key("recommendation", Recommendation, "code")
    concern = _key("concern", Concern, "code")
    instrument = _key("instrument", Instrument, "slug")
    provision = fields.Field(column_name="provision")

    class Meta:
        model = ProvisionLink
        import_id_fields = ["key"]
        fields = ["key", "recommendation", "concern", "relation", "instrument", "provision", "note"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def dehydrate_provision(self, link: ProvisionLink) -> str:
        return link.provision.eid if link.provision else ""

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        path = str(row.get("provision") or "").strip()
        if not path:
            instance.provision = None
            return
        if instance.instrument_id is None:
            raise ValidationError({"provision": _("Name the instrument the provision is in.")})
        provision = Provision.objects.filter(instrument=instance.instrument_id, eid=path).first()
        if provision is None:
            raise ValidationError(
                {
                    "provision": _("%(instrument)s has no provision “%(path)s”.")
                    % {"instrument": instance.instrument, "path": path}
                }
            )
        instance.provision = provision

    def skip_row(
        self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        # The provision column is not a model field, so compare it here too.
        if original is not None and original.pk and original.provision_id != instance.provision_id:
            return False
        skipped: bool = super().skip_row(instance, original, row, import_validation_errors)
        return skipped

    def save_through_service(self, instance: Any, row: Any, *, user: Any) -> Any:
        return services.provision_link_upsert(
            user=user,
            key=instance.key,
            relation=instance.relation,
            recommendation=instance.recommendation,
            concern=instance.concern,
            provision=instance.provision,
            instrument=instance.instrument,
            note=instance.note,
        )


class StatusAssessmentResource(SpreadsheetResource):
    """Assessments by key. Importing adds new ones (draft or submitted); never changes one.

    A row whose key is already recorded with the same content is skipped, so a
    sheet exported from this tracker re-imports without effect; a row that
    would change a recorded assessment is refused: that is a correction, a new
    assessment naming the one it corrects.
    """

    key = fields.Field(attribute="key", column_name="key", widget=UuidWidget())
    recommendation = _key("recommendation", Recommendation, "code")
    assessor = _key("assessor", Organisation, "slug")
    status = fields.Field(attribute="status", column_name="status", widget=StatusWidget())
    status_since = fields.Field(
        attribute="status_since", column_name="status_since", widget=DayWidget()
    )
    source = _key("source", Source, "key")
    corrects = _key("corrects", StatusAssessment, "key")

    class Meta:
        model = StatusAssessment
        import_id_fields = ["key"]
        fields = [
            "key",
            "recommendation",
            "assessor",
            "status",
            "status_since",
            "evidence",
            "evidence_url",
            "source",
            "visibility",
            "corrects",
            "correction_reason",
            "review_state",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self) -> Any:
        return StatusAssessment.objects.select_related(
            "recommendation", "assessor", "source", "corrects"
        )

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # A sheet of new assessments needs no key column: each row gets a new key.
        if "key" not in (dataset.headers or []):
            dataset.append_col([""] * len(dataset), header="key")

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        super().before_import_row(row, **kwargs)
        state = str(row.get("review_state") or ReviewState.DRAFT).strip().lower()
        if not row.get("key"):
            # A new assessment without a key of its own: draw one, as the model does.
            row["key"] = str(uuid.uuid4())
        row["review_state"] = state

    def save_through_service(self, instance: Any, row: Any, *, user: Any) -> Any:
        if not instance._state.adding:
            raise ValidationError(
                _("Assessment %(key)s is recorded already and never changes; record a correction.")
                % {"key": instance.key}
            )
        state = row.get("review_state")
        if state not in (ReviewState.DRAFT, ReviewState.SUBMITTED):
            raise ValidationError(
                {"review_state": _("An imported assessment is a draft or submitted.")}
            )
        return services.assessment_record(
            recommendation=instance.recommendation,
            assessor=instance.assessor,
            recorded_by=user,
            status=instance.status,
            status_since=instance.status_since,
            evidence=instance.evidence,
            evidence_url=instance.evidence_url,
            source=instance.source,
            visibility=instance.visibility,
            corrects=instance.corrects,
            correction_reason=instance.correction_reason,
            submit=state == ReviewState.SUBMITTED,
            key=instance.key,
        )
