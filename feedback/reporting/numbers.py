"""Numbers, percentages and short dates of the staff pages, in the active language.

Django's localisation (`number_format`: "4,5" in Russian and Polish) instead of f-strings, so a
figure reads as the staff member's language writes it. The REST API and the CSV exports keep
their own machine formats; only what staff read comes through here."""

from __future__ import annotations

import math
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.translation import get_language_bidi, gettext, ngettext, pgettext


def number(value: float, digits: int = 0) -> str:
    """`value` with `digits` decimals. Rounded here: number_format cuts extra decimals off."""
    return number_format(round(value, digits), digits)


# Left-to-right isolate and its end (Unicode's bidi controls).
LRI, PDI = "\u2066", "\u2069"


def signed(value: float, digits: int = 0) -> str:
    """With its sign always shown ("+12", "-3"), like the f-string's "+" it replaces. In a
    right-to-left language the figure is isolated left to right: inside Arabic text a leading
    + or - would otherwise be laid out after the digits ("12+"), in tooltips and labels too."""
    rounded = round(value, digits)
    sign = "-" if math.copysign(1.0, rounded) < 0 else "+"
    text = sign + number_format(abs(rounded), digits)
    return f"{LRI}{text}{PDI}" if get_language_bidi() else text


def answers_n(n: int) -> str:
    # Translators: the number of survey answers behind a figure (statistics' "n"). Keep "n = 58"
    # if your staff know it, or write e.g. "58 answers" with the plural right.
    return ngettext("n = %(n)s", "n = %(n)s", n) % {"n": n}


def percent(value: float, digits: int = 0) -> str:
    # Translators: a percentage, e.g. "45%". Write it as your language does ("45 %", "٪45").
    return gettext("%(number)s%%") % {"number": number(value, digits)}


def day_month(day: date) -> str:
    # Translators: a date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date)
    # for a short day and month on the dashboard's charts and ranges, e.g. "7 Jan".
    return date_format(day, pgettext("short date format", "j M"))


def day_month_year(day: date) -> str:
    # Translators: a date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date)
    # for a short day, month and year on the dashboard, e.g. "7 Jan 2026".
    return date_format(day, pgettext("short date format", "j M Y"))


def month_year(day: date) -> str:
    # Translators: a date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date)
    # for a short month and year on the dashboard's monthly charts, e.g. "Jan 2026".
    return date_format(day, pgettext("short date format", "M Y"))


def date_range(since: date, until: date) -> str:
    """ "7 Jan – 6 Dec 2026", with the first year too when the range spans two years
    ("7 Dec 2025 – 6 Dec 2026"): a range that names one year must be in that year."""
    start = day_month(since) if since.year == until.year else day_month_year(since)
    # Translators: a range of days, e.g. "7 Jan – 6 Dec 2026".
    return gettext("%(since)s – %(until)s") % {"since": start, "until": day_month_year(until)}
