"""Word-level sentiment cues (issue 18): per language, the words and phrases by which
customers say they are pleased or not, written natively by the team in
data/cues/<lang>.tsv (`+<TAB>pattern` or `-<TAB>pattern`, `#` comments).

The embedding says mostly what a text is about (a courier, a refund), so "the courier came
on the minute" and "the courier came three hours late" sit close together; the cues say
how the customer feels about it. Their hit counts join the embedding as extra features of
the sentiment head (engine_fit.sentiment_features): +0.04 accuracy in cross-validation on
the training texts (bench/README.md).

Matching, on text and patterns normalised alike (`normalise`): in languages written with
spaces a pattern matches at the start of a word and may end inside one (a stem:
"разочаров" finds "разочарована"); in Chinese and Arabic anywhere (no spaces; clitics).
At each place the longest pattern wins, so a negated cue ("не понрав", "nie polecam")
written as its own pattern hides the plain one inside it."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

CUES_DIR = Path(__file__).resolve().parent / "data" / "cues"
TOPIC_CUES_DIR = Path(__file__).resolve().parent / "data" / "topic_cues"
# Languages whose cues match anywhere inside the text rather than at a word's start.
ANYWHERE = frozenset({"zh-hans", "ar"})
# Each language's counts have their own two features, so that the head weighs each list by
# how well it speaks for its language (the engine's LANGUAGES, in its order; a test checks).
SLOTS = ("en", "ru", "pl", "zh-hans", "ar")
N_FEATURES = 2 * len(SLOTS)
# The features are log(1 + hits) times this: on the scale of the embedding's strongest
# directions, so that the head's one regularisation treats them alike (chosen by CV on TRAIN).
SCALE = 0.25
TOPIC_SCALE = 0.5

_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, dagger alef, tatweel
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي"})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case, compatibility forms, ё/е and the Arabic spellings people mix, folded alike."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class CueList:
    """One language's cues: each normalised pattern with its label ("+"/"-" for sentiment,
    a topic's slug for topics)."""

    pattern: re.Pattern[str] | None
    labels: dict[str, str]

    def count(self, text: str) -> Counter[str]:
        """How many cues of each label `text` holds."""
        if self.pattern is None:
            return Counter()
        return Counter(self.labels[m.group(0)] for m in self.pattern.finditer(normalise(text)))

    def hits(self, text: str) -> tuple[int, int]:
        """(positive, negative) sentiment cue hits in `text`."""
        found = self.count(text)
        return found["+"], found["-"]


def parse(source: str, language: str, labels: Collection[str] = ("+", "-")) -> CueList:
    """A cue file's text (`label<TAB>pattern` lines) → its matcher; a malformed line is an
    error naming it."""
    found: dict[str, str] = {}
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        label, _, pattern = line.partition("\t")
        pattern = normalise(pattern)
        if label not in labels or not pattern:
            raise ValueError(
                f"cues for {language}, line {number}: expected one of {', '.join(labels)}, "
                "a tab, a pattern"
            )
        if found.get(pattern, label) != label:
            raise ValueError(
                f"cues for {language}, line {number}: {pattern!r} is both {found[pattern]} "
                f"and {label}"
            )
        found[pattern] = label
    if not found:
        return CueList(None, {})
    # Longest first: at one place the regex takes the first alternative that matches.
    alternatives = "|".join(re.escape(p) for p in sorted(found, key=len, reverse=True))
    start = "" if language in ANYWHERE else r"(?<!\w)"
    return CueList(re.compile(f"{start}(?:{alternatives})"), found)


@lru_cache(maxsize=32)
def _load(directory: Path, language: str, labels: tuple[str, ...]) -> CueList:
    """One language's list from `directory` (none for a language without a file)."""
    path = directory / f"{language}.tsv"
    if not language or not path.exists():
        return CueList(None, {})
    return parse(path.read_text(encoding="utf-8"), language, labels)


def cue_list(language: str, directory: Path = CUES_DIR) -> CueList:
    """A language's sentiment cues (labels "+" and "-")."""
    return _load(directory, language, ("+", "-"))


def topic_cue_list(
    language: str, slugs: tuple[str, ...], directory: Path = TOPIC_CUES_DIR
) -> CueList:
    """A language's topic words (labels: the shipped topics' slugs)."""
    return _load(directory, language, slugs)


def topic_features(
    texts: Sequence[str], languages: Sequence[str], slugs: tuple[str, ...]
) -> np.ndarray:
    """(n, len(slugs)): for each text, the scaled log-count of each topic's words in its
    language (data/topic_cues/<lang>.tsv, `slug<TAB>pattern`)."""
    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages.")
    out = np.zeros((len(texts), len(slugs)), dtype=np.float32)
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        for slug, hits in topic_cue_list(language, slugs).count(text).items():
            out[i, slugs.index(slug)] = TOPIC_SCALE * math.log1p(hits)
    return out


def features(texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """(n, N_FEATURES): for each text, the scaled log-counts of its language's positive and
    negative cues in that language's two columns; all zero in a language without a list."""
    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages.")
    out = np.zeros((len(texts), N_FEATURES), dtype=np.float32)
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        if language not in SLOTS:
            continue
        positive, negative = cue_list(language).hits(text)
        slot = 2 * SLOTS.index(language)
        out[i, slot : slot + 2] = (SCALE * math.log1p(positive), SCALE * math.log1p(negative))
    return out
