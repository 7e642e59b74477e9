"""Public pages that a customer reaches from an email: no login, the token is the key."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.services import customer_resubscribe, customer_unsubscribe
from cxcrm.ratelimit import rate_limited
from feedback.surveys.emails import (
    RTL_LANGUAGES,
    SUPPORTED_LANGUAGES,
    default_question,
    pick_language,
    scale_labels,
    survey_texts,
)
from feedback.surveys.forms import FollowUpForm, ScoreForm, callback_requested
from feedback.surveys.models import Invitation, Response, ResponseChannel
from feedback.surveys.scoring import Sentiment, score_range, sentiment_of
from feedback.surveys.selectors import invitation_by_token, survey_link
from feedback.surveys.services.responses import (
    InvalidAnswer,
    SurveyClosed,
    is_open,
    response_record,
)

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """Run Django's CSRF check by hand for a view that is exempt only for RFC 8058 posts."""
    middleware = CsrfViewMiddleware(lambda req: HttpResponse())
    return middleware.process_view(request, lambda req: HttpResponse(), (), {})


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "public/invalid_link.html", status=404)


@csrf_exempt
@rate_limited("token")
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation and changes nothing (mail scanners follow links); POST — the
    page's button, or the mailbox's RFC 8058 one-click POST — opts the customer out."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return _invalid_link(request)
    customer = invitation.customer
    language = pick_language(customer.language, SUPPORTED_LANGUAGES)
    with translation.override(language):
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            if not one_click:
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            customer_unsubscribe(customer=customer)
            if one_click:
                return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
            return render(
                request, "public/unsubscribed.html", {"token": token, "language": language}
            )
        context = {
            "token": token,
            "language": language,
            "already": customer.unsubscribed_at is not None,
        }
        return render(request, "public/unsubscribe.html", context)


