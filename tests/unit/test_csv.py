"""CSV in and out of the admin: export of any filtered changelist (streamed, bounded queries,
formula injection neutralised, customer exports audited) and import of customers and
interactions (upload → preview with per-row errors → confirm, all or nothing, through the
services so imported purchases schedule their surveys)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEntry, Customer
from feedback.surveys.models import Invitation
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    SurveyFactory,
    TouchpointFactory,
    UserFactory,
)
from touchpoints.models import Interaction, JourneyStage

pytestmark = pytest.mark.django_db

CUSTOMERS_IMPORT = reverse("admin:customers_customer_import")
INTERACTIONS_IMPORT = reverse("admin:touchpoints_interaction_import")


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


def _upload(client: Client, url: str, content: bytes, name: str = "rows.csv") -> Any:
    return client.post(url, {"file": SimpleUploadedFile(name, content, "text/csv")})


def _file_error(response: Any) -> str:
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    return " ".join(errors)


# --- Export ------------------------------------------------------------------------------


def test_export_link_exports_the_filtered_changelist(admin_client: Client) -> None:
    CustomerFactory(name='=HYPERLINK("http://evil")', segment="vip", country="FR")
    CustomerFactory(name="Ann", segment="vip", country="DE")
    CustomerFactory(name="Bob", segment="other")
    url = reverse("admin:customers_customer_export") + "?segment=vip&o=1"

    response = admin_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == [
        "Customer",
        "Email",
        "External ID",
        "Language",
        "Country",
        "Segment",
        "Reachable",
        "Created at",
    ]
    names = sorted(r[0] for r in rows[1:])
    # The filter holds, and a cell that would run as a formula is quoted away.
    assert names == ['\'=HYPERLINK("http://evil")', "Ann"]
    assert {r[6] for r in rows[1:]} == {"yes"}
    entry = AuditEntry.objects.get(action="exported", object_type="customer")
    assert entry.object_id == "csv:2"
    assert entry.summary == "CSV export of 2 customers"


def test_export_link_with_search_and_relations(admin_client: Client) -> None:
    wanted = InteractionFactory(external_id="order-1", amount="-5.00", currency="EUR")
    InteractionFactory(external_id="order-2")
    url = reverse("admin:touchpoints_interaction_export") + "?q=order-1"

    rows = _csv(admin_client.get(url))

    assert rows[0][:3] == ["Occurred at", "Customer", "Touchpoint"]
    assert len(rows) == 2
    assert rows[1][1] == str(wanted.customer)
    assert rows[1][2] == str(wanted.touchpoint)
    # A text cell is neutralised even when it is a number in disguise.
    assert rows[1][6] == "'-5.00 EUR"


def test_export_is_the_same_file_whatever_the_staff_members_language(
    admin_client: Client,
) -> None:
    # The page shows the amount the Polish way; the file keeps one notation and English column
    # names, so scripts and spreadsheets that read it by name work for every team.
    InteractionFactory(external_id="order-1", amount="49.90", currency="EUR")
    url = reverse("admin:touchpoints_interaction_export")

    english = _csv(admin_client.get(url))
    polish = _csv(admin_client.get(url, HTTP_ACCEPT_LANGUAGE="pl"))
    page = admin_client.get(
        reverse("admin:touchpoints_interaction_changelist"), HTTP_ACCEPT_LANGUAGE="pl"
    )

    assert "49,90 EUR" in page.content.decode()
    assert polish == english
    assert english[1][6] == "49.90 EUR"


def test_export_action_on_all_filtered_rows(admin_client: Client) -> None:
    kept = [CustomerFactory(segment="vip") for _ in range(3)]
    CustomerFactory(segment="other")
    url = reverse("admin:customers_customer_changelist") + "?segment=vip"

    response = admin_client.post(
        url,
        {"action": "export_csv", "select_across": "1", "_selected_action": [kept[0].pk]},
    )

    assert response.status_code == 200
    rows = _csv(response)
    assert sorted(r[2] for r in rows[1:]) == sorted(c.external_id for c in kept)


def test_export_action_on_selected_rows_of_any_model(admin_client: Client) -> None:
    tps = [TouchpointFactory() for _ in range(3)]
    response = admin_client.post(
        reverse("admin:touchpoints_touchpoint_changelist"),
        {"action": "export_csv", "_selected_action": [tps[0].pk, tps[1].pk]},
    )
    rows = _csv(response)
    assert sorted(r[0] for r in rows[1:]) == sorted([tps[0].name, tps[1].name])


def test_bad_filter_in_export_link_redirects_with_a_message(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:customers_customer_export") + "?nope__x=1")
    assert response.status_code == 302


def _export_queries(client: Client, url: str) -> tuple[int, int]:
    ContentType.objects.clear_cache()
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        rows = _csv(response)  # the queries run while the body streams
    return len(ctx), len(rows) - 1


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("touchpoints_interaction", lambda: InteractionFactory()),
        ("customers_customer", lambda: CustomerFactory()),
    ],
)
def test_export_query_count_does_not_grow_with_rows(
    admin_client: Client, name: str, build: Any
) -> None:
    url = reverse(f"admin:{name}_export")
    for _ in range(5):
        build()
    few, n_few = _export_queries(admin_client, url)
    for _ in range(45):
        build()
    many, n_many = _export_queries(admin_client, url)
    assert (n_few, n_many) == (5, 50)
    # Session, user, MFA check, the changelist's counts and page, then one query for the rows
    # (customers add the audit insert and its count); whatever the number of rows.
    assert few == many


def test_export_needs_view_permission(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("admin:customers_customer_export"))
    assert response.status_code == 403


# --- Import: reading the file ----------------------------------------------------------------


def test_preview_of_a_good_customer_file_writes_nothing(admin_client: Client) -> None:
    CustomerFactory(external_id="c-2", name="Old name", email="two@example.com")
    CustomerFactory(external_id="c-3", name="Same", email="three@example.com", segment="")
    content = (
        b"external_id,email,name,country,language\n"
        b"c-1,one@example.com,Ann,fr,fr\n"
        b"c-2,,New name,,\n"
        b"c-3,three@example.com,Same,,\n"
    )

    response = _upload(admin_client, CUSTOMERS_IMPORT, content)

    assert response.status_code == 200
    assert response.context["counts"] == {"new": 1, "update": 1, "unchanged": 1, "error": 0}
    statuses = [(r.line, r.status) for r in response.context["results"]]
    assert statuses == [(2, "new"), (3, "update"), (4, "unchanged")]
    assert "Confirm: import 3 rows" in response.content.decode()
    assert Customer.objects.count() == 2
    assert Customer.objects.get(external_id="c-2").name == "Old name"


def test_preview_shows_per_row_errors_and_confirm_imports_nothing(admin_client: Client) -> None:
    content = (
        b"external_id,email,country,language\n"
        b"c-1,good@example.com,FR,fr\n"
        b"c-2,not-an-email,France,fr\n"
        b",nobody@example.com,,\n"
        b"c-1,dup@example.com,,\n"
        b"c-4,four@example.com,,EN_us\n"
    )

    response = _upload(admin_client, CUSTOMERS_IMPORT, content)

    page = response.content.decode()
    results = {r.line: r for r in response.context["results"]}
    assert results[2].status == "new"
    assert results[3].status == "error"
    assert any(e.startswith("email:") for e in results[3].errors)
    assert any(e.startswith("country:") for e in results[3].errors)
    assert results[4].errors == ["external_id: required."]
    assert "also on line 2" in results[5].errors[0]
    assert results[6].errors[0].startswith("language:")
    assert response.context["counts"]["error"] == 4
    assert "Nothing can be imported while a row has an error" in page
    assert "Confirm" not in page
    # Forcing the confirm anyway imports nothing and shows the errors again.
    again = admin_client.post(CUSTOMERS_IMPORT, {"token": response.context["token"]})
    assert again.status_code == 200
    assert again.context["has_errors"]
    assert Customer.objects.count() == 0


def test_wrong_headers_are_named(admin_client: Client) -> None:
    response = _upload(admin_client, CUSTOMERS_IMPORT, b"id,e-mail,name\n1,a@example.com,Ann\n")
    message = _file_error(response)
    assert "missing required column: external_id" in message
    assert "unknown columns: 'id', 'e-mail'" in message


def test_interaction_headers_list_every_missing_column(admin_client: Client) -> None:
    response = _upload(admin_client, INTERACTIONS_IMPORT, b"source,external_id\nshop,1\n")
    assert "customer_external_id, touchpoint, occurred_at" in _file_error(response)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The submitted file is empty."),
        (b"\n\n  \n", "The file is empty."),
        (b"external_id,email\n", "no data rows"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "spreadsheet file"),
        (bytes(range(256)) * 4, "not a text file"),
        (b"external_id\n\x81\x8d\x8f\n", "neither UTF-8 nor Windows-1252"),
        (b'external_id,name\nc-1,"unterminated\n', "not valid CSV"),
    ],
    ids=["zero-bytes", "blank", "header-only", "xlsx", "binary", "undecodable", "quote"],
)
def test_unreadable_files_get_a_clear_error(
    admin_client: Client, content: bytes, expected: str
) -> None:
    assert expected in _file_error(_upload(admin_client, CUSTOMERS_IMPORT, content))
    assert Customer.objects.count() == 0


def test_oversized_file_is_refused(admin_client: Client, settings: Any) -> None:
    settings.CXCRM_CSV_IMPORT_MAX_BYTES = 1_000
    content = b"external_id\n" + b"".join(f"c-{i}\n".encode() for i in range(500))
    assert "file is 3 KB; the limit is 1 KB" in _file_error(
        _upload(admin_client, CUSTOMERS_IMPORT, content)
    )


def test_too_many_rows_are_refused(admin_client: Client, monkeypatch: Any) -> None:
    monkeypatch.setattr("cxcrm.csv_import.MAX_ROWS", 3)
    content = b"external_id\nc-1\nc-2\nc-3\nc-4\n"
    assert "more than 3 rows" in _file_error(_upload(admin_client, CUSTOMERS_IMPORT, content))


def test_a_row_with_too_many_cells_is_an_error(admin_client: Client) -> None:
    response = _upload(admin_client, CUSTOMERS_IMPORT, b"external_id,name\nc-1,Ann,extra\n")
    (row,) = response.context["results"]
    assert row.errors == ["3 cells, but the header has only 2."]


def test_windows_1252_file_with_accents(admin_client: Client) -> None:
    content = "external_id;name\nc-1;José Müller\nc-2;Zoë Ñúñez\n".encode("cp1252")

    response = _upload(admin_client, CUSTOMERS_IMPORT, content)

    assert response.context["parsed"].encoding == "Windows-1252"
    assert "it was read as Windows-1252" in response.content.decode()
    admin_client.post(CUSTOMERS_IMPORT, {"token": response.context["token"]})
    assert Customer.objects.get(external_id="c-1").name == "José Müller"
    assert Customer.objects.get(external_id="c-2").name == "Zoë Ñúñez"


def test_excel_bom_and_semicolons(admin_client: Client) -> None:
    content = "\ufeffexternal_id;name;segment\r\nc-1;Åsa;vip\r\n".encode()

    response = _upload(admin_client, CUSTOMERS_IMPORT, content)

    assert response.context["parsed"].encoding == "UTF-8"
    assert response.context["parsed"].delimiter == ";"
    assert response.context["counts"]["new"] == 1
    admin_client.post(CUSTOMERS_IMPORT, {"token": response.context["token"]})
    assert Customer.objects.get(external_id="c-1").segment == "vip"


def test_tab_separated_file(admin_client: Client) -> None:
    response = _upload(admin_client, CUSTOMERS_IMPORT, b"External_ID\tName\nc-1\tAnn\n")
    assert response.context["parsed"].delimiter == "tab"
    assert response.context["counts"]["new"] == 1


# --- Import: confirm -----------------------------------------------------------------------


def test_confirm_creates_and_updates_customers(admin_client: Client) -> None:
    CustomerFactory(external_id="c-2", name="Old", email="keep@example.com", segment="a")
    content = (
        b"external_id,email,name,segment,language\nc-1,one@example.com,Ann,vip,pt-BR\nc-2,,New,,\n"
    )
    preview = _upload(admin_client, CUSTOMERS_IMPORT, content)

    response = admin_client.post(CUSTOMERS_IMPORT, {"token": preview.context["token"]}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:customers_customer_changelist")
    assert "Customers imported. New: 1, updated: 1, unchanged: 0." in response.content.decode()
    ann = Customer.objects.get(external_id="c-1")
    assert (ann.email, ann.name, ann.segment, ann.language) == (
        "one@example.com",
        "Ann",
        "vip",
        "pt-br",
    )
    old = Customer.objects.get(external_id="c-2")
    # An empty cell keeps what was stored.
    assert (old.name, old.email, old.segment) == ("New", "keep@example.com", "a")
    assert AuditEntry.objects.filter(summary="CSV import: 1 new, 1 updated").exists()
    # The same confirm again finds nothing pending: no double import.
    again = admin_client.post(CUSTOMERS_IMPORT, {"token": preview.context["token"]}, follow=True)
    assert "expired or was already imported" in again.content.decode()


def test_an_erased_customer_is_not_re_identified(admin_client: Client) -> None:
    CustomerFactory(external_id="c-1", erased_at=timezone.now(), email="", name="")
    response = _upload(admin_client, CUSTOMERS_IMPORT, b"external_id,email\nc-1,back@example.com\n")
    (row,) = response.context["results"]
    assert row.status == "error"
    assert "erased" in row.errors[0]


def _interactions_file(*rows: str) -> bytes:
    header = (
        "source,external_id,customer_external_id,touchpoint,occurred_at,order_ref,amount,currency"
    )
    return "\n".join([header, *rows, ""]).encode()


def test_confirm_imports_interactions_idempotently_and_schedules_surveys(
    admin_client: Client,
) -> None:
    touchpoint = TouchpointFactory(slug="checkout", stage=JourneyStage.ORDER)
    survey = SurveyFactory(trigger_stage=JourneyStage.ORDER)
    CustomerFactory(external_id="c-1", email="one@example.com")
    CustomerFactory(external_id="c-2", email="two@example.com")
    when = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    content = _interactions_file(
        f"shop,o-1,c-1,checkout,{when.isoformat()},A-1,49.90,eur",
        f"shop,o-2,c-2,checkout,{when.strftime('%Y-%m-%d %H:%M:%S')},,,",
        f"shop,o-1,c-1,checkout,{when.isoformat()},A-1,49.90,EUR",
    )

    preview = _upload(admin_client, INTERACTIONS_IMPORT, content)
    assert [r.status for r in preview.context["results"]] == ["new", "new", "unchanged"]
    assert Interaction.objects.count() == 0
    response = admin_client.post(
        INTERACTIONS_IMPORT, {"token": preview.context["token"]}, follow=True
    )

    assert (
        "Interactions imported. New: 2, already there or repeated: 1. "
        "2 survey invitations scheduled."
    ) in response.content.decode()
    first = Interaction.objects.get(source="shop", external_id="o-1")
    assert (first.touchpoint, str(first.amount), first.currency, first.order_ref) == (
        touchpoint,
        "49.90",
        "EUR",
        "A-1",
    )
    assert first.occurred_at == when
    assert Invitation.objects.filter(survey=survey).count() == 2

    # The same file again: every row is already there; nothing new, no second invitation.
    preview = _upload(admin_client, INTERACTIONS_IMPORT, content)
    assert [r.status for r in preview.context["results"]] == ["unchanged"] * 3
    admin_client.post(INTERACTIONS_IMPORT, {"token": preview.context["token"]})
    assert Interaction.objects.count() == 2
    assert Invitation.objects.count() == 2


def test_control_characters_are_row_errors_naming_line_and_column(admin_client: Client) -> None:
    content = (
        b"external_id,email,name\n"
        b"c-1,one@example.com,Ann\n"
        b'c-2,two@example.com,"Ann\r\nBcc: x@evil.example"\n'
        b"c-3\x07,three@example.com,Bob\n"
        b"c-4,four@example.com,Eve\xe2\x80\xa8Smith\n"
    )

    response = _upload(admin_client, CUSTOMERS_IMPORT, content)

    results = {r.line: r for r in response.context["results"]}
    assert results[2].status == "new"
    # The quoted name spans lines 3-4: the row is named by the line it starts on.
    assert results[3].errors == [
        "name: Contains a carriage return (CR); only printable characters are allowed on one line."
    ]
    assert results[5].errors[0].startswith("external_id: Contains the control character U+0007")
    assert results[6].errors[0].startswith("name: Contains the control character U+2028")
    page = response.content.decode()
    assert "name: Contains a carriage return (CR)" in page
    admin_client.post(CUSTOMERS_IMPORT, {"token": response.context["token"]})
    assert Customer.objects.count() == 0


def test_interaction_row_with_a_line_break_in_an_id_is_an_error(admin_client: Client) -> None:
    TouchpointFactory(slug="checkout")
    CustomerFactory(external_id="c-1")
    content = _interactions_file('shop,"o-1\nX-Injected: 1",c-1,checkout,2025-03-01T10:00:00Z,,,')

    preview = _upload(admin_client, INTERACTIONS_IMPORT, content)

    [row] = preview.context["results"]
    assert (row.line, row.status) == (2, "error")
    assert row.errors[0].startswith("external_id: Contains a line break (LF)")
    assert Interaction.objects.count() == 0


def test_interaction_rows_with_errors_block_the_whole_import(admin_client: Client) -> None:
    TouchpointFactory(slug="checkout")
    CustomerFactory(external_id="c-1")
    content = _interactions_file(
        "shop,o-1,c-1,checkout,2025-03-01T10:00:00Z,,,",
        "shop,o-2,nobody,checkout,2025-03-01T10:00:00Z,,,",
        "shop,o-3,c-1,no-such-place,2025-03-01T10:00:00Z,,,",
        "shop,o-4,c-1,checkout,yesterday,,12.345,EURO",
        "shop,o-5,c-1,bad slug!,2025-02-30T10:00:00Z,,1e9,",
    )

    preview = _upload(admin_client, INTERACTIONS_IMPORT, content)
    results = {r.line: r for r in preview.context["results"]}

    assert results[2].status == "new"
    assert "no customer 'nobody'" in results[3].errors[0]
    assert "no touchpoint with slug 'no-such-place'" in results[4].errors[0]
    assert [e.split(":")[0] for e in results[5].errors] == ["occurred_at", "amount", "currency"]
    assert [e.split(":")[0] for e in results[6].errors] == ["touchpoint", "occurred_at", "amount"]
    admin_client.post(INTERACTIONS_IMPORT, {"token": preview.context["token"]})
    assert Interaction.objects.count() == 0


def test_import_page_renders_with_the_buttons_on_the_changelist(admin_client: Client) -> None:
    page = admin_client.get(CUSTOMERS_IMPORT)
    assert page.status_code == 200
    assert "external_id</code> (required)" in page.content.decode()
    changelist = admin_client.get(
        reverse("admin:touchpoints_interaction_changelist") + "?source=shop"
    ).content.decode()
    assert f'href="{INTERACTIONS_IMPORT}"' in changelist
    assert reverse("admin:touchpoints_interaction_export") + "?source=shop" in changelist


# --- Import: who may ---------------------------------------------------------------------


def test_staff_without_add_permission_gets_403(client: Client) -> None:
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["customers", "touchpoints"],
            codename__in=["view_customer", "change_customer", "view_interaction"],
        )
    )
    client.force_login(user)
    assert client.get(CUSTOMERS_IMPORT).status_code == 403
    assert client.get(INTERACTIONS_IMPORT).status_code == 403
    upload = _upload(client, CUSTOMERS_IMPORT, b"external_id\nc-1\n")
    assert upload.status_code == 403
    assert Customer.objects.count() == 0


def test_a_pending_import_is_confirmed_only_by_its_uploader(
    admin_client: Client, superuser: Any
) -> None:
    preview = _upload(admin_client, CUSTOMERS_IMPORT, b"external_id\nc-1\n")
    other = Client()
    other.force_login(UserFactory(username="other-boss", is_superuser=True))
    response = other.post(CUSTOMERS_IMPORT, {"token": preview.context["token"]}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    assert Customer.objects.count() == 0


def test_confirm_needs_a_csrf_token(superuser: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    page = client.get(CUSTOMERS_IMPORT)
    token = page.cookies["csrftoken"].value
    preview = client.post(
        CUSTOMERS_IMPORT,
        {
            "file": SimpleUploadedFile("rows.csv", b"external_id\nc-1\n"),
            "csrfmiddlewaretoken": token,
        },
    )
    assert preview.status_code == 200

    forged = client.post(CUSTOMERS_IMPORT, {"token": preview.context["token"]})

    assert forged.status_code == 403
    assert Customer.objects.count() == 0
    client.post(CUSTOMERS_IMPORT, {"token": preview.context["token"], "csrfmiddlewaretoken": token})
    assert Customer.objects.count() == 1
