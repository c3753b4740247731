"""Model suggestions: the champion model's top label and its confidence for an item, shown to evaluators
and reviewers of projects that turn them on (``Project.show_suggestions``, off by default because a
suggestion anchors judgements).

The champion and its scoring code belong to the learner, which sits above this app: it registers a
:class:`Suggester` at start-up (``learner.suggestions``), so nothing here imports it. Predictions are
cached per item (``Item.suggestion_*``, valid for one model version), computed lazily for the items a
page needs that have none for the current champion, and precomputed by the learner when a champion is
promoted. Without a champion (or a registered learner) there is no suggestion: none is ever invented.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from annotation.models import Item

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    label: str
    confidence: float
    version: int

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 4), "version": self.version}


class Suggester(Protocol):
    def champion_id(self, *, project_id: int, language_id: int) -> int | None: ...

    def predict(self, *, version_id: int, texts: list[str]) -> list[tuple[str, float]]: ...


_suggester: Suggester | None = None


def suggester_register(suggester: Suggester | None) -> None:
    global _suggester
    _suggester = suggester


def suggestions_for(items: list[Item]) -> dict[int, Suggestion]:
    """The current champion's suggestion for each item of a project that shows them (others: absent)."""
    wanted = [item for item in items if item.project.show_suggestions and not item.is_control]
    if not wanted or _suggester is None:
        return {}
    out: dict[int, Suggestion] = {}
    groups: dict[tuple[int, int], list[Item]] = {}
    for item in wanted:
        groups.setdefault((item.project_id, item.language_id), []).append(item)
    for (project_id, language_id), group in groups.items():
        version = _suggester.champion_id(project_id=project_id, language_id=language_id)
        if version is None:
            continue
        missing = [item for item in group if item.suggestion_version != version]
        if missing:
            _compute(missing, version)
        for item in group:
            if item.suggestion_version == version and item.suggestion_label:
                out[item.pk] = Suggestion(item.suggestion_label, item.suggestion_confidence or 0.0, version)
    return out


def _compute(items: list[Item], version: int) -> None:
    try:
        predictions = _suggester.predict(version_id=version, texts=[item.text for item in items])
    except Exception:  # noqa: BLE001 - a broken model must not stop annotation; the page shows no suggestion
        logger.exception("suggestions of model version %s failed", version)
        return
    for item, (label, confidence) in zip(items, predictions, strict=True):
        item.suggestion_label, item.suggestion_confidence, item.suggestion_version = label, float(confidence), version
    Item.objects.bulk_update(items, ["suggestion_label", "suggestion_confidence", "suggestion_version"])


def suggestions_store(*, version: int, predictions: dict[int, tuple[str, float]]) -> int:
    """Cache precomputed predictions (the learner's task after a promotion)."""
    items = list(Item.objects.filter(pk__in=list(predictions)).only("id"))
    for item in items:
        label, confidence = predictions[item.pk]
        item.suggestion_label, item.suggestion_confidence, item.suggestion_version = label, float(confidence), version
    Item.objects.bulk_update(items, ["suggestion_label", "suggestion_confidence", "suggestion_version"], batch_size=500)
    return len(items)


def shown_suggestion(item: Item, shown_version) -> Suggestion | None:
    """What the evaluator saw, from the page's echo of the version it displayed: recorded only when it is
    the suggestion cached for the item (a forged or stale version records nothing)."""
    try:
        shown_version = int(shown_version)
    except (TypeError, ValueError):
        return None
    if not item.project.show_suggestions or item.suggestion_version != shown_version or not item.suggestion_label:
        return None
    return Suggestion(item.suggestion_label, item.suggestion_confidence or 0.0, shown_version)
