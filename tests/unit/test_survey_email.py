"""The survey email's HTML: one neutral colour for every score button, buttons Outlook keeps,
the scale's rows and end labels, a hidden preheader in every language, dark-mode styles."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.utils import translation

from feedback.surveys.emails import preheader_text, render_invitation, scale_labels, score_rows
from feedback.surveys.scoring import SurveyKind
from tests.factories import CustomerFactory, InvitationFactory, SurveyFactory

pytestmark = [pytest.mark.django_db]

LANGUAGES = ["en", "ru", "pl", "zh-hans", "ar"]


class ScoreButtons(HTMLParser):
    """Each score link with the colour it is drawn in: its own background, else the table
    cell's that holds it (where a bulletproof button carries it)."""

    def __init__(self) -> None:
        super().__init__()
        self.cell: dict[str, str] | None = None
        self.buttons: list[tuple[int, str | None, dict[str, str] | None]] = []
        self.preheader: list[str] = []
        self._in_preheader = False

    @staticmethod
    def background(attrs: dict[str, str]) -> str | None:
        for rule in (attrs.get("style") or "").split(";"):
            name, _sep, value = rule.partition(":")
            if name.strip() in ("background", "background-color"):
                return value.strip().lower()
        return (attrs.get("bgcolor") or "").lower() or None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "td":
            self.cell = attrs
        if tag == "div" and "display:none" in attrs.get("style", "").replace(" ", ""):
            self._in_preheader = True
        href = attrs.get("href", "")
        if tag == "a" and "?score=" in href:
            colour = self.background(attrs) or (self.cell and self.background(self.cell))
            self.buttons.append((int(href.rsplit("=", 1)[1]), colour, self.cell))

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_preheader = False

    def handle_data(self, data: str) -> None:
        if self._in_preheader:
            self.preheader.append(data)


def parsed(kind: str, language: str = "en") -> tuple[ScoreButtons, str]:
    survey = SurveyFactory(kind=kind, texts={})
    invitation = InvitationFactory(survey=survey, customer=CustomerFactory(language=language))
    html = render_invitation(invitation).html
    parser = ScoreButtons()
    parser.feed(html)
    return parser, html


@pytest.mark.parametrize("kind", list(SurveyKind))
def test_every_score_button_has_the_same_colour(kind: str) -> None:
    """A red-to-green scale nudges answers; the old one also drew NPS 5–6 (detractors) amber
    and 7–8 (passives) green-ish. One colour asks the question and nothing more."""
    parser, _html = parsed(kind)
    colours = {colour for _score, colour, _cell in parser.buttons}
    assert len(parser.buttons) == {"nps": 11, "csat": 5, "ces": 7}[kind]
    assert len(colours) == 1 and None not in colours, colours


@pytest.mark.parametrize("kind", list(SurveyKind))
def test_buttons_are_table_cells_that_carry_the_colour_and_size(kind: str) -> None:
    # Outlook drops a link's padding: the cell has the colour and height, the link fills it.
    parser, _html = parsed(kind)
    for score, _colour, cell in parser.buttons:
        assert cell is not None, score
        assert cell.get("bgcolor") and cell.get("height") == "44", (score, cell)


def test_nps_goes_on_two_balanced_rows_and_the_short_scales_on_one() -> None:
    assert [len(row) for row in score_rows(list(range(0, 11)))] == [6, 5]
    assert [len(row) for row in score_rows(list(range(1, 8)))] == [7]
    assert [len(row) for row in score_rows(list(range(1, 6)))] == [5]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hidden_preheader_in_the_customers_language(language: str) -> None:
    parser, html = parsed("nps", language)
    with translation.override(language):
        expected = preheader_text()
    if language != "en":
        with translation.override("en"):
            assert expected != preheader_text()  # translated, not the English again
    assert "".join(parser.preheader).startswith(expected)
    # It comes first in the body, so the inbox shows it after the subject.
    body = html[html.index("<body") :]
    assert body.index(expected) < body.index("?score=")
    assert "mso-hide:all" in body[: body.index(expected)]


def test_dark_mode_is_declared_and_styled() -> None:
    _parser, html = parsed("csat")
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_both_end_labels_are_in_the_email_in_every_language(language: str) -> None:
    _parser, html = parsed("nps", language)
    with translation.override(language):
        low, high = scale_labels("nps")
    assert html.index(low) < html.index("?score=0") < html.index("?score=10") < html.index(high)
