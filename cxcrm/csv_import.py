"""CSV import in the admin: upload → preview with per-row status → confirm.

The core: reading the file and the three admin steps. Each app defines the ``Importer`` of
its model (customers.csv_import, touchpoints.csv_import), which checks rows against the
database in a fixed number of queries and writes through that app's services.

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
import secrets
import zlib
from collections import Counter
from dataclasses import dataclass, field
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
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cxcrm.text import control_character_error

MAX_ROWS = 10_000
PREVIEW_ROWS = 100
PENDING_SECONDS = 3600
StrOrPromise = str | Promise
_DELIMITERS = (",", ";", "\t")


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
        raise CsvFileError(gettext("The file is empty."))
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvFileError(
            gettext(
                "This is a spreadsheet file (.xlsx/.xls), not CSV. In Excel use "
                "File → Save As → “CSV UTF-8 (comma delimited)”."
            )
        )
    if b"\x00" in raw:
        raise CsvFileError(
            gettext("This is not a text file (it contains binary data). Upload a CSV file.")
        )
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            gettext("The file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8”.")
        ) from exc
    return text, "Windows-1252"


def parse(raw: bytes, *, columns: tuple[str, ...], required: tuple[str, ...]) -> ParsedCsv:
    text, encoding = decode(raw)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # The header line names plain columns, so the delimiter it uses most is the file's.
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_row = next((r for r in reader if any(c.strip() for c in r)), None)
        if header_row is None:
            raise CsvFileError(gettext("The file is empty."))
        headers = [h.strip().lower() for h in header_row]
        duplicated = sorted({h for h in headers if headers.count(h) > 1 and h})
        missing = [c for c in required if c not in headers]
        unknown = [h for h in headers if h not in columns]
        # Column names are the file's own (a machine format): they are quoted, not translated.
        problems = []
        if missing:
            problems.append(
                ngettext(
                    "missing required column: %(columns)s",
                    "missing required columns: %(columns)s",
                    len(missing),
                )
                % {"columns": ", ".join(missing)}
            )
        if unknown:
            shown = ", ".join(repr(h) if h else gettext("(blank)") for h in unknown[:10])
            problems.append(
                ngettext(
                    "unknown column: %(columns)s", "unknown columns: %(columns)s", len(unknown)
                )
                % {"columns": shown}
            )
        if duplicated:
            problems.append(
                ngettext(
                    "column given twice: %(columns)s",
                    "columns given twice: %(columns)s",
                    len(duplicated),
                )
                % {"columns": ", ".join(duplicated)}
            )
        if problems:
            raise CsvFileError(
                gettext(
                    # Translators: %(problems)s is a list of the problems above, joined by "; ".
                    "The header row does not match: %(problems)s. Expected columns: "
                    "%(columns)s (required: %(required)s)."
                )
                % {
                    "problems": "; ".join(problems),
                    "columns": ", ".join(columns),
                    "required": ", ".join(required),
                }
            )
        rows: list[tuple[int, dict[str, str]]] = []
        # A quoted cell may span lines: a row is named by the line it starts on.
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(
                    ngettext(
                        "The file has more than %(count)s row; split it into smaller files.",
                        "The file has more than %(count)s rows; split it into smaller files.",
                        MAX_ROWS,
                    )
                    % {"count": number_format(MAX_ROWS, force_grouping=True)}
                )
            if len(cells) > len(headers):
                # Kept as a row with an error so the preview points at it.
                too_many = ngettext(
                    "%(cells)d cell, but the header has only %(headers)d.",
                    "%(cells)d cells, but the header has only %(headers)d.",
                    len(cells),
                ) % {"cells": len(cells), "headers": len(headers)}
                rows.append((start, {"__error__": too_many}))
                continue
            padded = [*cells, *[""] * (len(headers) - len(cells))]
            rows.append((start, {h: v.strip() for h, v in zip(headers, padded, strict=True)}))
    except csv.Error as exc:
        # The csv module's own reason stays in English: it is quoted, not translated.
        raise CsvFileError(
            gettext("Line %(line)s is not valid CSV: %(error)s.")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    if not rows:
        raise CsvFileError(gettext("The file has a header row but no data rows."))
    return ParsedCsv(headers, rows, encoding, "tab" if delimiter == "\t" else delimiter)


NEW, UPDATE, UNCHANGED, ERROR = "new", "update", "unchanged", "error"
# What the preview's Status column shows for each row status (the status itself is a CSS class).
STATUS_LABELS = {
    NEW: pgettext_lazy("CSV import row status", "new"),
    UPDATE: pgettext_lazy("CSV import row status", "update"),
    UNCHANGED: pgettext_lazy("CSV import row status", "unchanged"),
    ERROR: pgettext_lazy("CSV import row status", "error"),
}


@dataclass
class RowResult:
    line: int
    cells: dict[str, str]
    status: str = NEW
    errors: list[str] = field(default_factory=list)
    note: str = ""
    data: Any = None  # what the writer needs, set by the importer when the row is valid

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    def fail(self, message: str) -> None:
        self.status = ERROR
        self.errors.append(message)


def field_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()]
    return list(exc.messages)


class Importer:
    model: ClassVar[type]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    help: ClassVar[StrOrPromise]

    def check(self, parsed: ParsedCsv) -> list[RowResult]:
        results = [RowResult(line, cells) for line, cells in parsed.rows]
        for result in results:
            if "__error__" in result.cells:
                result.fail(result.cells.pop("__error__"))
                continue
            for name in self.required:
                if not result.cells.get(name, ""):
                    result.fail(gettext("%(column)s: required.") % {"column": name})
            # Every column of an import is one line (names, ids, codes): the shared rule.
            for name, value in result.cells.items():
                problem = control_character_error(value)
                if problem:
                    result.fail(f"{name}: {problem}")
        self.check_rows([r for r in results if r.status != ERROR])
        return results

    def check_rows(self, results: list[RowResult]) -> None:
        raise NotImplementedError

    def write(self, results: list[RowResult], request: HttpRequest) -> str:
        """Writes the valid rows; returns the message that says what was done."""
        raise NotImplementedError

    def has_permission(self, model_admin: admin.ModelAdmin, request: HttpRequest) -> bool:
        return model_admin.has_add_permission(request)


def _size(n: int) -> str:
    # Decimal units, as the limit is set (CXCRM_CSV_IMPORT_MAX_BYTES), in the staff's notation.
    if n >= 100_000:
        return gettext("%(size)s MB") % {"size": number_format(n / 1_000_000, 1)}
    return gettext("%(size)s KB") % {"size": number_format(round(n / 1000), force_grouping=True)}


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.CXCRM_CSV_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                gettext(
                    "The file is %(size)s; the limit is %(limit)s. Split it into smaller files."
                )
                % {"size": _size(upload.size), "limit": _size(limit)}
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
            # Translators: %(things)s is what is imported, e.g. "Customers" (a page title).
            "title": gettext("Import from CSV: %(things)s")
            % {"things": capfirst(opts.verbose_name_plural)},
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
            # Translators: %(things)s is what is imported, e.g. "Customers" (a page title).
            title=gettext("Import preview: %(things)s")
            % {"things": capfirst(context["opts"].verbose_name_plural)},
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
                request,
                gettext("This preview has expired or was already imported. Upload the file again."),
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
            messages.error(request, gettext("Nothing was imported. %(reason)s") % {"reason": exc})
            return HttpResponseRedirect(here)
        cache.delete(key)
        messages.success(request, summary)
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
