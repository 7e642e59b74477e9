from django.urls import path

from feedback.inbound.views import inbound_email_view
from feedback.surveys import views

app_name = "feedback"

urlpatterns = [
    # The path must match feedback.surveys.emails.SURVEY_PATH: the emails link to it.
    path("s/<str:token>/", views.survey, name="survey"),
    path("s/<str:token>/thanks/", views.survey_thanks, name="survey-thanks"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
    # Replies to survey emails from the ESP (HTTP basic auth: ANYMAIL_WEBHOOK_SECRET).
    path("inbound/email/", inbound_email_view(), name="inbound-email"),
]
