"""``/api/``: the v1 resources, the OpenAPI schema and its docs (Swagger UI, ReDoc) served
from our own static files."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from customers.api.views import CustomerViewSet
from cxcrm.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from feedback.api.views import (
    InvitationViewSet,
    ResponseViewSet,
    RootCauseViewSet,
    SurveyViewSet,
    TicketViewSet,
)
from feedback.reporting.api import MetricsViewSet
from touchpoints.api.views import InteractionViewSet, TouchpointViewSet

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

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's script as a file of its own: the CSP allows no
    # inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
