"""The monitors' and reviewers' workplace.

Every write an assessment needs goes through `recommendations.services`: the
add form, the bulk action, the review page and spreadsheet imports alike.
Monitors see and act for their own organisation only; what a role may do is
asked of `tracker.roles`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from modeltranslation.admin import TranslationAdmin

from instruments.models import Source
from recommendations import services
from recommendations.choices import ASSESSABLE_STATUSES, ReviewState, Status, Visibility
from recommendations.models import (
    AsOfCount,
    AsOfPending,
    Concern,
    CurrentAssessment,
    HeadlinePeriod,
    OverviewCount,
    ProvisionLink,
    Recommendation,
    SdgTarget,
    StatusAssessment,
    StatusPeriod,
    Theme,
)
from recommendations.resources import (
    ProvisionLinkResource,
    RecommendationResource,
    StatusAssessmentResource,
)
from tracker.admin_lists import RelatedOnlyExistsFilter, country_column
from tracker.api_admin import ReadOnlyAdmin
from tracker.models import Organisation
from tracker.roles import can_review, may_act_for, may_act_for_any_organisation

_DONE = (Status.FULLY_IMPLEMENTED, Status.NO_LONGER_RELEVANT)


def organisations_acting_for(user: Any) -> QuerySet[Organisation]:
    """The organisations `user` may record assessments for, as the forms offer them."""
    if may_act_for_any_organisation(user):
        return Organisation.objects.all()
    own = getattr(user, "organisation_id", None)
    return Organisation.objects.none() if own is None else Organisation.objects.filter(pk=own)


def assessments_visible_to(user: Any, queryset: QuerySet[StatusAssessment]) -> Any:
    """Everything for editors; for monitors their organisation's and what is published."""
    if may_act_for_any_organisation(user):
        return queryset
    own = getattr(user, "organisation_id", None)
    return queryset.filter(Q(assessor=own) | Q(review_state=ReviewState.PUBLISHED))


