"""The translation catalogues are complete: every string of ru, pl, zh-Hans and ar is translated."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*\}")


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_catalogue_is_fully_translated(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 30
    untranslated = [e.msgid for e in catalogue if not e.translated()]
    assert untranslated == []
    fuzzy = [e.msgid for e in catalogue if e.fuzzy]
    assert fuzzy == []
    # A translation that is the English text again is a placeholder, not a translation.
    copied = [e.msgid for e in catalogue if e.msgstr == e.msgid and len(e.msgid) > 3]
    assert copied == []


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_translations_keep_their_placeholders(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    for entry in catalogue:
        assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(
            PLACEHOLDER.findall(entry.msgstr)
        ), entry.msgid
