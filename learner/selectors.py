"""Reads of the model registry and the learner's training data."""
from __future__ import annotations

import hashlib

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
