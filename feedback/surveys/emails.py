"""Survey emails: the customer's language, the question with its score buttons in the email,
unsubscribe headers (RFC 2369 + RFC 8058), a Reply-To that carries the token, a stored
Message-ID."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from cxcrm.mail import message_id_new
from cxcrm.text import header_text
from feedback.surveys.models import Invitation, InvitationPurpose, Survey
from feedback.surveys.scoring import SurveyKind, score_range

T = TypeVar("T")

SUPPORTED_LANGUAGES = [code for code, _name in settings.LANGUAGES]
RTL_LANGUAGES = {"ar", "fa", "he", "ur"}

# The public pages' paths; the survey page answers at SURVEY_PATH (see feedback/urls.py).
SURVEY_PATH = "/s/{token}/"
UNSUBSCRIBE_PATH = "/u/{token}/"


def public_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def pick_language(wanted: str, available: list[str], fallback: str = "en") -> str:
    """The first of: the exact tag, its primary subtag, the fallback, English, any."""
    wanted = (wanted or "").lower()
    lowered = {code.lower(): code for code in available}
    for candidate in (wanted, wanted.split("-")[0], fallback.lower(), "en"):
        if candidate in lowered:
            return lowered[candidate]
    return available[0] if available else "en"


def survey_texts(survey: Survey, language: str) -> tuple[str, dict[str, Any]]:
    """The survey's own texts in the best language it has for this customer."""
    texts = survey.texts if isinstance(survey.texts, dict) else {}
    chosen = pick_language(language, list(texts), survey.default_language)
    return chosen, texts.get(chosen, {}) if isinstance(texts.get(chosen), dict) else {}


def scale_labels(kind: str) -> tuple[str, str]:
    """The words at the two ends of each kind's scale (translated in the active language)."""
    if kind == SurveyKind.NPS:
        return _("Not at all likely"), _("Extremely likely")
    if kind == SurveyKind.CSAT:
        return _("Very dissatisfied"), _("Very satisfied")
    return _("Very difficult"), _("Very easy")


def default_question(kind: str, brand: str) -> str:
    if kind == SurveyKind.NPS:
        return _("How likely are you to recommend %(brand)s to a friend or colleague?") % {
            "brand": brand
        }
    if kind == SurveyKind.CSAT:
        return _("How satisfied were you with %(brand)s?") % {"brand": brand}
    return _("How easy was it to get what you needed from %(brand)s?") % {"brand": brand}


# Every score button has the same colour. A red-to-green scale nudges answers (and a colour
# boundary that misses the scoring bands, like the old 0–4/5–7/8–10, misreports them); a neutral
# scale asks the question and nothing more. White on this blue meets WCAG AA (5.7:1).
SCORE_BUTTON_COLOUR = "#3b5bdb"

# NPS's eleven buttons need ~480 px in one row: on a 320–390 px phone they go on two balanced
# rows (0–5, 6–10). CSAT (5) and CES (7) fit one row at 320 px with ≥32 px buttons.
MAX_BUTTONS_PER_ROW = 7


