"""The URLconf: public survey pages, the staff back-office (admin, dashboard, queue), allauth,
the REST API with its schema and docs, and the ESP webhooks."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from customers.api.views import CustomerViewSet
from cxcrm.api.docs import getting_started, redoc_view
from cxcrm.health import healthz
from cxcrm.staff_prefs import preferences
from cxcrm.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from feedback.insights.api.views import InsightViewSet, TopicViewSet
from feedback.reporting import topics as insight_pages
from feedback.reporting import views as dashboard
from feedback.reporting.api import MetricsViewSet
from feedback.surveys import status as system_status
from feedback.surveys.api.views import InvitationViewSet, ResponseViewSet, SurveyViewSet
from feedback.tickets.admin import queue as triage
from feedback.tickets.api.views import RootCauseViewSet, TicketViewSet
from touchpoints.api.views import InteractionViewSet, TouchpointViewSet

# The REST API's resources under /api/v1/.
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("customers", CustomerViewSet, basename="customer")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("responses", ResponseViewSet, basename="response")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("root-causes", RootCauseViewSet, basename="rootcause")
router.register("metrics", MetricsViewSet, basename="metrics")
router.register("webhooks", WebhookEndpointViewSet, basename="webhookendpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhookdelivery")
router.register("insights/topics", TopicViewSet, basename="topic")
router.register("insights", InsightViewSet, basename="insights")

api_urlpatterns = [
    path("v1/", include(router.urls)),
    # Per-topic metrics and key drivers (feedback/insights/api/analysis.py).
    path("v1/", include("feedback.insights.api.analysis")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's script as a file of its own: the CSP allows no
    # inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", redoc_view, name="redoc"),
    # Key, first purchase, first answer, webhook: a page served by the product (offline).
    path("getting-started/", getting_started, name="getting-started"),
]

admin.site.site_header = "cxcrm"
admin.site.site_title = "cxcrm"
admin.site.index_title = _("Customer feedback")
# One login for staff: the admin's own form would bypass allauth's rate limits and MFA, so the
# admin sends anyone not signed in to allauth's login instead.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", dashboard.home_view),
    # The public pages first: every emailed link opens one. Their paths (s/, u/, inbound/)
    # overlap none of the others.
    path("", include("feedback.urls")),
    # Database, broker and cache reachable? For load balancers and monitoring (no auth).
    path("healthz", healthz, name="healthz"),
    # Before the admin's include, whose catch-all would otherwise answer these paths with 404.
    path("admin/dashboard/", dashboard.dashboard, name="dashboard"),
    path("admin/journey-map/", dashboard.journey_map, name="journey-map"),
    path("admin/queue/", triage.queue, name="ticket-queue"),
    path("admin/status/", system_status.status, name="system-status"),
    path("admin/preferences/", preferences, name="staff-preferences"),
    path("admin/emerging-themes/", insight_pages.emerging_themes, name="emerging-themes"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The REST API (/api/v1/...), its OpenAPI schema and docs (/api/schema/, /api/docs/).
    path("api/", include((api_urlpatterns, "api"))),
    # ESP delivery webhooks: /anymail/<esp>/tracking/ (HTTP basic auth: ANYMAIL_WEBHOOK_SECRET).
    path("anymail/", include("cxcrm.esp_urls")),
]

# Django's error pages, as JSON under /api/ (cxcrm.api.exceptions).
handler400 = "cxcrm.api.exceptions.bad_request"
handler403 = "cxcrm.api.exceptions.permission_denied"
handler404 = "cxcrm.api.exceptions.page_not_found"
handler500 = "cxcrm.api.exceptions.server_error"
