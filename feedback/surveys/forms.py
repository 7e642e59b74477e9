"""Forms of the public survey page. They validate; the services record."""

from __future__ import annotations

from typing import Any, NamedTuple

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from feedback.surveys.models import Response
from feedback.surveys.scoring import score_range
from feedback.surveys.services.responses import MAX_COMMENT_CHARS

phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{5,32}$", _("Enter a phone number, e.g. +44 20 7946 0958.")
)

CALLBACK_TIMES = [
    ("any", _("Any time")),
    ("morning", _("Morning")),
    ("afternoon", _("Afternoon")),
    ("evening", _("Evening")),
]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise forms.ValidationError(_("The text contains a character that is not allowed."))
    return value


class ScoreForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = score_range(kind)
        self.fields["score"].choices = [(n, str(n)) for n in range(low, high + 1)]
        self.fields["score"].error_messages["required"] = _("Choose a score.")
        self.fields["score"].error_messages["invalid_choice"] = _(
            "Choose a score between %(low)s and %(high)s."
        ) % {"low": low, "high": high}

    def points(self) -> list[ScalePoint]:
        """The scale's radio buttons, for the pages to draw with the markup of Django's
        RadioSelect (ids by position, ``required``, ``checked``, ``aria-invalid``). They
        write it themselves: RadioSelect renders two templates per button (11 for NPS), a
        quarter of the survey page's time when it was drawn for every request."""
        field = self["score"]
        chosen = field.value()
        chosen = "" if chosen is None else str(chosen)
        invalid = bool(self.is_bound and field.errors)
        return [
            ScalePoint(f"id_score_{i}", value, str(value) == chosen, invalid)
            for i, (value, _label) in enumerate(self.fields["score"].choices)
        ]


class ScalePoint(NamedTuple):
    id: str
    value: int
    checked: bool
    invalid: bool


class FollowUpForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT_CHARS,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_COMMENT_CHARS}),
    )
    callback = forms.BooleanField(required=False)
    phone = forms.CharField(required=False, max_length=32, validators=[phone_validator])
    callback_time = forms.ChoiceField(required=False, choices=CALLBACK_TIMES, initial="any")

    def clean_comment(self) -> str:
        return _no_nul(self.cleaned_data["comment"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("callback") and not data.get("phone"):
            self.add_error("phone", _("Enter the number we should call."))
        return data

    def callback_answer(self) -> dict[str, str] | None:
        if not self.cleaned_data.get("callback"):
            return None
        return {
            "phone": self.cleaned_data["phone"],
            "time": self.cleaned_data.get("callback_time") or "any",
        }


class CallbackRequest(NamedTuple):
    phone: str
    time: str  # the best time's label, in the active language


def callback_requested(response: Response) -> CallbackRequest | None:
    """The call-back the customer asked for on the follow-up form, as FollowUpForm recorded it
    in the response's answers; None when they did not ask for one."""
    answer = response.answers.get("callback") if isinstance(response.answers, dict) else None
    if not isinstance(answer, dict) or not answer.get("phone"):
        return None
    times = dict(CALLBACK_TIMES)
    return CallbackRequest(
        phone=str(answer["phone"]), time=str(times.get(answer.get("time"), times["any"]))
    )
