from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
]
