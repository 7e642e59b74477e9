from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    # The path must match feedback.emails.SURVEY_PATH: the emails link to it.
    path("s/<str:token>/", views.survey, name="survey"),
    path("s/<str:token>/thanks/", views.survey_thanks, name="survey-thanks"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
]