@admin.register(Theme)
class ThemeAdmin(TranslationAdmin[Theme]):
    list_display = ["name", "slug"]
    search_fields = ["name_en", "name_ru", "name_kk", "slug", "description"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(SdgTarget)
class SdgTargetAdmin(TranslationAdmin[SdgTarget]):
    list_display = ["code", "title"]
    search_fields = ["code", "title_en", "title_ru", "title_kk"]


class ProvisionLinkInline(admin.TabularInline[ProvisionLink, Recommendation]):
    model = ProvisionLink
    fields = ["key", "relation", "instrument", "provision", "note"]
    autocomplete_fields = ["instrument", "provision"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProvisionLink]:
        return super().get_queryset(request).select_related("instrument", "provision__instrument")


class CurrentAssessmentInline(admin.TabularInline[CurrentAssessment, Recommendation]):
    model = CurrentAssessment
    fields = ("assessor", "status", "status_since", "assessment")
    readonly_fields = fields
    can_delete = False
    extra = 0
    verbose_name_plural = _("current assessments, by assessor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CurrentAssessment]:
        return (
            super()
            .get_queryset(request)
            .select_related("assessor", "assessment__recommendation", "assessment__assessor")
        )


class AssessmentTimelineInline(admin.TabularInline[StatusAssessment, Recommendation]):
    """Every assessment of the recommendation, grouped by assessor, oldest first. Read-only."""

    model = StatusAssessment
    fk_name = "recommendation"
    fields = (
        "assessor",
        "status",
        "status_since",
        "review_state",
        "visibility",
        "corrects",
        "recorded_by",
    )
    readonly_fields = fields
    ordering = ["assessor__name", "status_since", "id"]
    can_delete = False
    extra = 0
    verbose_name_plural = _("assessment timeline, by assessor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusAssessment]:
        rows = (
            super()
            .get_queryset(request)
            .select_related(
                "assessor", "recorded_by", "corrects__recommendation", "corrects__assessor"
            )
        )
        visible: QuerySet[StatusAssessment] = assessments_visible_to(request.user, rows)
        return visible


class OverdueFilter(admin.SimpleListFilter):
    title = _("follow-up")
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("scheduled", _("Has a follow-up date"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "overdue":
            overdue: QuerySet[Any] = queryset.overdue(timezone.localdate())  # type: ignore[attr-defined]
            return overdue
        if self.value() == "scheduled":
            return queryset.filter(follow_up_due__isnull=False)
        return queryset


class AssessorFilter(admin.SimpleListFilter):
    """Recommendations an organisation has a current (published) assessment of."""

    title = _("assessed by")
    parameter_name = "assessor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        # EXISTS, which the assessor index answers per organisation, rather
        # than a DISTINCT over every current assessment.
        assessors = Organisation.objects.filter(
            Exists(CurrentAssessment.objects.filter(assessor=OuterRef("pk")))
        )
        return [(assessor.slug, str(assessor)) for assessor in assessors]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(current_assessments__assessor__slug=self.value()).distinct()
        return queryset


class LinkedInstrumentFilter(RelatedOnlyExistsFilter):
    """The instruments some recommendation's provision links name.

    Asked of the links alone (every recommendation is in the list): an
    `EXISTS` through the recommendations too was planned as a hash join per
    instrument, 190 ms at 100,000 recommendations.
    """

    def rows_of_choice(self, request: HttpRequest, model_admin: Any) -> QuerySet[Any]:
        return ProvisionLink.objects.filter(
            instrument=OuterRef("pk"), recommendation__isnull=False
        ).order_by()


class BulkAssessmentForm(forms.Form):
    """One assessment to record for each of several recommendations."""

    assessor = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("assessed by"))
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in ASSESSABLE_STATUSES])
    status_since = forms.DateField(label=_("holds from"), widget=AdminDateWidget())
    evidence = forms.CharField(label=_("evidence"), widget=forms.Textarea(attrs={"rows": 5}))
    evidence_url = forms.URLField(
        label=_("evidence address"), required=False, assume_scheme="https"
    )
    source: forms.ModelChoiceField[Source] = forms.ModelChoiceField(
        queryset=Source.objects.all(), label=_("source"), required=False
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PUBLIC, label=_("evidence visible to")
    )
    submit_now = forms.BooleanField(label=_("Submit for review now"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = organisations_acting_for(user)
        field = self.fields["assessor"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = choices
        organisation_id = getattr(user, "organisation_id", None)
        if organisation_id is not None:
            field.initial = organisation_id


@admin.register(Recommendation)
class RecommendationAdmin(ImportExportModelAdmin, TranslationAdmin[Recommendation]):
    resource_classes = [RecommendationResource]
    list_display = [
        "code",
        "kind",
        "issued_by",
        "issued_display",
        country_column(Recommendation),
        "headline_status",
        "disputed",
        "follow_up_due",
        "is_overdue",
    ]
    list_filter = [
        "headline_status",
        "disputed",
        AssessorFilter,
        ("issued_by", RelatedOnlyExistsFilter),
        ("provision_links__instrument", LinkedInstrumentFilter),
        "themes",
        "country",
        OverdueFilter,
        "kind",
        "state_response",
    ]
    list_select_related = ["issued_by"]
    search_fields = ["code", "text_en", "text_ru", "text_kk"]
    autocomplete_fields = ["issued_by", "addressed_to", "source", "themes", "sdg_targets"]
    raw_id_fields = ["reiterates"]
    readonly_fields = [
        "record_assessment",
        "headline_status",
        "disputed",
        "concerns_answered",
        "created_at",
        "updated_at",
    ]
    inlines = [ProvisionLinkInline, CurrentAssessmentInline, AssessmentTimelineInline]
    actions = ["record_assessment_for_selected"]

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, recommendation: Recommendation) -> bool:
        due = recommendation.follow_up_due
        return bool(
            due and due < timezone.localdate() and recommendation.headline_status not in _DONE
        )

    @admin.display(description=_("new assessment"))
    def record_assessment(self, recommendation: Recommendation) -> str:
        if recommendation.pk is None:
            return "—"
        url = reverse("admin:recommendations_statusassessment_add")
        return format_html(
            '<a class="button" id="record-assessment" href="{}?recommendation={}">{}</a>',
            url,
            recommendation.pk,
            _("Record an assessment of this recommendation"),
        )

    @admin.display(description=_("concerns it answers"))
    def concerns_answered(self, recommendation: Recommendation) -> str:
        if recommendation.pk is None:
            return "—"
        concerns = Concern.objects.filter(answered_by=recommendation).select_related("raised_by")
        return (
            format_html_join(
                "",
                "<p><strong>{}</strong> ({}): {}</p>",
                ((c.code, c.raised_by, c.text) for c in concerns),
            )
            or "—"
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ProvisionLink:
            super().save_formset(request, form, formset, change)
            return
        # Links go through the service, which also takes the instrument from the provision.
        for inline_form in formset.forms:
            data = getattr(inline_form, "cleaned_data", None)
            if not data or not inline_form.has_changed() or data.get("DELETE"):
                continue
            services.provision_link_upsert(
                user=request.user,
                key=data["key"],
                relation=data["relation"],
                recommendation=form.instance,
                provision=data.get("provision"),
                instrument=data.get("instrument"),
                note=data.get("note", ""),
            )
        for inline_form in formset.forms:
            data = getattr(inline_form, "cleaned_data", None)
            if data and data.get("DELETE") and inline_form.instance.pk:
                inline_form.instance.delete()

    @admin.action(
        description=_("Record one assessment for the selected recommendations"),
        permissions=["record"],
    )
    def record_assessment_for_selected(
        self, request: HttpRequest, queryset: QuerySet[Recommendation]
    ) -> HttpResponse | None:
        recommendations = list(queryset.order_by("code"))
        form = BulkAssessmentForm(
            request.POST if "apply" in request.POST else None, user=request.user
        )
        if form.is_valid():
            try:
                recorded = self._record_for_all(request, recommendations, form.cleaned_data)
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Recorded the assessment for %(count)d recommendation.",
                        "Recorded the assessment for %(count)d recommendations.",
                        recorded,
                    )
                    % {"count": recorded},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record one assessment for several recommendations"),
            "opts": self.model._meta,
            "form": form,
            "recommendations": recommendations,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "admin/recommendations/recommendation/record_assessment.html", context
        )

    def has_record_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("recommendations.add_statusassessment"))

    @staticmethod
    def _record_for_all(
        request: HttpRequest, recommendations: list[Recommendation], data: dict[str, Any]
    ) -> int:
        """Record the same assessment for each recommendation: all of them, or none."""
        with transaction.atomic():
            for recommendation in recommendations:
                try:
                    services.assessment_record(
                        recommendation=recommendation,
                        assessor=data["assessor"],
                        recorded_by=request.user,
                        status=data["status"],
                        status_since=data["status_since"],
                        evidence=data["evidence"],
                        evidence_url=data.get("evidence_url") or "",
                        source=data.get("source"),
                        visibility=data["visibility"],
                        submit=bool(data.get("submit_now")),
                    )
                except (ValidationError, PermissionDenied) as error:
                    messages_ = getattr(error, "messages", [str(error)])
                    raise ValidationError(
                        [f"{recommendation.code}: {message}" for message in messages_]
                    ) from None
        return len(recommendations)


@admin.register(Concern)
class ConcernAdmin(TranslationAdmin[Concern]):
    list_display = ["code", "raised_by", "raised_on", country_column(Concern)]
    list_filter = [("raised_by", RelatedOnlyExistsFilter), "country", "themes"]
    list_select_related = ["raised_by"]
    search_fields = ["code", "text_en", "text_ru", "text_kk"]
    autocomplete_fields = ["raised_by", "source", "themes", "answered_by"]


@admin.register(ProvisionLink)
class ProvisionLinkAdmin(ImportExportModelAdmin):
    resource_classes = [ProvisionLinkResource]
    list_display = ["key", "recommendation", "concern", "relation", "instrument", "provision"]
    list_filter = ["relation", ("instrument", RelatedOnlyExistsFilter)]
    list_select_related = ["recommendation", "concern", "instrument", "provision__instrument"]
    search_fields = ["key", "recommendation__code", "concern__code", "provision__label"]
    autocomplete_fields = ["recommendation", "concern", "instrument", "provision"]

    def save_model(self, request: HttpRequest, obj: ProvisionLink, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.provision_link_upsert(
            user=request.user,
            key=data["key"],
            relation=data["relation"],
            recommendation=data.get("recommendation"),
            concern=data.get("concern"),
            provision=data.get("provision"),
            instrument=data.get("instrument"),
            note=data.get("note", ""),
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


# What a draft's author may still change (the service says the same).
DRAFT_FIELDS = ["status", "status_since", "evidence", "evidence_url", "source", "visibility"]


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
        # A draft being edited keeps its recommendation and assessor (not in the form).
        stored = self.instance if self.instance.pk else None
        assessor = cleaned.get("assessor") or (stored.assessor if stored else None)
        recommendation = cleaned.get("recommendation") or (
            stored.recommendation if stored else None
        )
        if assessor and request_user is not None and not may_act_for(request_user, assessor):
            self.add_error(
                "assessor" if "assessor" in self.fields else None,
                _("You may only assess for your own organisation."),
            )
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


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("note or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional when publishing; required when returning."),
    )


@admin.register(StatusAssessment)
class StatusAssessmentAdmin(ImportExportModelAdmin):
    """Assessments are added here and never edited once recorded; reviewers publish or return."""

    resource_classes = [StatusAssessmentResource]
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
    list_filter = [
        "review_state",
        "status",
        "visibility",
        ("assessor", RelatedOnlyExistsFilter),
    ]
    list_select_related = ["recommendation", "assessor", "recorded_by"]
    search_fields = ["recommendation__code", "evidence"]
    autocomplete_fields = ["recommendation", "assessor", "source", "corrects"]
    date_hierarchy = "status_since"
    # A filtered list shows its own count and a link to all, without counting
    # every assessment a second time (50 ms at a million).
    show_full_result_count = False
    actions = ["submit_selected", "publish_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusAssessment]:
        rows: QuerySet[StatusAssessment] = assessments_visible_to(
            request.user, super().get_queryset(request)
        )
        return rows

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("review-queue/", wrap(self.review_queue), name="recommendations_review_queue"),
            path(
                "<int:assessment_id>/review/",
                wrap(self.review),
                name="recommendations_statusassessment_review",
            ),
            *super().get_urls(),
        ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        organisation_id = getattr(request.user, "organisation_id", None)
        if organisation_id is not None:
            initial.setdefault("assessor", organisation_id)
        initial.setdefault("status_since", timezone.localdate())
        return initial

    def _is_editable_draft(self, request: HttpRequest, obj: Any) -> bool:
        """A draft of the user's own organisation: the one state whose content may change.

        Finishing a draft is still recording it, so the right to record
        (add) assessments is the right needed; nobody holds "change".
        """
        return (
            obj is not None
            and obj.review_state == ReviewState.DRAFT
            and may_act_for(request.user, obj.assessor)
            and self.has_add_permission(request)
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [*StatusAssessmentForm.Meta.fields, "submit_now"]
        if self._is_editable_draft(request, obj):
            return ["recommendation", "assessor", *DRAFT_FIELDS, "submit_now"]
        return [f.name for f in self.model._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Content is frozen once submitted: a change is a new assessment (a correction).
        if obj is None:
            return []
        if self._is_editable_draft(request, obj):
            return ["recommendation", "assessor"]
        return self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return bool(super().has_change_permission(request, obj))
        return self._is_editable_draft(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assessor":
            kwargs["queryset"] = organisations_acting_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        context["show_review_link"] = can_review(request.user)
        response: HttpResponse = super().change_view(request, object_id, form_url, context)
        return response

    def save_model(
        self, request: HttpRequest, obj: StatusAssessment, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            services.assessment_update_draft(
                assessment=obj, user=request.user, **{f: data[f] for f in DRAFT_FIELDS}
            )
            if data.get("submit_now"):
                services.assessment_submit(assessment=obj, user=request.user)
            obj.refresh_from_db()
            return
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

    def review_queue(self, request: HttpRequest) -> HttpResponse:
        """Submitted assessments, oldest first, each with a link to publish or return it."""
        if not can_review(request.user):
            raise PermissionDenied
        queue = (
            StatusAssessment.objects.filter(review_state=ReviewState.SUBMITTED)
            .select_related("recommendation", "assessor", "recorded_by")
            .order_by("submitted_at", "id")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review queue"),
            "opts": self.model._meta,
            "queue": queue,
        }
        return TemplateResponse(
            request, "admin/recommendations/statusassessment/review_queue.html", context
        )

    def review(self, request: HttpRequest, assessment_id: int) -> HttpResponse:
        """One submitted assessment, with its evidence, to publish or to return with a reason."""
        if not can_review(request.user):
            raise PermissionDenied
        assessment = get_object_or_404(
            StatusAssessment.objects.select_related(
                "recommendation", "assessor", "recorded_by", "source", "corrects"
            ),
            pk=assessment_id,
        )
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if "_return" in request.POST:
                    services.assessment_return(
                        assessment=assessment, reviewer=request.user, reason=note
                    )
                    done = _("Returned %(assessment)s to its author.")
                else:
                    services.assessment_publish(
                        assessment=assessment, reviewer=request.user, note=note
                    )
                    done = _("Published %(assessment)s.")
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("note", message)
            else:
                self.message_user(request, done % {"assessment": assessment}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:recommendations_review_queue"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review an assessment"),
            "opts": self.model._meta,
            "assessment": assessment,
            "form": form,
            "reviewable": assessment.review_state == ReviewState.SUBMITTED,
        }
        return TemplateResponse(
            request, "admin/recommendations/statusassessment/review.html", context
        )

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
class CurrentAssessmentAdmin(ReadOnlyAdmin):
    """Derived rows, shown for inspection only."""

    list_display = ["recommendation", "assessor", "status", "status_since"]
    list_filter = ["status", ("assessor", RelatedOnlyExistsFilter)]
    list_select_related = ["recommendation", "assessor"]
    search_fields = ["recommendation__code"]


# Rows the services or the database derive from the history: for inspection only.
@admin.register(StatusPeriod)
class StatusPeriodAdmin(ReadOnlyAdmin):
    list_display = ["recommendation", "assessor", "status", "valid_from", "valid_until"]
    list_filter = ["status", ("assessor", RelatedOnlyExistsFilter)]
    list_select_related = ["recommendation", "assessor"]
    search_fields = ["recommendation__code"]


@admin.register(HeadlinePeriod)
class HeadlinePeriodAdmin(ReadOnlyAdmin):
    list_display = ["recommendation", "headline", "disputed", "valid_from", "valid_until"]
    list_filter = ["headline", "disputed"]
    list_select_related = ["recommendation"]
    search_fields = ["recommendation__code"]


@admin.register(OverviewCount)
class OverviewCountAdmin(ReadOnlyAdmin):
    list_display = ["dimension", "key", "status", "n"]
    list_filter = ["dimension"]


@admin.register(AsOfCount)
class AsOfCountAdmin(ReadOnlyAdmin):
    list_display = ["day", "monthly", "dimension", "key", "status", "n"]
    list_filter = ["monthly", "dimension"]
    date_hierarchy = "day"


@admin.register(AsOfPending)
class AsOfPendingAdmin(ReadOnlyAdmin):
    """Left by an interrupted bulk load; the next compaction counts them."""

    list_display = ["recommendation_id"]
