from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from feedback.admin import triage
from feedback.reporting import views as dashboard

admin.site.site_header = "cxcrm"
admin.site.site_title = "cxcrm"
admin.site.index_title = "Customer feedback"
# One login for staff: the admin's own form would bypass allauth's rate limits and MFA, so the
# admin sends anyone not signed in to allauth's login instead.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", dashboard.home_view),
    # The public pages first: every emailed link opens one, and the router tries the patterns
    # in order (a survey page behind the admin, allauth and API includes was ~20 µs of
    # failed matches a request). Their paths (s/, u/, inbound/) overlap none of the others.
    path("", include("feedback.urls")),
    # Before the admin's include, whose catch-all would otherwise answer these paths with 404.
    path("admin/dashboard/", dashboard.dashboard, name="dashboard"),
    path("admin/journey-map/", dashboard.journey_map, name="journey-map"),
    path("admin/queue/", triage.queue, name="ticket-queue"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The REST API (/api/v1/...), its OpenAPI schema and docs (/api/schema/, /api/docs/).
    path("api/", include("cxcrm.api.urls")),
    # ESP delivery webhooks: /anymail/<esp>/tracking/ (HTTP basic auth: ANYMAIL_WEBHOOK_SECRET).
    path("anymail/", include("cxcrm.esp_urls")),
]
