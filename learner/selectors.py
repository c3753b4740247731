"""Reads of the model registry and the learner's training data."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet

from annotation.models import ApprovedLabel, Item
from learner.models import ModelVersion


def champion_for(*, project, language) -> ModelVersion | None:
    return ModelVersion.objects.filter(
        project=project, language=language, status=ModelVersion.Status.CHAMPION
    ).first()


def approved_labels(*, project, language) -> QuerySet[ApprovedLabel]:
    """The only labels training ever sees: approved, regular pool items."""
    return ApprovedLabel.objects.filter(
        item__project=project, item__language=language, item__split=Item.Split.POOL, item__is_control=False
    ).select_related("item").order_by("item_id")


def is_dev(item_id: int, dev_share: int = 5) -> bool:
    """Stable train/dev split: an item stays on the same side however many labels arrive later."""
    return int(hashlib.sha1(f"item:{item_id}".encode()).hexdigest(), 16) % dev_share == 0


def heldout_items(*, project, language) -> QuerySet[Item]:
    return Item.objects.filter(
        project=project, language=language, split=Item.Split.HELDOUT
    ).exclude(reference_label="").order_by("id")


def unlabeled_pool(*, project, language) -> QuerySet[Item]:
    """Items nobody has started on: what the learner may pick from."""
    return Item.objects.filter(
        project=project, language=language, split=Item.Split.POOL, status=Item.Status.OPEN,
        is_control=False, annotation_count=0, active_assignments=0,
    ).order_by("id")


@dataclass(frozen=True)
class PromotionCheck:
    """What an admin must see before making ``version`` the champion.

    ``kind`` names the action in words a user expects: promoting a candidate, rolling back to an
    older retired version, or restoring a newer one that a rollback replaced (never "roll back").
    ``champion_f1`` is the champion measured on the candidate's own evaluation data when training
    recorded it, so the two numbers compare like with like."""

    version: ModelVersion
    champion: ModelVersion | None
    kind: str  # "promote" | "rollback" | "restore" | "" (already the champion)
    candidate_f1: float | None
    champion_f1: float | None

    @property
    def worse(self) -> bool:
        """A candidate that does not beat the champion. A rollback goes back on purpose (the live
        model misbehaves), so it is shown side by side but not held back."""
        if self.kind != "promote" or self.champion is None or self.champion_f1 is None:
            return False
        return self.candidate_f1 is None or self.candidate_f1 <= self.champion_f1


def promotion_check(version: ModelVersion, champion: ModelVersion | None = None) -> PromotionCheck:
    if champion is None:
        champion = champion_for(project=version.project_id, language=version.language_id)
    if version.status == ModelVersion.Status.CHAMPION or (champion is not None and champion.pk == version.pk):
        return PromotionCheck(version, champion, "", version.macro_f1, version.macro_f1)
    champion_f1 = None
    if champion is not None:
        metrics = version.metrics if isinstance(version.metrics, dict) else {}
        measured = metrics.get("champion_macro_f1") if version.status == ModelVersion.Status.CANDIDATE else None
        champion_f1 = measured if isinstance(measured, int | float) else champion.macro_f1
    if version.status == ModelVersion.Status.CANDIDATE or champion is None:
        kind = "promote"
    else:
        newer = (version.created_at, version.pk) > (champion.created_at, champion.pk)
        kind = "restore" if newer else "rollback"
    return PromotionCheck(version, champion, kind, version.macro_f1, champion_f1)
