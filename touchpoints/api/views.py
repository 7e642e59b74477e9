from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cxcrm.api.pagination import BigCursorPagination
from cxcrm.api.views import IN_USE, ApiViewSet
from touchpoints.api.filters import InteractionFilter, TouchpointFilter
from touchpoints.api.selectors import interactions_visible_to, touchpoints_visible_to
from touchpoints.api.serializers import (
    MAX_BULK,
    InteractionBulkResultSerializer,
    InteractionCreatedSerializer,
    InteractionInputSerializer,
    InteractionSerializer,
    TouchpointSerializer,
    TouchpointUpdateSerializer,
    TouchpointWriteSerializer,
)
from touchpoints.services import (
    InteractionInput,
    UnknownReferences,
    interaction_references_resolve,
    interactions_record_bulk,
    touchpoint_delete,
    touchpoint_update,
    touchpoint_upsert,
)


@extend_schema_view(
    list=extend_schema(
        summary="List touchpoints",
        description="The touchpoint catalogue, by journey stage and name. Use a touchpoint's "
        "`slug` to name it when you record an interaction.",
    ),
    retrieve=extend_schema(
        summary="Read a touchpoint",
        description="By id. To find one by slug, list with `?slug=`.",
    ),
)
class TouchpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = TouchpointSerializer
    required_permissions = {
        "list": "touchpoints.view_touchpoint",
        "retrieve": "touchpoints.view_touchpoint",
        # An upsert may add or change.
        "create": "touchpoints.change_touchpoint",
        "partial_update": "touchpoints.change_touchpoint",
        "destroy": "touchpoints.delete_touchpoint",
    }
    filterset_class = TouchpointFilter
    ordering_fields = ["name", "stage", "created_at", "id"]
    ordering = ["stage", "name"]

    def get_queryset(self) -> Any:
        return touchpoints_visible_to(self.principal)

    def _answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        touchpoint = touchpoints_visible_to(self.principal).get(pk=pk)
        return Response(TouchpointSerializer(touchpoint).data, status=code)

    @extend_schema(
        summary="Create or update a touchpoint (by slug)",
        description="Creates the touchpoint with this `slug` (a new one needs `name`, `stage` "
        "and `channel`), or updates the fields sent of the one that exists: set up a "
        "deployment by code, as often as you like. The admin's rules apply.",
        examples=[
            OpenApiExample(
                "A web checkout",
                request_only=True,
                value={
                    "slug": "web-checkout",
                    "name": "Web checkout",
                    "stage": "order",
                    "channel": "web",
                    "ownership": "brand",
                    "owner_team": "E-commerce",
                },
            )
        ],
        request=TouchpointWriteSerializer,
        responses={
            200: OpenApiResponse(TouchpointSerializer, description="Updated"),
            201: OpenApiResponse(TouchpointSerializer, description="Created"),
        },
    )
    def create(self, request: Request) -> Response:
        """Upsert by slug: creates the touchpoint, or updates the fields sent."""
        data = dict(self.validated(TouchpointWriteSerializer))
        touchpoint, created = touchpoint_upsert(slug=data.pop("slug"), **data)
        return self._answer(touchpoint.pk, status.HTTP_201_CREATED if created else 200)

    @extend_schema(
        summary="Change a touchpoint",
        description="Only the fields sent change (the slug too). `active: false` retires it.",
        request=TouchpointUpdateSerializer,
        responses={200: TouchpointSerializer},
        examples=[OpenApiExample("Owned by Chen", request_only=True, value={"owner": "chen"})],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        touchpoint = self.get_object()
        data = self.validated(TouchpointUpdateSerializer)
        return self._answer(touchpoint_update(touchpoint_id=touchpoint.pk, **data).pk)

    @extend_schema(
        summary="Delete a touchpoint",
        description="Only one nothing refers to yet; one with interactions, answers or "
        "tickets is kept (409): set `active: false` instead.",
        request=None,
        responses={204: None, 409: IN_USE},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        """Delete a touchpoint nothing refers to yet; one with interactions, answers or
        tickets is kept (409): deactivate it instead."""
        touchpoint_delete(touchpoint_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _input(item: dict[str, Any]) -> InteractionInput:
    """A validated item as the bulk service takes it (references by id, external id or slug)."""
    return InteractionInput(
        item.get("customer"),
        None,
        item["occurred_at"],
        item["source"],
        item["external_id"],
        item["order_ref"],
        item["amount"],
        item["currency"],
        item["metadata"],
        item.get("customer_external_id"),
        item["touchpoint"],
    )


# Request examples that succeed against `make run`'s demo data (feedback/demo: touchpoint
# slugs and customers demo-cust-0001…0240); tests/integration/test_browser_api_docs.py tries
# the first one in Swagger UI.
PURCHASE_EXAMPLE = {
    "source": "shop",
    "external_id": "order-20461",
    "customer_external_id": "demo-cust-0001",
    "touchpoint": "checkout",
    "occurred_at": "2026-12-01T14:05:00Z",
    "order_ref": "SO-20461",
    "amount": "129.90",
    "currency": "EUR",
    "metadata": {"items": 2, "coupon": "WINTER10"},
}
BULK_EXAMPLE = [
    {**PURCHASE_EXAMPLE, "external_id": "order-20462", "order_ref": "SO-20462"},
    {
        "source": "carrier",
        "external_id": "parcel-88213",
        "customer_external_id": "demo-cust-0002",
        "touchpoint": "home-delivery",
        "occurred_at": "2026-12-02T10:30:00+01:00",
        "order_ref": "SO-20455",
    },
]


@extend_schema_view(
    list=extend_schema(
        summary="List interactions",
        description="Newest first, a page at a time (follow `next`). Filter by customer, "
        "touchpoint or stage, your source and id, order reference or time.",
    ),
    retrieve=extend_schema(
        summary="Read an interaction",
        description="By our id (given as `id` when it was recorded).",
    ),
)
class InteractionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = InteractionSerializer
    required_permissions = {
        "list": "touchpoints.view_interaction",
        "retrieve": "touchpoints.view_interaction",
        "create": "touchpoints.add_interaction",
    }
    filterset_class = InteractionFilter
    pagination_class = BigCursorPagination
    ordering_fields = ["occurred_at", "created_at", "id"]

    def get_queryset(self) -> Any:
        return interactions_visible_to(self.principal)

    def _validate_items(self, raw: list[Any]) -> tuple[list[dict | None], list[dict]]:
        """Every item validated (not only up to the first bad one): the 400 lists them all."""
        items: list[dict[str, Any] | None] = []
        errors: list[dict[str, Any]] = []
        child = InteractionInputSerializer(context=self.get_serializer_context())
        # One child serializer for all items, as ListSerializer does; a loop rather than
        # many=True so the valid items' data is kept beside the others' errors.
        for item in raw:
            try:
                items.append(child.run_validation(item))
                errors.append({})
            except serializers.ValidationError as exc:
                items.append(None)
                detail = exc.detail
                errors.append(detail if isinstance(detail, dict) else {"non_field_errors": detail})
        return items, errors

    @extend_schema(
        summary="Record interactions (one, or a list of up to 1,000)",
        description="Record a purchase, a delivery, a support call… Name the customer by "
        "your id (`customer_external_id`, create them first with `POST /customers/`) or ours "
        "(`customer`), and the touchpoint by its slug. Recording one schedules the surveys "
        "its touchpoint or stage triggers (`invitations` in the answer: how many).\n\n"
        "Idempotent by `(source, external_id)`: sending the same event again answers 200 "
        "with `created: false` and changes nothing. A list is all or nothing: if any item is "
        "invalid, nothing is written and the 400 lists the errors per item (`{}` for the "
        "good ones).",
        examples=[
            OpenApiExample("A purchase", value=PURCHASE_EXAMPLE, request_only=True),
            OpenApiExample("A list (bulk)", value=BULK_EXAMPLE, request_only=True),
        ],
        request=PolymorphicProxySerializer(
            "InteractionCreate",  # InteractionCreateRequest once split into request/response
            serializers=[InteractionInputSerializer, InteractionInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    "InteractionCreateResult",
                    serializers=[InteractionCreatedSerializer, InteractionBulkResultSerializer],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="Already recorded (one interaction), or a list was processed.",
            ),
            201: OpenApiResponse(InteractionCreatedSerializer, description="Recorded"),
        },
    )
    def create(self, request: Request) -> Response:
        """One interaction (an object) or up to 1,000 (a list), all or nothing."""
        many = isinstance(request.data, list)
        if not many and not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send an object or a list of objects."]}
            )
        if many and not 1 <= len(request.data) <= MAX_BULK:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Send 1 to {MAX_BULK} interactions per request."]}
            )
        raw = request.data if many else [request.data]
        items, errors = self._validate_items(raw)
        if any(errors):
            # Field errors and unknown references of all items in one answer, aligned with
            # them: the valid items' references are checked too (a read, nothing written).
            valid = [_input(i) for i in items if i is not None]
            it = iter(interaction_references_resolve(valid)[1])
            errors = [e if items[n] is None else next(it) for n, e in enumerate(errors)]
            raise serializers.ValidationError(errors if many else errors[0])
        try:
            results = interactions_record_bulk(items=[_input(i) for i in items])  # type: ignore[arg-type]
        except UnknownReferences as exc:
            raise serializers.ValidationError(exc.errors if many else exc.errors[0]) from None
        if not many:
            result = results[0]
            interaction = interactions_visible_to(self.principal).get(pk=result.id)
            data = InteractionSerializer(interaction).data
            data |= {"created": result.created, "invitations": result.invitations}
            return Response(
                data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            )
        return Response(
            {
                "results": [
                    {"index": index, "id": pk, "created": created, "invitations": invitations}
                    for index, (pk, created, invitations) in enumerate(results)
                ]
            },
            status=status.HTTP_200_OK,
        )
