from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.filters import CustomerFilter
from customers.api.selectors import customers_visible_to
from customers.api.serializers import CustomerSerializer, CustomerUpsertSerializer
from customers.services import customer_upsert
from cxcrm.api.views import ApiViewSet


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        return customers_visible_to(self.principal)

    @extend_schema(
        request=CustomerUpsertSerializer,
        responses={
            200: OpenApiResponse(CustomerSerializer, description="Updated"),
            201: OpenApiResponse(CustomerSerializer, description="Created"),
        },
    )
    def create(self, request: Request) -> Response:
        """Upsert by external_id: creates the customer, or updates the fields sent."""
        data = dict(self.validated(CustomerUpsertSerializer))
        customer, created = customer_upsert(external_id=data.pop("external_id"), **data)
        return Response(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
