"""CSV import in the admin: upload → preview with per-row status → confirm.

One core (reading the file, the three admin steps) and one ``Importer`` per model that checks
rows against the database in a fixed number of queries and writes through the services:
``customer_upsert`` for customers and ``interactions_record_bulk`` for interactions, so an
imported purchase schedules its survey invitations exactly like one sent to the API.

Between preview and confirm the decoded file waits in the cache (compressed, one hour, keyed
by a random token and the staff user's id): nothing is written before Confirm, no temporary
file is left behind on one web host, and with ``CACHE_URL`` (Redis) every host sees it. Confirm
validates the rows again, because the database may have changed since the preview.

Both imports are all-or-nothing, like the API's bulk endpoint: if any row has an error,
Confirm imports nothing and the preview says which rows to fix.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import zlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import AuditAction, Customer
from customers.privacy import audit_record
from customers.selectors import customer_resolve_many
from customers.services import CustomerError, customer_upsert
from touchpoints.models import Interaction
from touchpoints.selectors import touchpoint_resolve_many
from touchpoints.services import InteractionInput, interactions_record_bulk

MAX_ROWS = 10_000
PREVIEW_ROWS = 100
PENDING_SECONDS = 3600
_DELIMITERS = (",", ";", "\t")
# Control characters other than tab, CR and LF never belong in a text CSV.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message says why, for the staff member."""


@dataclass
class ParsedCsv:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number in the file, cells by column)
    encoding: str
    delimiter: str


def decode(raw: bytes) -> tuple[str, str]:
    """The text of the file and the encoding it was read with: UTF-8 (with or without Excel's
    BOM), else Windows-1252, which is what Excel on Windows writes for "CSV (comma delimited)"."""
    if not raw.strip():
        raise CsvFileError("The file is empty.")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvFileError(
            "This is a spreadsheet file (.xlsx/.xls), not CSV. In Excel use "
            "File → Save As → “CSV UTF-8 (comma delimited)”."
        )
    if b"\x00" in raw:
        raise CsvFileError("This is not a text file (it contains binary data). Upload a CSV file.")
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            "The file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8”."
        ) from exc
    return text, "Windows-1252"


def parse(raw: bytes, *, columns: tuple[str, ...], required: tuple[str, ...]) -> ParsedCsv:
    text, encoding = decode(raw)
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise CsvFileError(
            f"Line {line} contains a control character; this does not look like a CSV file."
        )
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # The header line names plain columns, so the delimiter it uses most is the file's.
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_row = next((r for r in reader if any(c.strip() for c in r)), None)
        if header_row is None:
            raise CsvFileError("The file is empty.")
        headers = [h.strip().lower() for h in header_row]
        duplicated = sorted({h for h in headers if headers.count(h) > 1 and h})
        missing = [c for c in required if c not in headers]
        unknown = [h for h in headers if h not in columns]
        problems = []
        if missing:
            problems.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            shown = ", ".join(repr(h) if h else "(blank)" for h in unknown[:10])
            problems.append(f"unknown column(s): {shown}")
        if duplicated:
            problems.append(f"column(s) given twice: {', '.join(duplicated)}")
        if problems:
            raise CsvFileError(
                "The header row does not match: "
                + "; ".join(problems)
                + f". Expected columns: {', '.join(columns)} (required: {', '.join(required)})."
            )
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(
                    f"The file has more than {MAX_ROWS:,} rows; split it into smaller files."
                )
            line = reader.line_num
            if len(cells) > len(headers):
                # Kept as a row with an error so the preview points at it.
                rows.append(
                    (line, {"__error__": f"{len(cells)} cells, the header has {len(headers)}"})
                )
                continue
            padded = [*cells, *[""] * (len(headers) - len(cells))]
            rows.append((line, {h: v.strip() for h, v in zip(headers, padded, strict=True)}))
    except csv.Error as exc:
        raise CsvFileError(f"Line {reader.line_num} is not valid CSV: {exc}.") from exc
    if not rows:
        raise CsvFileError("The file has a header row but no data rows.")
    return ParsedCsv(headers, rows, encoding, "tab" if delimiter == "\t" else delimiter)


NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"


