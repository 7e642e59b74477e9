"""Back-office of comment intelligence: the taxonomy (Managers keep it; Agents read it), the
enriched texts with their topics and sentiment and the one-click corrections, and the system's
rows (assignments, alerts, engine state), view only.

The correction endpoint, ``admin:feedback_commentinsight_correct`` (``POST
/admin/feedback/commentinsight/<id>/correct/``, CSRF, Agents and up), takes ``topic`` (an id)
and ``present`` (true/false), or the list's buttons (``remove=<topic id>``, or ``add`` with the
row's ``add-topic-<id>`` menu). It answers JSON (``{"insight", "topics"}``) to a request that
accepts JSON (the ticket workspace's panel), else goes back to the page it came from."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cxcrm.admin_lists import BigTableAdminMixin, fixed_choices_filter, recent_filter
from cxcrm.errors import ServiceError
from feedback.insights import selectors, services
from feedback.insights.models import (
    CommentInsight,
    EngineState,
    InsightAlert,
    InsightSource,
    TextSentiment,
    Topic,
    TopicAssignment,
)
from feedback.insights.tasks import enrich_soon
from feedback.surveys.admin import ViewOnlyMixin, excerpt

CORRECT_PERMISSION = "feedback.change_topicassignment"
TRUE = {"1", "true", "on", "yes"}
LANGUAGES = [
    ("en", "English"),
    ("ru", "Русский"),
    ("pl", "Polski"),
    ("zh-hans", "中文"),
    ("ar", "العربية"),
]
# The topics of the correction menus, read once per changelist page (not once per row).
_menu: ContextVar[list[tuple[str, str]] | None] = ContextVar("insights_menu", default=None)


# --- The taxonomy --------------------------------------------------------------------------------


class ExamplesField(forms.CharField):
    """A topic's example phrases, one a line (JSON list in the table)."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60, "dir": "auto"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        try:
            return services.clean_examples(text.splitlines())
        except ServiceError as exc:
            raise forms.ValidationError(str(exc)) from None