def score_rows(scores: list[T]) -> list[list[T]]:
    """The score buttons' rows: as few rows as fit, balanced, the first never the shorter."""
    rows = -(-len(scores) // MAX_BUTTONS_PER_ROW)
    size = -(-len(scores) // rows)
    return [scores[i : i + size] for i in range(0, len(scores), size)]


def preheader_text() -> str:
    """The line mail apps show after the subject in the inbox (hidden in the email itself)."""
    return _("One click is all it takes: choose a number in this email.")


def email_subject(subject_text: Any, *, followup: bool) -> str:
    """The subject of a survey email as first sent (no reminder prefix), in the active language.
    The recovery follow-up asks its own question, whatever the first survey's subject was."""
    if followup:
        return header_text(_("Did we put it right?"))
    # Survey texts saved before subjects were checked may hold a line break.
    return header_text(str(subject_text or _("How did we do?")))


def email_language(survey: Survey, customer_language: str) -> tuple[str, dict[str, Any]]:
    """The language of the email's own words and the survey texts it uses: the customer's if
    we have a catalogue for it, else the language the survey's texts are in."""
    text_language, texts = survey_texts(survey, customer_language)
    return pick_language(customer_language, SUPPORTED_LANGUAGES, text_language), texts


def invitation_subject(invitation: Invitation) -> tuple[str, str]:
    """(language, subject) of the email this invitation sent, so that a reply to the customer
    can say "Re: <it>" in the same words and mail clients thread the two together."""
    language, texts = email_language(invitation.survey, invitation.customer.language)
    with translation.override(language):
        subject = email_subject(
            texts.get("subject"), followup=invitation.purpose == InvitationPurpose.FOLLOWUP
        )
    return language, subject


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


# A survey email differs between recipients of the same survey and language only in the token
# and the customer's name. Rendering the two templates costs more than sending the message, so
# each (survey texts, language, reminder, named or not) combination is rendered once with these
# slots and the values are put in per recipient. The slots are private-use characters: no
# template or survey text holds them and HTML escaping leaves them alone, and escaping is done
# character by character, so escape(before + value + after) == escape(before) + escape(value) +
# escape(after): filling the HTML with escape(value) gives exactly what the template would.
_TOKEN_SLOT = "\ue000token\ue000"
_NAME_SLOT = "\ue000name\ue000"
_SLOTS = re.compile("\ue000(token|name)\ue000")


def _render(
    *,
    kind: str,
    ui_language: str,
    question_text: Any,
    subject_text: Any,
    intro: Any,
    reminder: bool,
    followup: bool,
    customer_name: str,
    token: str,
    brand: str,
    brand_colour: str,
    site_url: str,
) -> RenderedEmail:
    with translation.override(ui_language):
        question = str(question_text or default_question(kind, brand))
        subject = email_subject(subject_text, followup=followup)
        if reminder:
            subject = _("Reminder: %(subject)s") % {"subject": subject}
        # The follow-up after a resolved ticket says why we write again, above the question.
        heading = _("Thank you for telling us what went wrong") if followup else ""
        if reminder:
            intro = _("We would still love to hear from you. It takes one click.")
        elif followup:
            intro = _(
                "Our team has worked on it since. We would like to know whether we put it "
                "right: it takes one click."
            )
        low, high = score_range(kind)
        survey_url = site_url + SURVEY_PATH.format(token=token)
        scores = [{"value": n, "url": f"{survey_url}?score={n}"} for n in range(low, high + 1)]
        rows = score_rows(scores)
        widest = max(len(row) for row in rows)
        low_label, high_label = scale_labels(kind)
        context = {
            "brand": brand,
            "brand_colour": brand_colour,
            "customer_name": customer_name,
            "question": question,
            "heading": heading,
            "intro": intro,
            "scores": scores,
            # Each row's table is as wide as its share of the widest row, so every button of
            # every row is the same size (percentages: the email stretches with the screen).
            "score_rows": [
                {"scores": row, "width": f"{100 * len(row) / widest:.0f}%"} for row in rows
            ],
            "button_width": f"{100 / widest:.0f}%",
            "button_colour": SCORE_BUTTON_COLOUR,
            "preheader": preheader_text(),
            "low_label": low_label,
            "high_label": high_label,
            "survey_url": survey_url,
            "unsubscribe_url": site_url + UNSUBSCRIBE_PATH.format(token=token),
            "language": ui_language,
            "direction": "rtl" if ui_language.split("-")[0] in RTL_LANGUAGES else "ltr",
            "reminder": reminder,
        }
        html = render_to_string("emails/survey.html", context)
        text = render_to_string("emails/survey.txt", context)
    return RenderedEmail(subject=subject, text=text, html=html, language=ui_language)


# Bounded: a few surveys × languages × {reminder, named} in practice; edited texts make new
# keys, and the old entries age out instead of piling up in a long-lived worker.
@functools.lru_cache(maxsize=512)
def _render_with_slots(
    kind: str,
    ui_language: str,
    question_text: str | None,
    subject_text: str | None,
    intro: str | None,
    reminder: bool,
    followup: bool,
    named: bool,
    brand: str,
    brand_colour: str,
    site_url: str,
) -> RenderedEmail:
    return _render(
        kind=kind,
        ui_language=ui_language,
        question_text=question_text,
        subject_text=subject_text,
        intro=intro,
        reminder=reminder,
        followup=followup,
        customer_name=_NAME_SLOT if named else "",
        token=_TOKEN_SLOT,
        brand=brand,
        brand_colour=brand_colour,
        site_url=site_url,
    )


def _fill(rendered: str, values: dict[str, str]) -> str:
    # One pass: a value that happened to contain a slot is never filled in again.
    return _SLOTS.sub(lambda match: values[match.group(1)], rendered)


def render_invitation(invitation: Invitation, *, reminder: bool = False) -> RenderedEmail:
    survey = invitation.survey
    customer = invitation.customer
    ui_language, texts = email_language(survey, customer.language)
    question_text = texts.get("question")
    subject_text = texts.get("subject")
    intro = texts.get("intro", "")
    name = customer.name or ""
    token = invitation.token
    common = {
        "kind": str(survey.kind),
        "ui_language": ui_language,
        "reminder": reminder,
        "followup": invitation.purpose == InvitationPurpose.FOLLOWUP,
        "brand": str(settings.CXCRM_BRAND_NAME),
        "brand_colour": str(settings.CXCRM_BRAND_COLOUR),
        "site_url": str(settings.SITE_URL),
    }
    if not all(v is None or isinstance(v, str) for v in (question_text, subject_text, intro)):
        # Texts that are not strings (hand-edited JSON) are rare: render them as they are.
        return _render(
            question_text=question_text,
            subject_text=subject_text,
            intro=intro,
            customer_name=name,
            token=token,
            **common,
        )
    skeleton = _render_with_slots(
        question_text=question_text,
        subject_text=subject_text,
        intro=intro,
        named=bool(name),
        **common,
    )
    return RenderedEmail(
        subject=skeleton.subject,
        text=_fill(skeleton.text, {"token": token, "name": name}),
        html=_fill(skeleton.html, {"token": str(escape(token)), "name": str(escape(name))}),
        language=ui_language,
    )


def reply_address(token: str) -> str:
    return f"reply+{token}@{settings.INBOUND_EMAIL_DOMAIN}"


def unsubscribe_mailto(token: str) -> str:
    return f"unsubscribe+{token}@{settings.INBOUND_EMAIL_DOMAIN}"


def new_message_id() -> str:
    return message_id_new(str(settings.INBOUND_EMAIL_DOMAIN))


def build_invitation_message(
    invitation: Invitation, rendered: RenderedEmail, *, message_id: str, kind: str
) -> EmailMultiAlternatives:
    token = invitation.token
    headers = {
        "Message-ID": message_id,
        "Reply-To": reply_address(token),
        "List-Unsubscribe": (
            f"<{public_url(UNSUBSCRIBE_PATH.format(token=token))}>, "
            f"<mailto:{unsubscribe_mailto(token)}?subject=unsubscribe>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Ask mail servers not to answer with out-of-office replies; we still recognise them.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "OOF, AutoReply",
        "Content-Language": rendered.language,
        "X-Cxcrm-Kind": kind,
    }
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.customer.email],
        headers=headers,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