@dataclass
class RowResult:
    line: int
    cells: dict[str, str]
    status: str = NEW
    errors: list[str] = field(default_factory=list)
    note: str = ""
    data: Any = None  # what the writer needs, set by the importer when the row is valid

    def fail(self, message: str) -> None:
        self.status = ERROR
        self.errors.append(message)


def _field_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()]
    return list(exc.messages)


class Importer:
    model: ClassVar[type]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    help: ClassVar[str]

    def check(self, parsed: ParsedCsv) -> list[RowResult]:
        results = [RowResult(line, cells) for line, cells in parsed.rows]
        for result in results:
            if "__error__" in result.cells:
                result.fail(result.cells.pop("__error__"))
                continue
            for name in self.required:
                if not result.cells.get(name, ""):
                    result.fail(f"{name}: required.")
        self.check_rows([r for r in results if r.status != ERROR])
        return results

    def check_rows(self, results: list[RowResult]) -> None:
        raise NotImplementedError

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        """Writes the valid rows; returns the message that says what was done."""
        raise NotImplementedError

    def has_permission(self, model_admin: admin.ModelAdmin, request: HttpRequest) -> bool:
        return model_admin.has_add_permission(request)


class CustomerImporter(Importer):
    model = Customer
    columns = ("external_id", "email", "name", "phone", "language", "country", "segment")
    required = ("external_id",)
    help = (
        "One customer per row, matched on external_id: a new id creates the customer, a known one "
        "updates it. An empty cell keeps the stored value (an import never blanks data)."
    )

    def has_permission(self, model_admin: admin.ModelAdmin, request: HttpRequest) -> bool:
        # Rows may update existing customers as well as add new ones.
        return model_admin.has_add_permission(request) and model_admin.has_change_permission(
            request
        )

    def check_rows(self, results: list[RowResult]) -> None:
        ids = {r.cells["external_id"] for r in results}
        existing = {c.external_id: c for c in Customer.objects.filter(external_id__in=ids)}
        seen: dict[str, int] = {}
        for result in results:
            external_id = result.cells["external_id"]
            if external_id in seen:
                result.fail(f"external_id {external_id!r} is also on line {seen[external_id]}.")
                continue
            seen[external_id] = result.line
            values = {
                name: result.cells[name] for name in self.columns[1:] if result.cells.get(name, "")
            }
            if "country" in values:
                values["country"] = values["country"].upper()
            if "language" in values:
                values["language"] = values["language"].lower()
            customer = existing.get(external_id)
            if customer is not None and customer.erased_at is not None:
                result.fail("This customer was erased; their data cannot be set again.")
                continue
            # Validated by the model's own rules, as customer_upsert does before saving.
            candidate = Customer(external_id=external_id)
            if customer is not None:
                for name in self.columns[1:]:
                    setattr(candidate, name, getattr(customer, name))
            changed = [
                n for n, v in values.items() if customer is None or getattr(customer, n) != v
            ]
            for name, value in values.items():
                setattr(candidate, name, value)
            try:
                candidate.full_clean(
                    exclude=["tags", "attributes"],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                for message in _field_errors(exc):
                    result.fail(message)
                continue
            if customer is None:
                result.status = NEW
            elif changed:
                result.status, result.note = UPDATE, "changes " + ", ".join(changed)
            else:
                result.status = UNCHANGED
            result.data = {n: values[n] for n in changed} if customer else values

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        counts: Counter[str] = Counter()
        for result in results:
            if result.status == UNCHANGED:
                counts["unchanged"] += 1
                continue
            try:
                _customer, created = customer_upsert(
                    external_id=result.cells["external_id"], **result.data
                )
            except (CustomerError, ValidationError) as exc:
                messages_ = _field_errors(exc) if isinstance(exc, ValidationError) else [str(exc)]
                raise CsvFileError(f"Line {result.line}: {' '.join(messages_)}") from exc
            counts["created" if created else "updated"] += 1
        audit_record(
            actor=request.user,
            action=AuditAction.CHANGED,
            object_type="customer",
            object_id=f"csv:{counts['created'] + counts['updated']}",
            summary=f"CSV import: {counts['created']} new, {counts['updated']} updated",
        )
        return (
            f"Imported customers: {counts['created']} new, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged."
        )


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENTS = Decimal("0.01")


class InteractionImporter(Importer):
    model = Interaction
    columns = (
        "source",
        "external_id",
        "customer_external_id",
        "touchpoint",
        "occurred_at",
        "order_ref",
        "amount",
        "currency",
    )
    required = ("source", "external_id", "customer_external_id", "touchpoint", "occurred_at")
    help = (
        "One interaction (a purchase, a visit…) per row. (source, external_id) identifies it: a "
        "row imported before is skipped, never doubled. The customer is named by its "
        "external_id (import customers first), the touchpoint by its slug, occurred_at in ISO "
        "8601 (2025-03-01T14:30:00+01:00; without an offset it is read in "
        f"{settings.TIME_ZONE}). New interactions schedule their surveys' invitations."
    )

    def _row(self, result: RowResult) -> dict[str, Any] | None:
        cells = result.cells
        for name, length in (("source", 64), ("external_id", 191), ("order_ref", 120)):
            if len(cells.get(name, "")) > length:
                result.fail(f"{name}: at most {length} characters.")
        if not _SLUG.match(cells["touchpoint"]) or len(cells["touchpoint"]) > 80:
            result.fail("touchpoint: give the touchpoint's slug (letters, digits, - and _).")
        try:
            occurred_at = parse_datetime(cells["occurred_at"])
        except ValueError:
            occurred_at = None
        if occurred_at is None:
            result.fail("occurred_at: not an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z.")
        elif timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        amount: Decimal | None = None
        if cells.get("amount", ""):
            if _AMOUNT.match(cells["amount"]):
                try:
                    amount = Decimal(cells["amount"]).quantize(_CENTS)
                except InvalidOperation:
                    result.fail("amount: not a number.")
            else:
                result.fail("amount: a number with at most 2 decimals and a dot, e.g. 49.90.")
        currency = cells.get("currency", "").upper()
        if currency and not _CURRENCY.match(currency):
            result.fail("currency: a three-letter ISO 4217 code such as EUR.")
        if result.status == ERROR:
            return None
        return {
            "occurred_at": occurred_at,
            "source": cells["source"],
            "external_id": cells["external_id"],
            "order_ref": cells.get("order_ref", ""),
            "amount": amount,
            "currency": currency,
        }

    def check_rows(self, results: list[RowResult]) -> None:
        valid = [(r, self._row(r)) for r in results]
        valid = [(r, v) for r, v in valid if v is not None]
        # Three queries for the whole file, whatever its length.
        customers = customer_resolve_many({r.cells["customer_external_id"] for r, _ in valid})
        touchpoints = touchpoint_resolve_many({r.cells["touchpoint"] for r, _ in valid})
        keys = {(v["source"], v["external_id"]) for _, v in valid}
        known = set(
            Interaction.objects.filter(
                source__in={s for s, _ in keys}, external_id__in={e for _, e in keys}
            ).values_list("source", "external_id")
        )
        seen: dict[tuple[str, str], int] = {}
        for result, values in valid:
            customer = customers.get(result.cells["customer_external_id"])
            touchpoint = touchpoints.get(result.cells["touchpoint"])
            if customer is None:
                result.fail(
                    f"customer_external_id: no customer {result.cells['customer_external_id']!r} "
                    "(import customers first)."
                )
            if touchpoint is None:
                result.fail(f"touchpoint: no touchpoint with slug {result.cells['touchpoint']!r}.")
            if result.status == ERROR:
                continue
            key = (values["source"], values["external_id"])
            if key in known:
                result.status, result.note = UNCHANGED, "already imported; skipped"
            elif key in seen:
                result.status, result.note = UNCHANGED, f"same as line {seen[key]}; recorded once"
            else:
                seen[key] = result.line
                result.status = NEW
            result.data = InteractionInput(
                customer_id=customer.pk, touchpoint_id=touchpoint.pk, metadata={}, **values
            )

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        items = [r.data for r in results if r.status == NEW]
        outcome = interactions_record_bulk(items=items) if items else []
        created = sum(1 for o in outcome if o.created)
        invitations = sum(o.invitations for o in outcome)
        skipped = len(results) - created
        return (
            f"Imported interactions: {created} new, {skipped} already there or repeated; "
            f"{invitations} survey invitation(s) scheduled."
        )


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} KB"


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.CXCRM_CSV_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {_size(upload.size)}; the limit is {_size(limit)}. "
                "Split it into smaller files."
            )
        return upload


