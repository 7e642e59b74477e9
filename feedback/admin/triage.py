"""The triage queue as a lean staff page: /admin/queue/.

The ticket changelist (/admin/feedback/ticket/) is Django's admin page: its frame alone (base
template, the navigation sidebar's 29 entries, the action form's widgets, the ChangeList's
eight filter specs and their links) costs more than the whole queue is allowed to
(bench.admin: 10× faster than a stock ModelAdmin on a million tickets; bench/README.md). Staff
triage all day, so the queue they land on is this page instead: the same tickets in the same
order, the same columns and badges, the same filters (in the changelist's own query
parameters, so every link works on both pages), the same search and the same bulk actions,
drawn in one pass with a small frame of its own. Each ticket links to its admin page, and
"All tickets (admin list)" opens the changelist with the same filters for what this page
leaves out: sorting by a column, facet counts, the history, raw-id popups.

- Staff only and behind the admin's sign-in (``admin.site.admin_view``); it needs the same
  permission as the changelist (view or change a ticket).
- The bulk actions are the TicketAdmin's: a POST is handed to its ``changelist_view``, which
  checks the action's permission, runs it (or shows its second step) and redirects back here.
- Queries on a warm page: session, user, the capped count, the page (an agent also reads
  their permissions). The filters' lists of staff and touchpoints come from the 60-second
  cache the changelist uses (feedback.admin.queue.queue_filter_choices).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe

from cxcrm.pagination import CappedCountPaginator, count_up_to
from feedback.admin.badges import (
    priority_badge,
    score_badge_of,
    sla_badge_of,
    status_badge_of,
    ticket_label_of,
)
from feedback.admin.queue import queue_filter_choices
from feedback.models import Ticket, TicketPriority, TicketSource, TicketStatus
from feedback.scoring import SurveyKind
from feedback.selectors import (
    TicketQueueFilters,
    ticket_queue_filter,
    ticket_queue_ordering,
)
from touchpoints.models import JourneyStage, Touchpoint

PER_PAGE = 50
QUEUE_COUNT_CAP = 1_000
SEARCH = "q"
PAGE = "p"
# The changelist's parameters (feedback.admin.tickets.TicketAdmin.list_filter), in the order
# the filter bar shows them.
QUEUE, STATUS, PRIORITY, ASSIGNEE = "queue", "status__exact", "priority__exact", "assignee"
TOUCHPOINT, STAGE, KIND, SOURCE = (
    "touchpoint__id__exact",
    "touchpoint__stage__exact",
    "kind",
    "source__exact",
)
QUEUE_CHOICES = [
    ("open", "Open (the queue)"),
    ("overdue", "Overdue (SLA breached)"),
    ("all", "All tickets"),
]
VIEW_PERMISSIONS = ("feedback.view_ticket", "feedback.change_ticket")


def _choice(params: QueryDict, name: str, allowed: Iterable[str]) -> str | None:
    value = params.get(name)
    return value if value in allowed else None


def _int(params: QueryDict, name: str) -> int | None:
    value = params.get(name, "")
    return int(value) if value.isdigit() else None


def queue_filters(params: QueryDict) -> TicketQueueFilters:
    """The query string as filters. Unknown values are ignored (the changelist shows some of
    them as an error instead). As the changelist's QueueFilter: the open queue by default, but
    a picked status shows that status among all tickets unless "overdue" is asked for."""
    queue = params.get(QUEUE)
    if queue not in ("overdue", "all"):
        # The filter bar's form sends every select, the empty ones as "status__exact=".
        queue = "all" if params.get(STATUS) else "open"
    assignee = params.get(ASSIGNEE)
    if assignee not in ("me", "none") and not (assignee or "").isdigit():
        assignee = None
    priority = _int(params, PRIORITY)
    return TicketQueueFilters(
        queue=queue,
        status=_choice(params, STATUS, TicketStatus.values),
        priority=priority if priority in TicketPriority.values else None,
        assignee=assignee,
        touchpoint_id=_int(params, TOUCHPOINT),
        stage=_choice(params, STAGE, JourneyStage.values),
        kind=_choice(params, KIND, SurveyKind.values),
        source=_choice(params, SOURCE, TicketSource.values),
    )


def _esc(value: object) -> str:
    """conditional_escape: text marked safe (a message with a link, say) passes through."""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


def _options(choices: Iterable[tuple[object, object]], selected: object, empty: str) -> str:
    """<option>s of a select; ``empty`` is the label of the "not filtered" choice."""
    parts = [f'<option value="">{_esc(empty)}</option>'] if empty else []
    for value, label in choices:
        mark = " selected" if str(value) == str(selected) else ""
        parts.append(f'<option value="{_esc(value)}"{mark}>{_esc(label)}</option>')
    return "".join(parts)


def _select(name: str, label: str, options: str) -> str:
    return (
        f'<label class="cx-filter"><span>{_esc(label)}</span>'
        f'<select name="{name}">{options}</select></label>'
    )


def filter_bar(filters: TicketQueueFilters, search: str) -> SafeString:
    """The filters as one GET form of selects (the changelist's parameters), and the search."""
    lists = queue_filter_choices()
    people = [("me", "Me"), ("none", "Unassigned"), *lists["staff"]]
    fields = [
        _select(QUEUE, "Queue", _options(QUEUE_CHOICES, filters.queue, "")),
        _select(STATUS, "Status", _options(TicketStatus.choices, filters.status, "Any")),
        _select(PRIORITY, "Priority", _options(TicketPriority.choices, filters.priority, "Any")),
        _select(ASSIGNEE, "Assignee", _options(people, filters.assignee, "Anyone")),
        _select(
            TOUCHPOINT, "Touchpoint", _options(lists["touchpoints"], filters.touchpoint_id, "Any")
        ),
        _select(STAGE, "Journey stage", _options(JourneyStage.choices, filters.stage, "Any")),
        _select(KIND, "Survey kind", _options(SurveyKind.choices, filters.kind, "Any")),
        _select(SOURCE, "Source", _options(TicketSource.choices, filters.source, "Any")),
    ]
    return mark_safe(
        '<form id="cx-triage-filters" method="get">'
        '<label class="cx-filter cx-search"><span>Search</span>'
        f'<input type="search" name="{SEARCH}" value="{_esc(search)}"'
        ' placeholder="Customer email or name, subject, or the answer&#x27;s comment"></label>'
        + "".join(fields)
        + '<button type="submit" class="button">Filter</button>'
        '<a class="cx-reset" href="?">Reset</a></form>'
    )


# The columns of one row, read as a tuple: 50 rows of Ticket objects with their customer, answer,
# assignee and touchpoint were 250 model instances to build for 16 values a row (about a third
# of the page's own time on a million tickets, bench.admin). The assignee's and the
# touchpoint's names are not joined: PostgreSQL spent 0.9 ms planning the four joins (0.2 ms
# for two, EXPLAIN SUMMARY on a million tickets), and both lists are already in the filter
# bar's one-minute cache (a name changed in the last minute shows as before for that minute;
# one not in the cache, e.g. an assignee who left the staff, is read with one small query).
ROW_FIELDS = (
    "pk",
    "subject",
    "status",
    "priority",
    "source",
    "due_at",
    "first_contact_at",
    "created_at",
    "customer_id",
    "customer__name",
    "customer__email",
    "response__kind",
    "response__score",
    "response__category",
    "assignee_id",
    "touchpoint_id",
)
COLUMNS = ("Ticket", "Score", "Priority", "Status", "SLA", "Assignee", "Touchpoint", "Created")
_ASSIGNEE, _TOUCHPOINT = ROW_FIELDS.index("assignee_id"), ROW_FIELDS.index("touchpoint_id")


def row_names(rows: list[tuple[Any, ...]]) -> tuple[dict[int, str], dict[int, str]]:
    """{user id: username} and {touchpoint id: name} for these rows."""
    lists = queue_filter_choices()
    people, places = dict(lists["staff"]), dict(lists["touchpoints"])
    missing = {row[_ASSIGNEE] for row in rows} - people.keys() - {None}
    if missing:
        users = get_user_model().objects.filter(pk__in=missing)
        people.update(users.values_list("pk", "username"))
    missing = {row[_TOUCHPOINT] for row in rows} - places.keys() - {None}
    if missing:
        touchpoints = Touchpoint.objects.filter(pk__in=missing).order_by()
        places.update(touchpoints.values_list("pk", "name"))
    return people, places


def rows_html(rows: list[tuple[Any, ...]], change_prefix: str) -> SafeString:
    """One table row per ROW_FIELDS tuple: the changelist's columns and badges, the ticket
    linked to its admin page."""
    now, tz = timezone.now(), timezone.get_current_timezone()
    people, places = row_names(rows)
    html = []
    for (
        pk,
        subject,
        status,
        priority,
        source,
        due_at,
        first_contact_at,
        created_at,
        customer_pk,
        name,
        email,
        kind,
        score,
        category,
        assignee,
        touchpoint,
    ) in rows:
        html.append(
            f'<tr><td class="action-checkbox"><input type="checkbox" name="_selected_action"'
            f' value="{pk}" class="action-select" aria-label="Select ticket #{pk}"></td>'
            f'<th class="field-ticket"><a href="{change_prefix}{pk}/change/">'
            f"{ticket_label_of(pk, subject, customer_pk, name, email)}</a></th>"
            f'<td class="field-score">{score_badge_of(source, kind, score, category)}</td>'
            f'<td class="field-priority_col">{priority_badge(priority)}</td>'
            f'<td class="field-status_col">{status_badge_of(status)}</td>'
            f'<td class="field-sla">{sla_badge_of(status, first_contact_at, due_at, now, tz)}</td>'
            f'<td class="field-assignee nowrap">'
            f"{'-' if assignee is None else _esc(people[assignee])}</td>"
            f'<td class="field-touchpoint nowrap">'
            f"{'-' if touchpoint is None else _esc(places[touchpoint])}</td>"
            f'<td class="field-created_at nowrap">'
            f"{created_at.astimezone(tz):%Y-%m-%d %H:%M}</td></tr>"
        )
    return mark_safe("\n".join(html))


class QueuePaginator(CappedCountPaginator):
    """The queue's pages of ROW_FIELDS tuples, from a function that builds the ordered
    queryset of tickets, called only when needed: on PostgreSQL the count and the page run as
    prepared statements compiled once per ``key`` (statement_key), so a page asked for again
    with the same filters does not build a queryset at all.

    Counted up to 1,000 tickets (20 pages), then "1,000+": the count is the page's most
    expensive query, its cost grows with the rows it reads (≈ 0.2 ms per 1,000 open tickets on
    PostgreSQL), and staff work the queue from its top, by filter or search. The admin
    changelist counts up to 10,000 for browsing further."""

    cap = QUEUE_COUNT_CAP

    def __init__(
        self, tickets: Callable[[], QuerySet[Ticket]], per_page: int, key: Hashable | None
    ) -> None:
        super().__init__([], per_page)
        self.tickets = functools.cache(tickets)
        self.key = key

    def count_up_to(self, limit: int) -> int:
        return count_up_to(self.tickets, limit, self.key)

    def rows(self, bottom: int, top: int) -> list[tuple[Any, ...]]:
        return list(self.tickets()[bottom:top].values_list(*ROW_FIELDS))


def statement_key(filters: TicketQueueFilters, search: str, user: Any) -> Hashable | None:
    """What the queue's querysets depend on, as a key for their compiled statements; ``None``
    (compiled every time) for a search (its SQL comes from the TicketAdmin's search) and the
    overdue queue (its SQL holds the time of the request)."""
    if search or filters.queue == "overdue":
        return None
    return ("triage", filters, user.pk if filters.assignee == "me" else None)


def _query(params: dict[str, str], **changes: object) -> str:
    merged = {**params, **{k: str(v) for k, v in changes.items()}}
    return "?" + urlencode({k: v for k, v in merged.items() if v})


def _ticket_admin() -> Any:
    return admin.site.get_model_admin(Ticket)


def queue_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not any(user.has_perm(p) for p in VIEW_PERMISSIONS):
        raise PermissionDenied
    model_admin = _ticket_admin()
    if request.method == "POST":
        if "index" not in request.POST and helpers.ACTION_CHECKBOX_NAME not in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        # The changelist runs the action (its permission, its second step, its messages) on
        # the tickets picked among those these filters show, then redirects back here.
        return model_admin.changelist_view(request)

    params = request.GET
    filters = queue_filters(params)
    search = params.get(SEARCH, "").strip()

    def tickets() -> QuerySet[Ticket]:
        found = ticket_queue_filter(Ticket.objects.all(), filters, user=user, now=timezone.now())
        if search:
            found, _ = model_admin.get_search_results(request, found, search)
        return found.order_by(*ticket_queue_ordering(only_open=filters.only_open))

    # Counted without the columns' joins (a count of the values_list would keep them).
    paginator = QueuePaginator(tickets, PER_PAGE, statement_key(filters, search, user))
    page = paginator.get_page(params.get(PAGE))

    # The filters that are set, in the changelist's parameters: for the page links and for the
    # same list in the admin.
    kept = {k: v for k, v in params.items() if v and k != PAGE}
    changelist = reverse("admin:feedback_ticket_changelist")
    actions = model_admin.get_action_choices(request) if model_admin.actions else []
    return HttpResponse(
        _frame(
            request,
            filters=filter_bar(filters, search),
            actions=_options(actions[1:], "", "---------") if actions else "",
            rows=rows_html(page.object_list, changelist),
            empty="No tickets match these filters." if kept else "No tickets.",
            pagination=_pagination(page, kept),
            admin_list_url=changelist + _query(kept),
        )
    )


def _pagination(page: Any, kept: dict[str, str]) -> str:
    paginator = page.paginator
    parts = []
    if page.has_previous():
        parts.append(
            f'<a href="{_esc(_query(kept, p=page.number - 1))}" rel="prev">‹ Previous</a> '
        )
    if paginator.num_pages > 1:
        more = "+" if paginator.capped else ""
        parts.append(f"Page {page.number} of {paginator.num_pages}{more} · ")
    if paginator.capped:
        parts.append(
            '<span class="cx-count cx-count--capped" title="At least this many; the count stops'
            ' here. Filter or search to narrow the list.">'
        )
    else:
        parts.append('<span class="cx-count">')
    plural = "" if paginator.count == 1 else "s"
    parts.append(f"{paginator.count_display}</span> ticket{plural}")
    if page.has_next():
        parts.append(f' <a href="{_esc(_query(kept, p=page.number + 1))}" rel="next">Next ›</a>')
    return "".join(parts)


# The page's stylesheets: the admin's own (its look, light and dark) and the queue's badges.
STYLESHEETS = (
    "admin/css/base.css",
    "admin/css/dark_mode.css",
    "admin/css/changelists.css",
    "admin/css/responsive.css",
    "cxcrm/admin.css",
    "cxcrm/triage.css",
)
TITLE = "Triage queue"


def _frame(
    request: HttpRequest,
    *,
    filters: str,
    actions: str,
    rows: str,
    empty: str,
    pagination: str,
    admin_list_url: str,
) -> str:
    """The whole page. Drawn here rather than by a template extending admin/base_site.html:
    that frame (the navigation sidebar's app list, the context processors, a few hundred
    template nodes) costs more than the page may take (module docstring). The markup keeps
    the admin's ids and classes, so its stylesheets apply."""
    site = admin.site
    user = request.user
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_esc(get_token(request))}">'
    home = reverse("admin:index")
    dashboard = (
        f'<a href="{reverse("dashboard")}">Dashboard</a> / '
        if user.has_perm("feedback.view_dashboard")
        else ""
    )
    notes = "".join(
        f'<li class="{_esc(m.tags)}">{_esc(m.message)}</li>'
        if m.tags
        else f"<li>{_esc(m.message)}</li>"
        for m in get_messages(request)
    )
    table = (
        '<div class="results"><table id="result_list"><thead><tr>'
        '<th scope="col" class="action-checkbox-column"><input type="checkbox" id="action-toggle"'
        ' aria-label="Select all tickets on this page"></th>'
        + "".join(f'<th scope="col">{name}</th>' for name in COLUMNS)
        + f"</tr></thead><tbody>\n{rows}\n</tbody></table></div>"
        if rows
        else f'<p class="cx-empty">{empty}</p>'
    )
    action_bar = (
        f'<div class="actions"><label>Action: <select name="action" required>{actions}</select>'
        '</label><input type="hidden" name="index" value="0">'
        '<input type="hidden" name="select_across" value="0">'
        '<button type="submit" class="button" title="Run the selected action">Go</button></div>'
        if actions
        else ""
    )
    links = "".join(f'<link rel="stylesheet" href="{static(path)}">\n' for path in STYLESHEETS)
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<title>{TITLE} | {_esc(site.site_title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="robots" content="NONE,NOARCHIVE">
{links}<script src="{static("cxcrm/triage.js")}" defer></script>
</head>
<body class="change-list cx-triage">
<div id="container">
<header id="header">
<div id="branding"><div id="site-name"><a href="{home}">{_esc(site.site_header)}</a></div></div>
<div id="user-tools"><strong>{_esc(user.get_short_name() or user.get_username())}</strong> ·
<a href="{home}">Admin</a> / {dashboard}<form id="logout-form" method="post"
 action="{reverse("admin:logout")}">{csrf}<button type="submit">Log out</button></form></div>
</header>
<nav aria-label="Breadcrumbs"><div class="breadcrumbs"><a href="{home}">Home</a> › Tickets ›
 {TITLE}</div></nav>
<main id="content" class="colM">
{f'<ul class="messagelist">{notes}</ul>' if notes else ""}
<div class="cx-triage-title"><h1>{TITLE}</h1>
<a class="cx-admin-list" href="{_esc(admin_list_url)}">All tickets (admin list)</a></div>
{filters}
<form id="changelist-form" method="post" novalidate>{csrf}
{action_bar}
{table}
</form>
<p class="paginator">{pagination}</p>
</main>
</div>
</body>
</html>
"""


queue = admin.site.admin_view(queue_view)
