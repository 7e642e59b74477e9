"""The engine's data: the default taxonomy, the team's labelled set with its fixed held-out
split, and a byte-stable .npz writer for the shipped states (their bytes name MODEL_VERSION,
so the same training must write the same file)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from feedback.insights.engine import DATA_DIR, LANGUAGES, TopicSpec

LABELLED_DIR = DATA_DIR / "labelled"
# Texts written later for training only (issue 18's quality work): never part of TEST. Their
# ids are "<lang>-x-<n>" with n never divisible by 3, so the split rule also calls them TRAIN,
# and load_train_extra refuses a file where it would not.
EXTRA_DIR = LABELLED_DIR / "train_extra"
# A second, blind sentiment label for a sample of the texts (every TEST row, 60 TRAIN rows a
# language): how far two annotators agree is the ceiling the sentiment accuracy is read against.
SECOND_ANNOTATION = LABELLED_DIR / "second_annotation.jsonl"
# A second held-out set, written later by writers who saw neither the labelled texts nor the
# model (ids "<lang>-t-<n>": always TEST). 53 texts a language measure accuracy to about
# ±0.06; with these, to about ±0.035.
TEST_EXTRA_DIR = LABELLED_DIR / "test_extra"

DEFAULT_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "delivery",
        "Delivery",
        "how fast the order arrived, tracking, courier punctuality, delivery slots",
    ),
    TopicSpec(
        "packaging_damage",
        "Damaged item or packaging",
        "item arrived broken, crushed box, leaking",
    ),
    TopicSpec(
        "wrong_item",
        "Wrong or missing item",
        "wrong size/colour/product sent, parts missing, incomplete order",
    ),
    TopicSpec(
        "product_quality",
        "Product quality",
        "defects, poor materials, not as described, broke after use (or praise of quality)",
    ),
    TopicSpec(
        "price_value",
        "Price and value",
        "too expensive, hidden fees, discounts, value for money",
    ),
    TopicSpec(
        "staff",
        "Staff",
        "friendliness, rudeness, competence of store staff or couriers",
    ),
    TopicSpec(
        "customer_support",
        "Customer support",
        "reaching support, response time, unresolved issues, helpful agent",
    ),
    TopicSpec(
        "website_app",
        "Website and app",
        "ordering online, search, checkout, payment errors, app crashes",
    ),
    TopicSpec(
        "returns_refunds",
        "Returns and refunds",
        "returning items, refund delays, exchange process",
    ),
    TopicSpec(
        "stock_availability",
        "Stock and availability",
        "out of stock, limited choice, items unavailable in store",
    ),
)
DEFAULT_SLUGS = tuple(t.slug for t in DEFAULT_TOPICS)


@dataclass(frozen=True)
class Labelled:
    id: str
    lang: str
    text: str
    topics: tuple[str, ...]
    sentiment: str
    score: int | None

    @property
    def test(self) -> bool:
        """The fixed held-out split: id numbers divisible by 3, and every "-t-" id of the
        second held-out set (used by nobody's training)."""
        return self.second_held_out or int(self.id.rsplit("-", 1)[1]) % 3 == 0

    @property
    def second_held_out(self) -> bool:
        """A row of the second held-out set (labelled/test_extra): its ids carry "-t-"."""
        return "-t-" in self.id


def load_labelled(directory: Path = LABELLED_DIR) -> list[Labelled]:
    """The labelled set, TRAIN and TEST rows (`Labelled.test` tells them apart)."""
    rows = []
    for lang in LANGUAGES:
        path = directory / f"{lang}.jsonl"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append(
                    Labelled(
                        r["id"],
                        r["lang"],
                        r["text"],
                        tuple(r["topics"]),
                        r["sentiment"],
                        r["score"],
                    )
                )
    return rows


def topic_matrix(rows: list[Labelled], slugs: tuple[str, ...] = DEFAULT_SLUGS) -> np.ndarray:
    return np.array([[s in r.topics for s in slugs] for r in rows], dtype=bool).reshape(
        len(rows), len(slugs)
    )


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez stamps each member with the current time; this writes a fixed one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())


def load_train_extra(directory: Path = EXTRA_DIR) -> list[Labelled]:
    """The extra TRAIN-only texts; a row the split rule would put in TEST is an error."""
    rows = load_labelled(directory)
    leaked = [r.id for r in rows if r.test]
    if leaked:
        raise ValueError(f"train_extra ids in the TEST split's rule: {', '.join(leaked)}")
    return rows


def load_test_extra(directory: Path = TEST_EXTRA_DIR) -> list[Labelled]:
    """The second held-out set; only "-t-" ids belong in it."""
    rows = load_labelled(directory)
    strays = [r.id for r in rows if not r.second_held_out]
    if strays:
        raise ValueError(f"test_extra ids without '-t-': {', '.join(strays)}")
    return rows


def held_out_rows() -> list[Labelled]:
    """Everything the bench measures and nothing trains on: the labelled set's TEST split,
    then the second held-out set."""
    return [r for r in load_labelled() if r.test] + load_test_extra()


def load_second_annotation(path: Path = SECOND_ANNOTATION) -> dict[str, str]:
    """Text id -> the second annotator's sentiment."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            found[r["id"]] = r["sentiment"]
    return found


def training_rows() -> list[Labelled]:
    """What the shipped states are trained on: the labelled set's TRAIN split and the extra
    TRAIN-only texts. The TEST split is never among them."""
    return [r for r in load_labelled() if not r.test] + load_train_extra()
