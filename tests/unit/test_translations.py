"""The translation catalogues are complete: every string of ru, pl, zh-Hans and ar is translated."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
# Named (%(count)s, %(n)d), positional (%s, %d) and format-style ({name}) placeholders.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
# Product and protocol names, kept as they are in every language.
SAME_IN_EVERY_LANGUAGE = {"Slack", "Microsoft Teams", "cxcrm", "OpenAPI", "Net Promoter Score"}
# Words a language writes as English does.
SAME_AS_ENGLISH = {"pl": {"System"}}


def _written_the_same_everywhere(msgid: str) -> bool:
    """Names, and messages with no word in them once placeholders are out ("%(value)s%%",
    "NPS (0–10)": acronyms and figures)."""
    return msgid in SAME_IN_EVERY_LANGUAGE or not re.search(r"[a-z]{2}", PLACEHOLDER.sub("", msgid))


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_catalogue_is_fully_translated(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 30
    untranslated = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    assert untranslated == []
    fuzzy = [e.msgid for e in catalogue if e.fuzzy]
    assert fuzzy == []
    # A translation that is the English text again is a placeholder, not a translation
    # (except names every language writes the same way).
    copied = [
        e.msgid
        for e in catalogue
        if e.msgstr == e.msgid
        and len(e.msgid) > 3
        and not _written_the_same_everywhere(e.msgid)
        and e.msgid not in SAME_AS_ENGLISH.get(language, set())
    ]
    assert copied == []


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_translations_keep_their_placeholders(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    for entry in catalogue:
        if entry.msgid_plural or entry.obsolete:
            continue  # plural forms: test_plural_messages_have_every_form_of_the_language
        assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(
            PLACEHOLDER.findall(entry.msgstr)
        ), entry.msgid


# --- The catalogues are current: `make messages` (manage.py catalogues) would change nothing ---

SOURCES = ("cxcrm", "customers", "touchpoints", "feedback", "templates", "locale", "manage.py")
# Bulky data the extraction never reads (the insights model's arrays, labelled texts).
NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.npz", "*.jsonl", "*.mo", "*.bin")


def _messages(path: Path) -> set[tuple[str, str, str]]:
    return {
        (entry.msgctxt or "", entry.msgid, entry.msgid_plural)
        for entry in polib.pofile(str(path))
        if not entry.obsolete
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sources with `manage.py catalogues` run in it."""
    copy = tmp_path_factory.mktemp("catalogues")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=NOT_SOURCE)
        else:
            shutil.copy2(source, copy / name)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxcrm.settings", "PYTHONPATH": str(copy)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "catalogues", "--verbosity", "0"],
        cwd=copy,
        env=env,
        check=True,
        timeout=300,
    )
    return copy


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_the_catalogues_are_current_with_the_code(extracted: Path, language: str) -> None:
    """Every translatable string of the code is in the catalogue, and nothing else is."""
    relative = Path(language) / "LC_MESSAGES" / "django.po"
    fresh = _messages(extracted / "locale" / relative)
    committed = _messages(LOCALE / relative)
    assert sorted(fresh - committed) == [], "new strings: run `make messages` and translate"
    assert sorted(committed - fresh) == [], "strings the code no longer has: `make messages`"


@pytest.mark.parametrize("language", ["ru", "pl", "zh_Hans", "ar"])
def test_plural_messages_have_every_form_of_the_language(language: str) -> None:
    """Russian and Polish have 3-4 forms, Arabic 6: each must be written."""
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    forms = int(re.search(r"nplurals=(\d+)", catalogue.metadata["Plural-Forms"]).group(1))
    for entry in catalogue:
        if entry.msgid_plural and not entry.obsolete:
            written = [entry.msgstr_plural.get(i, "") for i in range(forms)]
            assert all(written), (entry.msgid, written)
            known = set(PLACEHOLDER.findall(entry.msgid_plural))
            # A form may leave the number out (Arabic's "one" and "two" say it in words), but
            # it may not name a value the code does not pass, and the general form has them all.
            for form in written:
                assert set(PLACEHOLDER.findall(form)) <= known, (entry.msgid, form)
            assert set(PLACEHOLDER.findall(written[-1])) == known, (entry.msgid, written[-1])
