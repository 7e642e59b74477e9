from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "cxcrm"
admin.site.site_title = "cxcrm"
admin.site.index_title = "Customer feedback"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("feedback.urls")),
    # ESP delivery webhooks: /anymail/<esp>/tracking/ (HTTP basic auth: ANYMAIL_WEBHOOK_SECRET).
    path("anymail/", include("cxcrm.webhooks")),
]
