from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.filters import CustomerFilter
from customers.api.selectors import customers_visible_to
from customers.api.serializers import CustomerSerializer, CustomerUpsertSerializer
from customers.privacy import customer_erase, customer_export
from customers.services import customer_upsert
from cxcrm.api.permissions import audit_label
from cxcrm.api.views import ApiViewSet


class ErasedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    erased_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(
        summary="List customers",
        description="Newest first. Filter by your id, email, segment, language, country, "
        "whether they can be emailed, or when they were created or changed "
        "(`updated_since` for an incremental sync).",
    ),
    retrieve=extend_schema(
        summary="Read a customer",
        description="By our id. To find a customer by yours, list with `?external_id=`.",
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    # A staff session's role (cxcrm.roles); keys go by scope. The upsert may add or change.
    required_permissions = {
        "list": "customers.view_customer",
        "retrieve": "customers.view_customer",
        "create": "customers.change_customer",
        "export": "customers.export_customer",
        "erase": "customers.erase_customer",
    }

    def get_queryset(self) -> Any:
        return customers_visible_to(self.principal)

    @extend_schema(
        summary="Create or update a customer (by external_id)",
        description="Creates the customer with this `external_id`, or updates the fields sent "
        "of the one that exists (fields left out keep their values). `language` (BCP 47: "
        "`en`, `pl`, `zh-Hans`…) chooses the language of their surveys and emails.",
        request=CustomerUpsertSerializer,
        responses={
            200: OpenApiResponse(CustomerSerializer, description="Updated"),
            201: OpenApiResponse(CustomerSerializer, description="Created"),
        },
        examples=[
            OpenApiExample(
                "A new customer",
                request_only=True,
                value={
                    "external_id": "crm-10042",
                    "email": "ana.kowalska@example.com",
                    "name": "Ana Kowalska",
                    "language": "pl",
                    "country": "PL",
                    "segment": "consumer",
                    "tags": ["newsletter"],
                    "attributes": {"loyalty_points": 120},
                },
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        """Upsert by external_id: creates the customer, or updates the fields sent."""
        data = dict(self.validated(CustomerUpsertSerializer))
        customer, created = customer_upsert(external_id=data.pop("external_id"), **data)
        return Response(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Export everything held about a customer",
        description="The right of access: the customer, their interactions, invitations, "
        "answers, tickets and emails, in one JSON document. Each export is audited.",
        responses={200: OpenApiResponse(description="Everything held about the customer (JSON).")},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        customer = self.get_object()
        return Response(
            customer_export(customer_id=customer.pk, actor=audit_label(request), channel="api")
        )

    @extend_schema(
        summary="Erase a customer's personal data",
        description="The right to erasure: their personal data is removed from every row that "
        "names them (interactions, answers' comments, tickets, emails, webhook deliveries); "
        "scores stay, anonymous. Cannot be undone. Needs the write scope; erasing again "
        "changes nothing; audited.",
        request=None,
        responses={200: ErasedSerializer},
    )
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str | None = None) -> Response:
        customer = self.get_object()
        erased = customer_erase(customer_id=customer.pk, actor=audit_label(request), channel="api")
        return Response(ErasedSerializer({"id": erased.pk, "erased_at": erased.erased_at}).data)