def _pending_key(request: HttpRequest, token: str) -> str:
    # The user's id is part of the key: nobody else can confirm (or see) this upload.
    return f"csv-import:{request.user.pk}:{token}"


class CsvImportMixin:
    """Adds ``import/`` to a ModelAdmin, for the "Import CSV" button in object-tools."""

    csv_importer: ClassVar[type[Importer]]

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta  # type: ignore[attr-defined]
        ours = [
            path(
                "import/",
                # admin_view: staff sign-in, CSRF protection, never cached.
                self.admin_site.admin_view(self.csv_import_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_import",
            )
        ]
        return ours + super().get_urls()  # type: ignore[misc]

    def csv_import_view(self, request: HttpRequest) -> HttpResponse:
        model_admin: admin.ModelAdmin = self  # type: ignore[assignment]
        importer = self.csv_importer()
        if not importer.has_permission(model_admin, request):
            raise PermissionDenied
        opts = model_admin.model._meta
        context: dict[str, Any] = {
            **model_admin.admin_site.each_context(request),
            "opts": opts,
            "title": f"Import {opts.verbose_name_plural} from CSV",
            "importer": importer,
            "max_mb": settings.CXCRM_CSV_IMPORT_MAX_BYTES / 1_000_000,
            "max_rows": MAX_ROWS,
        }
        if request.method == "POST" and "token" in request.POST:
            return self._confirm(request, importer, context)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                parsed = parse(raw, columns=importer.columns, required=importer.required)
            except CsvFileError as exc:
                form.add_error("file", str(exc))
            else:
                token = secrets.token_urlsafe(16)
                text = raw.decode("utf-8-sig" if parsed.encoding == "UTF-8" else "cp1252")
                cache.set(
                    _pending_key(request, token),
                    {"text": zlib.compress(text.encode()), "name": form.cleaned_data["file"].name},
                    PENDING_SECONDS,
                )
                return self._preview(request, importer, context, parsed, token)
        context["form"] = form
        return TemplateResponse(request, "admin/csv_import.html", context)

    def _preview(
        self,
        request: HttpRequest,
        importer: Importer,
        context: dict[str, Any],
        parsed: ParsedCsv,
        token: str,
    ) -> HttpResponse:
        results = importer.check(parsed)
        counts = Counter(r.status for r in results)
        errors = [r for r in results if r.status == ERROR]
        # The first rows, then every row with an error (capped: a page must stay usable).
        shown = results[:PREVIEW_ROWS] + [
            r for r in errors if r.line > results[:PREVIEW_ROWS][-1].line
        ]
        context.update(
            parsed=parsed,
            results=shown[: PREVIEW_ROWS + 500],
            total=len(results),
            counts={s: counts.get(s, 0) for s in (NEW, UPDATE, UNCHANGED, ERROR)},
            has_errors=bool(errors),
            token=token,
            columns=list(parsed.headers),
            title=f"Preview: import {context['opts'].verbose_name_plural}",
        )
        return TemplateResponse(request, "admin/csv_preview.html", context)

    def _confirm(
        self, request: HttpRequest, importer: Importer, context: dict[str, Any]
    ) -> HttpResponse:
        opts = context["opts"]
        here = reverse(f"admin:{opts.app_label}_{opts.model_name}_import")
        key = _pending_key(request, str(request.POST["token"])[:64])
        pending = cache.get(key)
        if pending is None:
            messages.error(
                request, "This preview has expired or was already imported. Upload the file again."
            )
            return HttpResponseRedirect(here)
        raw = zlib.decompress(pending["text"])
        try:
            parsed = parse(raw, columns=importer.columns, required=importer.required)
            results = importer.check(parsed)
        except CsvFileError as exc:  # cannot happen for a file that passed the preview
            messages.error(request, str(exc))
            return HttpResponseRedirect(here)
        if any(r.status == ERROR for r in results):
            # All or nothing: show the rows to fix; the pending file stays for a re-check.
            return self._preview(request, importer, context, parsed, str(request.POST["token"]))
        try:
            with transaction.atomic():
                summary = importer.write(results, request)
        except CsvFileError as exc:
            messages.error(request, f"Nothing was imported. {exc}")
            return HttpResponseRedirect(here)
        cache.delete(key)
        messages.success(request, summary)
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
