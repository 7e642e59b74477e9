"""Survey emails: the customer's language, the question with its score buttons in the email,
unsubscribe headers (RFC 2369 + RFC 8058), a Reply-To that carries the token, a stored
Message-ID."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from feedback.models import EmailKind, Invitation, Survey
from feedback.scoring import SurveyKind, score_range

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


def score_colour(kind: str, score: int) -> str:
    """Buttons shade from red to green along the scale; colours meet WCAG AA with white text."""
    low, high = score_range(kind)
    position = (score - low) / (high - low)
    if position < 0.45:
        return "#b42318"
    if position < 0.75:
        return "#8a6100"
    return "#027a48"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


def render_invitation(invitation: Invitation, *, reminder: bool = False) -> RenderedEmail:
    survey = invitation.survey
    customer = invitation.customer
    brand = settings.CXCRM_BRAND_NAME
    text_language, texts = survey_texts(survey, customer.language)
    # The email's own words follow the customer's language if we have a catalogue for it,
    # else the language the survey's texts are in.
    ui_language = pick_language(customer.language, SUPPORTED_LANGUAGES, text_language)
    with translation.override(ui_language):
        question = str(texts.get("question") or default_question(survey.kind, brand))
        subject = str(texts.get("subject") or _("How did we do?"))
        if reminder:
            subject = _("Reminder: %(subject)s") % {"subject": subject}
        low, high = score_range(survey.kind)
        token = invitation.token
        scores = [
            {
                "value": n,
                "url": public_url(SURVEY_PATH.format(token=token)) + f"?score={n}",
                "colour": score_colour(survey.kind, n),
            }
            for n in range(low, high + 1)
        ]
        low_label, high_label = scale_labels(survey.kind)
        context = {
            "brand": brand,
            "brand_colour": settings.CXCRM_BRAND_COLOUR,
            "customer_name": customer.name,
            "question": question,
            "intro": texts.get("intro", ""),
            "scores": scores,
            "low_label": low_label,
            "high_label": high_label,
            "survey_url": public_url(SURVEY_PATH.format(token=token)),
            "unsubscribe_url": public_url(UNSUBSCRIBE_PATH.format(token=token)),
            "language": ui_language,
            "direction": "rtl" if ui_language.split("-")[0] in RTL_LANGUAGES else "ltr",
            "reminder": reminder,
        }
        html = render_to_string("emails/survey.html", context)
        text = render_to_string("emails/survey.txt", context)
    return RenderedEmail(subject=subject, text=text, html=html, language=ui_language)


def reply_address(token: str) -> str:
    return f"reply+{token}@{settings.INBOUND_EMAIL_DOMAIN}"


def unsubscribe_mailto(token: str) -> str:
    return f"unsubscribe+{token}@{settings.INBOUND_EMAIL_DOMAIN}"


def new_message_id() -> str:
    return make_msgid(domain=settings.INBOUND_EMAIL_DOMAIN)


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


EMAIL_KIND_FOR_REMINDER = {False: EmailKind.SURVEY, True: EmailKind.REMINDER}
