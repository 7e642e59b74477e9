"""The dashboard's figures in the staff member's language (issue 19): numbers and dates through
Django's localisation, plurals from the catalogue, and an Arabic page laid out right to left with
its charts and signed figures still reading left to right."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import translation

from feedback.reporting import numbers
from feedback.reporting.metrics import Summary
from feedback.reporting.views import format_duration, format_value
from feedback.surveys.scoring import SurveyKind
from tests.unit.test_dashboard import DASHBOARD, JOURNEY, scores, text


def test_numbers_follow_the_active_language() -> None:
    with translation.override("en"):
        assert numbers.number(4.26, 1) == "4.3"
        assert numbers.percent(66.6) == "67%"
        assert numbers.signed(12.4) == "+12" and numbers.signed(-3.2) == "-3"
    with translation.override("ru"):
        # Russian writes a decimal comma; rounded first, not cut (4.26 → 4,3).
        assert numbers.number(4.26, 1) == "4,3"
        assert format_duration(timedelta(hours=60)) == "2,5 дня"


def test_signed_figures_are_isolated_left_to_right_only_in_rtl_languages() -> None:
    with translation.override("ar"):
        assert numbers.signed(12) == "\u2066+12\u2069"
    with translation.override("pl"):
        assert numbers.signed(12) == "+12"


def test_short_dates_use_the_translatable_formats() -> None:
    with translation.override("en"):
        assert numbers.day_month(date(2026, 1, 7)) == "7 Jan"
        assert numbers.date_range(date(2025, 12, 7), date(2026, 12, 6)) == (
            "7 Dec 2025 – 6 Dec 2026"
        )
        assert numbers.date_range(date(2026, 1, 7), date(2026, 12, 6)) == "7 Jan – 6 Dec 2026"


def test_score_values_keep_their_english_form() -> None:
    nps = Summary(SurveyKind.NPS, n=30, good=15, neutral=9, bad=6)
    with translation.override("en"):
        assert format_value(nps) == "+30"


@pytest.mark.django_db
def test_plurals_of_the_share_labels(admin_client: Client) -> None:
    scores(SurveyKind.NPS, [10] + [8] * 3)
    page = text(admin_client.get(DASHBOARD))
    # One promoter, three passives: each count with its own plural form, no "(s)".
    assert "1 promoter<" in page and "3 passives<" in page and "0 detractors<" in page


@pytest.mark.django_db
@pytest.mark.parametrize("url", [DASHBOARD, JOURNEY])
def test_arabic_pages_are_rtl_with_ltr_charts(admin_client: Client, url: str) -> None:
    scores(SurveyKind.NPS, [10] * 24 + [0] * 6)
    page = text(admin_client.get(url, headers={"accept-language": "ar"}))
    assert re.search(r'<html lang="ar"[^>]*dir="rtl"', page)
    charts = re.findall(r'<svg class="cx-(?:chart|spark)"[^>]*>', page)
    assert charts and all('direction="ltr"' in svg for svg in charts)
    # The NPS (+60) is isolated so that its sign stays before the digits.
    assert "\u2066+60\u2069" in page