class TopicForm(forms.ModelForm):
    examples = ExamplesField(
        required=False,
        label=_("Examples"),
        help_text=_(
            "One phrase a line, in any language: how customers say it (the model "
            "finds the same words in the other languages)."
        ),
    )

    class Meta:
        model = Topic
        fields = ["name", "slug", "description", "examples", "active"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicForm
    list_display = ["name", "slug", "active", "description_excerpt", "example_count"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "examples", "active"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("Description"))
    def description_excerpt(self, obj: Topic) -> SafeString | str:
        return excerpt(obj.description)

    @admin.display(description=_("Examples"))
    def example_count(self, obj: Topic) -> int:
        return len(obj.examples or [])

    # Every comment's topics are computed again with the new taxonomy (from their stored
    # embeddings), after the change commits.
    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        enrich_soon()

    def delete_model(self, request: HttpRequest, obj: Topic) -> None:
        super().delete_model(request, obj)
        enrich_soon()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        super().delete_queryset(request, queryset)
        enrich_soon()


# --- The enriched texts ------------------------------------------------------------------------


class TopicFilter(admin.SimpleListFilter):
    """Texts with a topic (staff removals excluded). Choices: the taxonomy, one small query."""

    title = _("topic")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return selectors.topic_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        topic_id = _id(value)
        if topic_id is None:
            return queryset.none()
        live = TopicAssignment.objects.filter(
            insight=OuterRef("pk"), topic_id=topic_id, removed=False
        )
        return queryset.filter(Exists(live))


def _id(value: str) -> int | None:
    """A row id from a query or form value, else None (``"²".isdigit()`` is true)."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _correct_url(insight_id: int) -> str:
    return reverse("admin:feedback_commentinsight_correct", args=[insight_id])


def topics_with_buttons(insight: CommentInsight, menu: list[tuple[str, str]] | None) -> SafeString:
    """The text's topics, each with a remove button, and a menu to add one: buttons of the
    page's own form (``formaction``), so a click is one POST with its CSRF token, no script."""
    url = _correct_url(insight.pk)
    # One topic a line: a narrow column (a phone) never pushes a × out of sight.
    chips = format_html_join(
        "",
        '<div class="insight-topic" title="{}">{}{} <button type="submit" formaction="{}" '
        'formmethod="post" name="remove" value="{}" aria-label="{}">×</button></div>',
        (
            (
                gettext("set by staff")
                if a.by_staff
                else gettext("confidence %(confidence)s")
                % {"confidence": number_format(round(a.confidence, 2), 2)},
                a.topic.name,
                " ✓" if a.by_staff else "",
                url,
                a.topic.pk,
                gettext("Remove %(topic)s") % {"topic": a.topic.name},
            )
            for a in getattr(insight, "live_topics", [])
        ),
    )
    if not menu:
        return chips
    shown = {str(a.topic.pk) for a in getattr(insight, "live_topics", [])}
    options = format_html_join(
        "", '<option value="{}">{}</option>', ((pk, name) for pk, name in menu if pk not in shown)
    )
    return format_html(
        '{}<select name="add-topic-{}" aria-label="{}"><option value="">{}'
        '</option>{}</select> <button type="submit" formaction="{}" formmethod="post" '
        'name="add" value="1">{}</button>',
        chips,
        insight.pk,
        gettext("Topic to add"),
        gettext("+ topic…"),
        options,
        url,
        pgettext_lazy("add a topic", "Add"),
    )


@admin.register(CommentInsight)
class CommentInsightAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    """Every customer text with what the model found in it; Agents and up correct its topics
    in one click (the endpoint below)."""

    # The words and their topics first: on a phone they are what fits.
    list_display = [
        "text_excerpt",
        "topics_column",
        "sentiment",
        "language",
        "source",
        "occurred_at",
    ]
    list_filter = [
        TopicFilter,
        fixed_choices_filter("sentiment", _("sentiment"), lambda: list(TextSentiment.choices)),
        fixed_choices_filter("language", _("language"), lambda: LANGUAGES),
        fixed_choices_filter("source", _("source"), lambda: list(InsightSource.choices)),
        recent_filter("occurred_at", pgettext_lazy("filter: when the text was written", "written")),
    ]
    search_fields = ["source_id__exact"]
    search_help_text = _("The id of the answer, ticket message or inbound email.")
    # Newest written first, read backwards along insight_occurred_idx (the model has no
    # ordering of its own: adding one would be a migration).
    ordering = ["-occurred_at"]
    readonly_fields = ["embedding_summary", "created_at", "topics_column"]
    fieldsets = [
        (None, {"fields": ["text", "topics_column", "sentiment", "sentiment_confidence"]}),
        (_("Source"), {"fields": ["source", "source_id", "occurred_at", "response", "ticket"]}),
        (
            pgettext_lazy("what a text is about", "About"),
            {"fields": ["touchpoint", "customer", "language"]},
        ),
        (
            pgettext_lazy("the language model", "Model"),
            {"fields": ["embedding_summary", "model_version", "enriched_at", "created_at"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CommentInsight]:
        return selectors.insights_with_topics(super().get_queryset(request).defer("embedding"))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        may_correct = request.user.has_perm(CORRECT_PERMISSION)
        token = _menu.set(selectors.topic_choices() if may_correct else None)
        try:
            response = super().changelist_view(request, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
            return response
        finally:
            _menu.reset(token)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        may_correct = request.user.has_perm(CORRECT_PERMISSION)
        token = _menu.set(selectors.topic_choices() if may_correct else None)
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
            return response
        finally:
            _menu.reset(token)

    @admin.display(description=_("Text"))
    def text_excerpt(self, obj: CommentInsight) -> SafeString | str:
        return excerpt(obj.text)

    @admin.display(description=_("Topics"))
    def topics_column(self, obj: CommentInsight) -> SafeString:
        return topics_with_buttons(obj, _menu.get())

    @admin.display(description=_("Embedding"))
    def embedding_summary(self, obj: CommentInsight) -> str:
        return gettext("%(n)s values (float16)") % {"n": 384} if obj.embedding else "—"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<path:object_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="feedback_commentinsight_correct",
            ),
            *super().get_urls(),
        ]

    def correct_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add or remove one topic of a text (a staff correction)."""
        if not request.user.has_perm(CORRECT_PERMISSION):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        wants_json = "application/json" in request.headers.get("Accept", "")
        if "remove" in request.POST:
            topic, present = request.POST["remove"], False
        elif "topic" in request.POST:
            topic = request.POST["topic"]
            present = request.POST.get("present", "true").lower() in TRUE
        else:
            topic, present = request.POST.get(f"add-topic-{object_id}", ""), True
        insight_id, topic_id = _id(object_id), _id(topic)
        try:
            if insight_id is None or topic_id is None:
                raise ServiceError(gettext("Choose a topic."))
            services.topic_correct(
                insight_id=insight_id, topic_id=topic_id, present=present, actor=request.user
            )
        except ServiceError as exc:
            if wants_json:
                return JsonResponse({"detail": str(exc)}, status=400)
            messages.error(request, str(exc))
            return self._back(request)
        enrich_soon()
        if wants_json:
            return JsonResponse(
                {"insight": insight_id, "topics": selectors.insight_topics(insight_id)}
            )
        messages.success(
            request, gettext("Topic removed.") if not present else gettext("Topic added.")
        )
        return self._back(request)

    def _back(self, request: HttpRequest) -> HttpResponse:
        back = request.headers.get("Referer", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return redirect("admin:feedback_commentinsight_changelist")


# --- The system's rows (view only) ---------------------------------------------------------------


@admin.register(TopicAssignment)
class TopicAssignmentAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    """Which topics each text has, from the model or from staff (corrections are made on the
    comment insights' list)."""

    list_display = ["insight", "topic", "confidence", "by_staff", "removed", "corrected_by"]
    list_filter = ["by_staff", "removed"]
    list_select_related = ["insight", "topic", "corrected_by"]
    # Newest first along the primary key: the one index that orders the whole table.
    ordering = ["-id"]
    fieldsets = [
        (None, {"fields": ["insight", "topic", "confidence"]}),
        (_("Correction"), {"fields": ["by_staff", "removed", "corrected_by", "corrected_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TopicAssignment]:
        return super().get_queryset(request).defer("insight__embedding", "insight__text")


@admin.register(InsightAlert)
class InsightAlertAdmin(BigTableAdminMixin, ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["raised_at", "kind", "summary", "touchpoint", "topic", "notified_at"]
    list_filter = ["kind", recent_filter("raised_at", pgettext_lazy("filter: alerts", "raised"))]
    list_select_related = ["touchpoint", "topic"]
    fieldsets = [
        (None, {"fields": ["kind", "summary", "touchpoint", "topic", "details"]}),
        (_("Record"), {"fields": ["episode", "raised_at", "notified_at"]}),
    ]


@admin.register(EngineState)
class EngineStateAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """What the engine learned here (the adapted sentiment model): replaced by each training."""

    list_display = ["kind", "version", "trained_on", "trained_at"]
    readonly_fields = ["state_summary"]
    fieldsets = [
        (None, {"fields": ["kind", "version", "trained_on", "trained_at", "state_summary"]})
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EngineState]:
        return super().get_queryset(request).defer("state")

    @admin.display(description=pgettext_lazy("the engine's stored state", "State"))
    def state_summary(self, obj: EngineState) -> str:
        size = len(obj.state or b"")
        return ngettext("%(n)s byte", "%(n)s bytes", size) % {"n": size}
