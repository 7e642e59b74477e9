"""The public survey page: scanner-safe one-click answers, follow-up, languages, closed links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context as TemplateContext
from django.template import Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.surveys.forms import ScoreForm
from feedback.surveys.models import InvitationState, Response, ResponseChannel
from feedback.surveys.selectors import survey_link
from feedback.surveys.services.responses import InvalidAnswer, SurveyClosed, response_record
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def sent_invitation(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("state", InvitationState.SENT)
    kwargs.setdefault("sent_at", timezone.now())
    return InvitationFactory(**kwargs)


def answer(client: Client, invitation, score: int, **extra):  # type: ignore[no-untyped-def]
    data = {"step": "score", "score": str(score), **extra}
    return client.post(f"/s/{invitation.token}/", data)


def test_head_and_three_gets_record_nothing_one_post_records_one() -> None:
    invitation = sent_invitation()
    client = Client()
    url = f"/s/{invitation.token}/?score=9"
    assert client.head(url).status_code == 200
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.SENT
    # The link's score is preselected and marked for the script to post.
    html = page.content.decode()
    assert 'value="9" id="id_score_9" required checked' in html
    assert 'data-autosubmit="1"' in html

    posted = answer(client, invitation, 9, via="email")
    assert posted.status_code == 302
    response = Response.objects.get()
    assert (response.score, response.category) == (9, "promoter")
    assert response.channel == ResponseChannel.EMAIL_CLICK
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.RESPONDED


def test_replayed_post_leaves_one_response_updated_with_history() -> None:
    invitation = sent_invitation()
    client = Client()
    answer(client, invitation, 4)
    answer(client, invitation, 4)
    answer(client, invitation, 8)
    response = Response.objects.get()
    assert (response.score, response.category) == (8, "passive")
    assert [h["score"] for h in response.history] == [4]


def test_followup_comment_and_callback_are_saved() -> None:
    invitation = sent_invitation(customer=CustomerFactory(phone="+48 600 100 200"))
    client = Client()
    followup = client.get(answer(client, invitation, 2)["Location"])
    html = followup.content.decode()
    assert "What went wrong?" in html and "call me back" in html
    assert "+48 600 100 200" in html  # prefilled from the customer

    done = client.post(
        f"/s/{invitation.token}/",
        {
            "step": "followup",
            "comment": "The parcel was two days late.",
            "callback": "on",
            "phone": "+48 600 100 200",
            "callback_time": "evening",
        },
    )
    assert done.status_code == 302 and "/thanks/" in done["Location"]
    response = Response.objects.get()
    assert response.comment == "The parcel was two days late."
    assert response.answers["callback"] == {"phone": "+48 600 100 200", "time": "evening"}
    assert client.get(done["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("language", "confirmation", "evening"),
    [
        ("en", "As you asked, we will call you back.", "Evening"),
        ("pl", "Zgodnie z Twoją prośbą oddzwonimy do Ciebie.", "Wieczorem"),
        ("ar", "سنعاود الاتصال بك كما طلبت.", None),
    ],
)
def test_the_thanks_page_confirms_the_callback_just_requested(
    language: str, confirmation: str, evening: str | None
) -> None:
    invitation = sent_invitation(customer=CustomerFactory(language=language))
    client = Client()
    client.get(answer(client, invitation, 1)["Location"])
    thanks = client.get(f"/s/{invitation.token}/thanks/").content.decode()
    assert confirmation not in thanks  # no call-back asked for yet

    done = client.post(
        f"/s/{invitation.token}/",
        {
            "step": "followup",
            "callback": "on",
            "phone": "+48 600 100 200",
            "callback_time": "evening",
        },
    )
    thanks = client.get(done["Location"]).content.decode()
    assert confirmation in thanks
    # The number reads left to right on the Arabic page too.
    assert '<bdi dir="ltr">+48 600 100 200</bdi>' in thanks
    if evening:
        assert evening in thanks


def test_text_the_customer_writes_takes_its_own_direction() -> None:
    # English typed on the Arabic page must not read ".nobody told me".
    invitation = sent_invitation(customer=CustomerFactory(language="ar"))
    client = Client()
    page = client.get(answer(client, invitation, 2)["Location"]).content.decode()
    assert re.search(r'<textarea name="comment" id="id_comment" dir="auto"', page)
    assert re.search(r'<input type="tel" name="phone" id="id_phone" dir="ltr"', page)


def test_happy_customer_is_not_offered_a_callback() -> None:
    invitation = sent_invitation()
    client = Client()
    page = client.get(answer(client, invitation, 10)["Location"]).content.decode()
    assert "What did you like most?" in page
    assert "call me back" not in page


@pytest.mark.parametrize("bad", ["11", "-1", "abc", "", "9.5", "1e3", "\x00"])
def test_invalid_score_is_a_400_with_a_message_and_nothing_recorded(bad: str) -> None:
    invitation = sent_invitation()
    response = Client().post(f"/s/{invitation.token}/", {"step": "score", "score": bad})
    assert response.status_code == 400
    assert "Choose a score" in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("link_score", ["²", "٣", "①", "99999999999999999999", "-1"])
def test_a_link_score_that_is_not_a_plain_number_preselects_nothing(link_score: str) -> None:
    # "²".isdigit() is true while int("²") fails: the page must still render, with no choice.
    invitation = sent_invitation()

    page = Client().get(f"/s/{invitation.token}/", {"score": link_score})

    assert page.status_code == 200
    assert " checked" not in page.content.decode()
    assert 'data-autosubmit="1"' not in page.content.decode()


def test_callback_without_phone_or_with_garbage_is_refused() -> None:
    invitation = sent_invitation(customer=CustomerFactory(phone=""))
    client = Client()
    answer(client, invitation, 1)
    url = f"/s/{invitation.token}/"
    missing = client.post(url, {"step": "followup", "callback": "on", "phone": ""})
    assert missing.status_code == 400 and "number we should call" in missing.content.decode()
    garbage = client.post(url, {"step": "followup", "callback": "on", "phone": "<script>"})
    assert garbage.status_code == 400
    assert "callback" not in Response.objects.get().answers


def test_oversized_comment_is_refused_and_nothing_is_lost() -> None:
    invitation = sent_invitation()
    client = Client()
    answer(client, invitation, 5)
    page = client.post(f"/s/{invitation.token}/", {"step": "followup", "comment": "x" * 5001})
    assert page.status_code == 400
    response = Response.objects.get()
    assert response.score == 5 and response.comment == ""


def test_expired_invitation_shows_closed_and_records_nothing() -> None:
    invitation = sent_invitation(expires_at=timezone.now() - timedelta(minutes=1))
    client = Client()
    page = client.get(f"/s/{invitation.token}/?score=9")
    assert page.status_code == 410 and "This survey has closed" in page.content.decode()
    assert answer(client, invitation, 9).status_code == 410
    assert not Response.objects.exists()


@pytest.mark.parametrize("state", [InvitationState.CANCELLED, InvitationState.FAILED])
def test_invitations_that_never_went_out_take_no_answers(state: str) -> None:
    invitation = InvitationFactory(state=state)
    assert answer(Client(), invitation, 9).status_code == 410
    assert not Response.objects.exists()


def test_unknown_token_is_a_404_page() -> None:
    page = Client().get("/s/not-a-real-token/?score=5")
    assert page.status_code == 404
    assert "This link is not valid" in page.content.decode()


def test_page_follows_the_customers_language_and_lang_overrides() -> None:
    survey = SurveyFactory(
        texts={"en": {"question": "Recommend us?"}, "ru": {"question": "Порекомендуете нас?"}}
    )
    invitation = sent_invitation(survey=survey, customer=CustomerFactory(language="ru"))
    client = Client()
    russian = client.get(f"/s/{invitation.token}/").content.decode()
    assert 'lang="ru"' in russian and "Порекомендуете нас?" in russian
    assert "Совсем маловероятно" in russian  # the scale's words, from the catalogue
    english = client.get(f"/s/{invitation.token}/?lang=en").content.decode()
    assert 'lang="en"' in english and "Recommend us?" in english
    # An unsupported ?lang= falls back to the customer's language.
    assert 'lang="ru"' in client.get(f"/s/{invitation.token}/?lang=xx").content.decode()


def test_arabic_page_is_right_to_left() -> None:
    invitation = sent_invitation(customer=CustomerFactory(language="ar"))
    html = Client().get(f"/s/{invitation.token}/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html


@pytest.mark.parametrize(("kind", "low", "high"), [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7)])
def test_each_kind_shows_its_scale(kind: str, low: int, high: int) -> None:
    invitation = sent_invitation(survey=SurveyFactory(kind=kind))
    html = Client().get(f"/s/{invitation.token}/").content.decode()
    assert html.count('type="radio" name="score"') == high - low + 1
    assert f'value="{low}"' in html and f'value="{high + 1}"' not in html


def test_pages_are_light_and_self_contained() -> None:
    invitation = sent_invitation()
    client = Client()
    for url in (f"/s/{invitation.token}/?score=3", f"/u/{invitation.token}/"):
        html = client.get(url).content.decode()
        assert len(html.encode()) < 50_000
        assert "http://" not in html and "https://" not in html  # no external assets


def test_survey_post_requires_a_csrf_token() -> None:
    invitation = sent_invitation()
    response = Client(enforce_csrf_checks=True).post(
        f"/s/{invitation.token}/", {"step": "score", "score": "7"}
    )
    assert response.status_code == 403
    assert not Response.objects.exists()


def test_token_pages_are_rate_limited_per_client(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CXCRM_RATE_LIMITS = {"token": (5, 60)}
    client = Client()
    codes = [client.get(f"/s/guess-{i}/").status_code for i in range(7)]
    assert codes[:5] == [404] * 5
    assert codes[5:] == [429, 429]
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.get("/s/guess-x/").status_code == 404


def test_service_refuses_out_of_range_and_closed() -> None:
    invitation = sent_invitation()
    with pytest.raises(InvalidAnswer, match="between 0 and 10"):
        response_record(invitation_id=invitation.pk, score=11)
    closed = InvitationFactory(state=InvitationState.EXPIRED)
    with pytest.raises(SurveyClosed):
        response_record(invitation_id=closed.pk, score=5)
    assert not Response.objects.exists()


def test_comment_only_update_keeps_the_channel() -> None:
    invitation = sent_invitation()
    response_record(invitation_id=invitation.pk, score=3, channel=ResponseChannel.EMAIL_CLICK)
    response_record(invitation_id=invitation.pk, comment="late")
    response = Response.objects.get()
    assert response.channel == ResponseChannel.EMAIL_CLICK and response.comment == "late"


def _without_csrf_token(html: str) -> tuple[str, str]:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the score form carries a CSRF token"
    return html.replace(match.group(1), "TOKEN"), match.group(1)


def test_score_page_is_one_query() -> None:
    invitation = sent_invitation()
    with CaptureQueriesContext(connection) as ctx:
        assert Client().get(f"/s/{invitation.token}/?score=3").status_code == 200
    # 1 the invitation joined to its survey, customer and answer (selectors.survey_link);
    # a first visit has no session, so none is read.
    assert len(ctx) == 1, [q["sql"] for q in ctx.captured_queries]


def test_followup_page_is_one_query() -> None:
    invitation = sent_invitation()
    client = Client()
    followup = answer(client, invitation, 6)["Location"]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(followup).status_code == 200
    # 1 the invitation joined to its survey, customer and answer (selectors.survey_link).
    assert len(ctx) == 1, [q["sql"] for q in ctx.captured_queries]


def test_survey_link_reads_the_invitation_its_survey_customer_and_answer() -> None:
    invitation = sent_invitation(customer=CustomerFactory(language="pl", phone="+48 600 1"))
    with CaptureQueriesContext(connection) as ctx:
        link = survey_link(invitation.token)
        assert link is not None
        found, response = link
        assert (found.pk, found.token, found.state) == (invitation.pk, invitation.token, "sent")
        assert found.expires_at == invitation.expires_at
        assert found.survey.kind == "nps"
        assert found.survey.texts == invitation.survey.texts
        assert (found.customer.language, found.customer.phone) == ("pl", "+48 600 1")
        assert response is None
    assert len(ctx) == 1
    answer(Client(), invitation, 4)
    with CaptureQueriesContext(connection) as ctx:
        _found, response = survey_link(invitation.token)  # type: ignore[misc]
        assert response is not None and (response.score, response.category) == (4, "detractor")
        assert response.comment == "" and response.invitation_id == invitation.pk
    assert len(ctx) == 1
    for bad in ("", "no-such-token", "x" * 65, "../etc", "a b"):
        assert survey_link(bad) is None


def test_score_pages_carry_a_fresh_csrf_token_that_goes_with_the_cookie() -> None:
    survey = SurveyFactory()
    first, second = sent_invitation(survey=survey), sent_invitation(survey=survey)
    pages = []
    for invitation in (first, second, first):
        client = Client(enforce_csrf_checks=True)
        html = client.get(f"/s/{invitation.token}/?score=8").content.decode()
        pages.append((*_without_csrf_token(html), client, invitation))
    assert pages[0][0] == pages[1][0] == pages[2][0]
    assert len({token for _html, token, _c, _i in pages}) == 3
    assert 'value="8" id="id_score_8" required checked' in pages[0][0]
    _html, token, client, invitation = pages[1]
    posted = client.post(
        f"/s/{invitation.token}/", {"step": "score", "score": "8", "csrfmiddlewaretoken": token}
    )
    assert posted.status_code == 302
    assert Response.objects.get().invitation_id == second.pk


def test_score_page_follows_edited_survey_texts_and_the_language() -> None:
    survey = SurveyFactory(texts={"en": {"question": "First wording?"}})
    invitation = sent_invitation(survey=survey)
    client = Client()
    assert "First wording?" in client.get(f"/s/{invitation.token}/").content.decode()
    survey.texts = {"en": {"question": "Second wording?"}}
    survey.save()
    page = client.get(f"/s/{invitation.token}/").content.decode()
    assert "Second wording?" in page and "First wording?" not in page
    assert 'lang="pl"' in client.get(f"/s/{invitation.token}/?lang=pl").content.decode()


@pytest.mark.parametrize(
    ("data", "initial"), [(None, None), (None, 7), ({"score": "3"}, None), ({"score": "x"}, None)]
)
def test_scale_points_are_drawn_as_django_draws_a_radio_select(data, initial) -> None:  # type: ignore[no-untyped-def]
    form = ScoreForm(data, kind="csat", initial={"score": initial})
    if data is not None:
        form.is_valid()
    template = Template(
        '{% for point in form.points %}<input type="radio" name="score" value="{{ point.value }}"'
        ' id="{{ point.id }}" required{% if point.checked %} checked{% endif %}'
        '{% if point.invalid %} aria-invalid="true"{% endif %}>{% endfor %}'
    )
    ours = template.render(TemplateContext({"form": form}))
    assert ours == "".join(str(choice.tag()) for choice in form["score"])


def test_cached_scale_and_language_menu_follow_the_score_the_errors_and_the_language() -> None:
    # The scale and the language menu are cached fragments: each variant is its own entry.
    invitation = sent_invitation(survey=SurveyFactory(kind="nps"))
    client = Client()
    url = f"/s/{invitation.token}/"
    for score in ("9", "3", ""):
        page = client.get(f"{url}?score={score}").content.decode()
        checked = re.findall(r'value="(\d+)" id="id_score_\d+" required checked', page)
        assert checked == ([score] if score else [])
        assert "aria-invalid" not in page
    refused = answer(client, invitation, 11).content.decode()
    assert refused.count('aria-invalid="true"') == 11
    assert "aria-invalid" not in client.get(url).content.decode()
    for language in ("pl", "en", "pl"):
        page = client.get(f"{url}?lang={language}").content.decode()
        assert re.findall(r'lang="([a-z-]+)" aria-current="true"', page) == [language]
    assert 'aria-label="Język"' in page


def test_a_posted_lang_chooses_the_language_when_the_url_names_none() -> None:
    invitation = sent_invitation(customer=CustomerFactory(language="en"))
    reply = answer(Client(), invitation, 9, lang="ru")
    assert reply.status_code == 302 and reply["Location"].endswith("lang=ru")
    # The URL's ?lang= wins over the body's.
    second = sent_invitation(customer=CustomerFactory(language="en"))
    reply = Client().post(
        f"/s/{second.token}/?lang=pl", {"step": "score", "score": "9", "lang": "ru"}
    )
    assert reply.status_code == 302 and reply["Location"].endswith("lang=pl")


def _old_well_formed(token: str) -> bool:
    """The check as it was written first, one character at a time."""
    return bool(token) and len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a",
        "-",
        "_-_",
        "abc-DEF_123",
        "x" * 64,
        "x" * 65,
        "a b",
        "../etc",
        "a/b",
        "ä1",
        "字",
        "a\x00",
        "a.b",
        "-" * 64,
        "١٢٣",
        "a\n",
        "%41",
    ],
)
def test_token_check_is_the_character_by_character_one(token: str) -> None:
    from feedback.surveys.selectors import _well_formed

    assert _well_formed(token) is _old_well_formed(token)
