from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from recommendations import services
from recommendations.choices import ReviewState
from recommendations.models import (
    Concern,
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    SdgTarget,
    StatusAssessment,
    Theme,
)
from tracker.models import Organisation
from tracker.roles import Role, can_review, may_act_for, roles_of


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin[Theme]):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SdgTarget)
class SdgTargetAdmin(admin.ModelAdmin[SdgTarget]):
    list_display = ["code", "title"]
    search_fields = ["code", "title"]


class ProvisionLinkInline(admin.TabularInline[ProvisionLink, Recommendation]):
    model = ProvisionLink
    fields = ["key", "relation", "instrument", "provision", "note"]
    autocomplete_fields = ["instrument", "provision"]
    extra = 0


class CurrentAssessmentInline(admin.TabularInline[CurrentAssessment, Recommendation]):
    model = CurrentAssessment
    fields = ("assessor", "status", "status_since", "assessment")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AssessmentTimelineInline(admin.TabularInline[StatusAssessment, Recommendation]):
    model = StatusAssessment
    fk_name = "recommendation"
    fields = ("assessor", "status", "status_since", "review_state", "visibility", "corrects")
    readonly_fields = fields
    ordering = ["assessor__name", "status_since", "id"]
    can_delete = False
    extra = 0
    verbose_name_plural = _("assessment timeline")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusAssessment]:
        return super().get_queryset(request).select_related("assessor", "corrects")


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin[Recommendation]):
    list_display = [
        "code",
        "kind",
        "issued_by",
        "issued_display",
        "country",
        "headline_status",
        "disputed",
        "follow_up_due",
    ]
    list_filter = [
        "headline_status",
        "disputed",
        "kind",
        "issued_by",
        "country",
        "themes",
        "state_response",
        "provision_links__instrument",
    ]
    list_select_related = ["issued_by"]
    search_fields = ["code", "text"]
    autocomplete_fields = ["issued_by", "addressed_to", "source", "themes", "sdg_targets"]
    raw_id_fields = ["reiterates"]
    readonly_fields = ["headline_status", "disputed", "created_at", "updated_at"]
    inlines = [ProvisionLinkInline, CurrentAssessmentInline, AssessmentTimelineInline]


@admin.register(Concern)
class ConcernAdmin(admin.ModelAdmin[Concern]):
    list_display = ["code", "raised_by", "raised_on", "country"]
    list_filter = ["raised_by", "country", "themes"]
    list_select_related = ["raised_by"]
    search_fields = ["code", "text"]
    autocomplete_fields = ["raised_by", "source", "themes", "answered_by"]


@admin.register(ProvisionLink)
class ProvisionLinkAdmin(admin.ModelAdmin[ProvisionLink]):
    list_display = ["key", "recommendation", "concern", "relation", "instrument", "provision"]
    list_filter = ["relation", "instrument"]
    list_select_related = ["recommendation", "concern", "instrument", "provision__instrument"]
    search_fields = ["key", "recommendation__code", "concern__code", "provision__label"]
    autocomplete_fields = ["recommendation", "concern", "instrument", "provision"]


class StatusAssessmentForm(forms.ModelForm[StatusAssessment]):
    """Collects a new assessment; `StatusAssessmentAdmin.save_model` hands it to the service."""

    submit_now = forms.BooleanField(label=_("Submit for review now"), required=False, initial=False)

    class Meta:
        model = StatusAssessment
        fields = [
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
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        request_user = getattr(self, "request_user", None)
        assessor = cleaned.get("assessor")
        recommendation = cleaned.get("recommendation")
        if assessor and request_user is not None and not may_act_for(request_user, assessor):
            self.add_error("assessor", _("You may only assess for your own organisation."))
        if assessor and recommendation and cleaned.get("status") and cleaned.get("status_since"):
            try:
                services.assessment_validate_input(
                    recommendation=recommendation,
                    assessor=assessor,
                    status=cleaned["status"],
                    status_since=cleaned["status_since"],
                    corrects=cleaned.get("corrects"),
                    correction_reason=cleaned.get("correction_reason", ""),
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(StatusAssessment)
class StatusAssessmentAdmin(admin.ModelAdmin[StatusAssessment]):
    """Assessments are added here and never edited once submitted."""

    form = StatusAssessmentForm
    list_display = [
        "recommendation",
        "assessor",
        "status",
        "status_since",
        "review_state",
        "visibility",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["review_state", "status", "visibility", "assessor"]
    list_select_related = ["recommendation", "assessor", "recorded_by"]
    search_fields = ["recommendation__code", "evidence"]
    autocomplete_fields = ["recommendation", "assessor", "source", "corrects"]
    date_hierarchy = "status_since"
    actions = ["submit_selected", "publish_selected"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user  # type: ignore[attr-defined]
        return form

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [*StatusAssessmentForm.Meta.fields, "submit_now"]
        return [f.name for f in self.model._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Content is frozen once recorded: a change is a new assessment (a correction).
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assessor" and not (
            request.user.is_superuser or roles_of(request.user) & {Role.ADMINISTRATOR, Role.EDITOR}
        ):
            kwargs["queryset"] = Organisation.objects.filter(
                members__username=request.user.get_username()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: StatusAssessment, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        created = services.assessment_record(
            recommendation=data["recommendation"],
            assessor=data["assessor"],
            recorded_by=request.user,
            status=data["status"],
            status_since=data["status_since"],
            evidence=data["evidence"],
            evidence_url=data.get("evidence_url", ""),
            source=data.get("source"),
            visibility=data["visibility"],
            corrects=data.get("corrects"),
            correction_reason=data.get("correction_reason", ""),
            submit=bool(data.get("submit_now")),
        )
        # The admin logs the addition against `obj`; give it the stored row.
        obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description=_("Submit selected drafts for review"))
    def submit_selected(self, request: HttpRequest, queryset: QuerySet[StatusAssessment]) -> None:
        self._apply(
            request,
            queryset.filter(review_state=ReviewState.DRAFT),
            lambda a: services.assessment_submit(assessment=a, user=request.user),
        )

    @admin.action(description=_("Publish selected submitted assessments"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[StatusAssessment]) -> None:
        if not can_review(request.user):
            self.message_user(request, _("You may not publish assessments."), messages.ERROR)
            return
        self._apply(
            request,
            queryset.filter(review_state=ReviewState.SUBMITTED),
            lambda a: services.assessment_publish(assessment=a, reviewer=request.user),
        )

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[StatusAssessment], action: Any
    ) -> None:
        done = 0
        for assessment in queryset:
            try:
                action(assessment)
                done += 1
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{assessment}: {error}", messages.ERROR)
        self.message_user(request, _("%(count)d assessments updated.") % {"count": done})


@admin.register(CurrentAssessment)
class CurrentAssessmentAdmin(admin.ModelAdmin[CurrentAssessment]):
    """Derived rows, shown for inspection only."""

    list_display = ["recommendation", "assessor", "status", "status_since"]
    list_filter = ["status", "assessor"]
    list_select_related = ["recommendation", "assessor"]
    search_fields = ["recommendation__code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
