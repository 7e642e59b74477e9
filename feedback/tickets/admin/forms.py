"""Input forms of the ticket page's actions and the queue's bulk actions. They validate only;
the services decide what the ticket's state allows (TicketError)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from feedback.tickets.models import RootCause, TicketPriority
from feedback.tickets.services import staff_users
from feedback.tickets.work import WORK_STATUSES

BODY_MAX = 20000


def _textarea(rows: int, placeholder: str | Promise) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "placeholder": placeholder})


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


def staff_choice_field(*, required: bool) -> StaffChoiceField:
    return StaffChoiceField(
        queryset=staff_users().order_by("username"),
        required=required,
        label=_("Assignee"),
        empty_label=_("Unassigned") if not required else _("Choose a person…"),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the customer"),
        max_length=BODY_MAX,
        widget=_textarea(
            6, _("Written to the customer; sent by email, threaded under their answer.")
        ),
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=BODY_MAX,
        widget=_textarea(3, _("Only staff see notes.")),
    )


class WorkForm(forms.Form):
    """The work panel: one submit for assignee, status and priority. A field left out of the
    POST stays as it is ("Assign to me" posts the assignee only); status offers the working
    states only (resolving and closing are their own steps)."""

    assignee = staff_choice_field(required=False)
    status = forms.ChoiceField(label=_("Status"), choices=WORK_STATUSES, required=False)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=TicketPriority.choices,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A fresh queryset per form: staff who joined since start-up are listed.
        self.fields["assignee"].queryset = staff_users().order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["assignee_given"] = "assignee" in self.data
        data["status"] = data.get("status") or None
        return data


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(
        label=_("Priority"), coerce=int, choices=TicketPriority.choices
    )


class ContactForm(forms.Form):
    note = forms.CharField(
        label=_("What was said"),
        required=False,
        max_length=BODY_MAX,
        widget=_textarea(2, _("Optional: what was agreed on the phone.")),
    )


class ResolveForm(forms.Form):
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"),
        queryset=RootCause.objects.none(),
        empty_label=_("Choose a root cause…"),
    )
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=BODY_MAX,
        widget=_textarea(3, _("What was done for the customer.")),
    )
    send_followup = forms.BooleanField(
        label=_("Send a follow-up survey"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Retired root causes stay on old tickets but cannot be chosen for new resolutions.
        self.fields["root_cause"].queryset = RootCause.objects.filter(active=True)


class ReopenForm(forms.Form):
    note = forms.CharField(label=_("Why reopen"), required=False, max_length=1000)


# --- Bulk actions (intermediate pages) ----------------------------------------------------------


class BulkAssignForm(forms.Form):
    assignee = staff_choice_field(required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users().order_by("username")


class BulkPriorityForm(PriorityForm):
    pass
