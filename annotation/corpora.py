"""Labelled corpora for the demo, the simulation and the benchmarks.

Two sources with one shape (``{tag: {split: [Row, ...]}}``): SIB-200-style folders read by path
(``<dir>/<lang>/{train,dev,test}.tsv``), and a small seeded generator whose topics are learnable
from character n-grams, for tests and simulations that must build their own data.

The demo reads real sentences: ``DEMO_SAMPLE`` is a few hundred SIB-200 sentences per demo
language shipped with the project (CC BY-SA 4.0, credited in its ATTRIBUTION.md); the whole
data set is never copied in.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

SIB_LABELS = [
    "entertainment", "geography", "health", "politics", "science/technology", "sports", "travel",
]
SPLITS = ("train", "dev", "test")
DEMO_SAMPLE = Path(__file__).resolve().parent / "demo_data" / "sib200"


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    text: str


class CorpusError(ValueError):
    pass


def read_split(path: Path) -> list[Row]:
    rows: list[Row] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"index_id", "category", "text"} - set(reader.fieldnames or [])
        if missing:
            raise CorpusError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, record in enumerate(reader, start=2):
            text, label = (record.get("text") or "").strip(), (record.get("category") or "").strip()
            if not text or not label:
                raise CorpusError(f"{path}, row {line}: empty text or category")
            rows.append(Row(id=str(record["index_id"]), label=label, text=text))
    return rows


def load_sib200(root: str | Path, languages: list[str] | None = None) -> dict[str, dict[str, list[Row]]]:
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"data folder {root} does not exist")
    available = sorted(p.name for p in root.iterdir() if (p / "train.tsv").exists())
    wanted = languages or available
    unknown = [tag for tag in wanted if tag not in available]
    if unknown:
        raise CorpusError(
            f"no data for {', '.join(unknown)} in {root} (available: {', '.join(available)})"
        )
    return {
        tag: {
            split: read_split(root / tag / f"{split}.tsv") for split in SPLITS if (root / tag / f"{split}.tsv").exists()
        }
        for tag in wanted
    }


def labels_of(root: str | Path, tag: str) -> list[str]:
    path = Path(root) / tag / "labels.txt"
    if path.exists():
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return SIB_LABELS


_ALPHABETS = {
    "Arab": [chr(c) for c in range(0x0627, 0x064B)],
    "Ethi": [chr(c) for c in range(0x1200, 0x1358, 3)],
    "Hebr": [chr(c) for c in range(0x05D0, 0x05EB)],
    "Deva": [chr(c) for c in range(0x0915, 0x0939)],
    "Cyrl": [chr(c) for c in range(0x0430, 0x0450)],
}
_LATIN = list("abcdefghijklmnoprstuwyz")


def _word(rng: random.Random, alphabet: list[str]) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 7)))


def synthetic_corpus(
    languages: list[str], labels: list[str] | None = None, sizes: dict[str, int] | None = None, seed: int = 0,
    topic_share: float = 0.35,
) -> dict[str, dict[str, list[Row]]]:
    """Sentences of filler words salted with topic words; ``topic_share`` sets how easy the task is."""
    labels = labels or SIB_LABELS
    sizes = sizes or {"train": 140, "dev": 30, "test": 60}
    corpus: dict[str, dict[str, list[Row]]] = {}
    for tag in languages:
        rng = random.Random(f"{seed}-{tag}")
        alphabet = _ALPHABETS.get(tag.split("_")[-1], _LATIN)
        filler = [_word(rng, alphabet) for _ in range(60)]
        topics = {label: [_word(rng, alphabet) for _ in range(8)] for label in labels}
        corpus[tag] = {}
        counter = 0
        for split, size in sizes.items():
            rows = []
            for _ in range(size):
                label = labels[counter % len(labels)]
                words = [
                    rng.choice(topics[label]) if rng.random() < topic_share else rng.choice(filler)
                    for _ in range(rng.randint(8, 14))
                ]
                rows.append(Row(id=f"{tag}-{counter}", label=label, text=" ".join(words)))
                counter += 1
            rng.shuffle(rows)
            corpus[tag][split] = rows
    return corpus


def load_corpus(
    data: str | Path | None, languages: list[str], *, sizes: dict[str, int] | None = None, seed: int = 0
) -> tuple[dict[str, dict[str, list[Row]]], list[str]]:
    """(corpus, label set): from a SIB-200-style folder when ``data`` is given, else generated.

    ``sizes`` caps each split of a folder's data (first rows kept, so a sample is stable)."""
    if data:
        corpus = load_sib200(data, languages)
        if sizes:
            corpus = {tag: {split: rows[:sizes.get(split, len(rows))] for split, rows in splits.items()}
                      for tag, splits in corpus.items()}
        return corpus, labels_of(data, languages[0])
    return synthetic_corpus(languages, sizes=sizes, seed=seed), SIB_LABELS