@rate_limited("token")
@require_http_methods(["GET", "HEAD", "POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return _invalid_link(request)
    customer = invitation.customer
    language = pick_language(customer.language, SUPPORTED_LANGUAGES)
    with translation.override(language):
        if request.method == "POST":
            customer_resubscribe(customer=customer)
            return render(
                request, "public/resubscribed.html", {"token": token, "language": language}
            )
        return render(request, "public/resubscribe.html", {"token": token, "language": language})


# --- The survey page ----------------------------------------------------------------------------


def _language(request: HttpRequest, invitation: Invitation) -> str:
    """?lang= (a supported language) overrides; else the customer's, else the survey's."""
    wanted = request.GET.get("lang") or ""
    if not wanted and request.method == "POST":
        wanted = request.POST.get("lang") or ""
    wanted = wanted.lower()
    if wanted in SUPPORTED_LANGUAGES:
        return wanted
    return pick_language(
        invitation.customer.language, SUPPORTED_LANGUAGES, invitation.survey.default_language
    )


def _preselected(request: HttpRequest, kind: str) -> int | None:
    raw = request.GET.get("score", "")
    # isascii(): str.isdigit() also holds for "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 2:
        return None
    low, high = score_range(kind)
    value = int(raw)
    return value if low <= value <= high else None


def _followup_question(survey_texts_: dict[str, Any], kind: str, score: int, category: str) -> str:
    custom = survey_texts_.get("followup", {})
    if isinstance(custom, dict) and custom.get(category):
        return str(custom[category])
    sentiment = sentiment_of(kind, score)
    if sentiment == Sentiment.BAD:
        return _("We are sorry. What went wrong?")
    if sentiment == Sentiment.NEUTRAL:
        return _("What could we do better?")
    return _("Thank you! What did you like most?")


def _page(request: HttpRequest, invitation: Invitation, language: str) -> dict[str, Any]:
    survey = invitation.survey
    _text_language, texts = survey_texts(survey, language)
    # The scale's words (low_label, high_label) are added only where the scale is drawn
    # (_with_scale).
    return {
        "invitation": invitation,
        "token": invitation.token,
        "language": language,
        "rtl": language.split("-")[0] in RTL_LANGUAGES,
        "brand": settings.CXCRM_BRAND_NAME,
        "question": texts.get("question")
        or default_question(survey.kind, settings.CXCRM_BRAND_NAME),
        "texts": texts,
        "kind": survey.kind,
        "languages": [(code, name) for code, name in settings.LANGUAGES],
    }


def _with_scale(context: dict[str, Any]) -> dict[str, Any]:
    low_label, high_label = scale_labels(context["kind"])
    return {**context, "low_label": low_label, "high_label": high_label}


def _survey_url(token: str, language: str, **params: str) -> str:
    query = urlencode({**params, "lang": language})
    return f"{reverse('feedback:survey', args=[token])}?{query}"


def _score_page(
    request: HttpRequest,
    context: dict[str, Any],
    form: ScoreForm | None = None,
    *,
    preselected: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The question with its scale: with ``form``, an answer refused (its message shown);
    else a fresh form, with the link's ``?score=N`` checked for the page's script to post."""
    if form is None:
        clicked = preselected is not None
        form = ScoreForm(kind=context["kind"], initial={"score": preselected})
    else:
        clicked = False
    context = {**context, "form": form, "autosubmit": clicked, "via_email": clicked}
    return render(request, "public/survey_score.html", _with_scale(context), status=status)


def _followup_page(
    request: HttpRequest,
    context: dict[str, Any],
    response: Response,
    form: FollowUpForm,
    status: int = 200,
) -> HttpResponse:
    kind = context["kind"]
    context = {
        **context,
        "response": response,
        "followup_question": _followup_question(
            context["texts"], kind, response.score, response.category
        ),
        "unhappy": sentiment_of(kind, response.score) == Sentiment.BAD,
        "form": form,
        "change_form": ScoreForm(kind=kind, initial={"score": response.score}),
    }
    return render(request, "public/survey_followup.html", _with_scale(context), status=status)


@rate_limited("token")
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET and HEAD never record anything: mail scanners follow every link in an email. A
    ``?score=N`` link preselects the score; the page's script posts it (one click in the email
    is one answer), and without JavaScript one button does. Then the follow-up question."""
    link = survey_link(token)
    if link is None:
        return _invalid_link(request)
    invitation, response = link
    language = _language(request, invitation)
    with translation.override(language):
        context = _page(request, invitation, language)
        if not is_open(invitation):
            return render(request, "public/survey_closed.html", context, status=410)
        kind = invitation.survey.kind
        if request.method == "POST":
            return _survey_post(request, invitation, response, context, language)
        preselected = _preselected(request, kind)
        wants_score_step = request.GET.get("step") == "score"
        if response is not None and not wants_score_step and preselected in (None, response.score):
            initial = {"comment": response.comment, "phone": invitation.customer.phone}
            return _followup_page(request, context, response, FollowUpForm(initial=initial))
        return _score_page(request, context, preselected=preselected)


def _survey_post(
    request: HttpRequest,
    invitation: Invitation,
    response: Response | None,
    context: dict[str, Any],
    language: str,
) -> HttpResponse:
    kind = invitation.survey.kind
    if request.POST.get("step") == "followup":
        if response is None:
            return HttpResponseRedirect(_survey_url(invitation.token, language))
        form = FollowUpForm(request.POST)
        if not form.is_valid():
            return _followup_page(request, context, response, form, status=400)
        callback = form.callback_answer()
        try:
            response_record(
                invitation_id=invitation.pk,
                comment=form.cleaned_data["comment"],
                answers={"callback": callback} if callback else None,
                language=language,
            )
        except SurveyClosed:
            return render(request, "public/survey_closed.html", context, status=410)
        except InvalidAnswer as exc:
            form.add_error("comment", str(exc))
            return _followup_page(request, context, response, form, status=400)
        return HttpResponseRedirect(
            reverse("feedback:survey-thanks", args=[invitation.token]) + f"?lang={language}"
        )
    form = ScoreForm(request.POST, kind=kind)
    if not form.is_valid():
        return _score_page(request, context, form, status=400)
    channel = (
        ResponseChannel.EMAIL_CLICK if request.POST.get("via") == "email" else ResponseChannel.WEB
    )
    try:
        response_record(
            invitation_id=invitation.pk,
            score=form.cleaned_data["score"],
            channel=channel,
            language=language,
        )
    except SurveyClosed:
        return render(request, "public/survey_closed.html", context, status=410)
    except InvalidAnswer as exc:
        form.add_error("score", str(exc))
        return _score_page(request, context, form, status=400)
    # Post/Redirect/Get: a reload does not post again, and the follow-up has its own URL.
    return HttpResponseRedirect(_survey_url(invitation.token, language, step="followup"))


@rate_limited("token")
@require_http_methods(["GET", "HEAD"])
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    link = survey_link(token)
    if link is None:
        return _invalid_link(request)
    invitation, response = link
    language = _language(request, invitation)
    with translation.override(language):
        context = _page(request, invitation, language)
        if response is None:
            return HttpResponseRedirect(_survey_url(token, language))
        context["response"] = response
        context["can_change"] = is_open(invitation)
        context["callback"] = callback_requested(response)
        return render(request, "public/survey_thanks.html", context)
