"""The learner's side of model suggestions (see annotation.suggestions): which model is the champion of a
project × language, and its predictions, from the same classifiers the scoring code loads. Loaded models
are kept per version in this process (a few at most), so a page asks for one item's suggestion cheaply."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import numpy as np

from learner.artifacts import materialise
from learner.backends import load_classifier
from learner.models import ModelVersion

_CACHE_SIZE = 4
_models: OrderedDict[int, object] = OrderedDict()
_lock = Lock()


def _classifier(version_id: int):
    with _lock:
        if version_id in _models:
            _models.move_to_end(version_id)
            return _models[version_id]
    version = ModelVersion.objects.get(pk=version_id)
    model = load_classifier(version.backend, materialise(version.adapter_path))
    with _lock:
        _models[version_id] = model
        while len(_models) > _CACHE_SIZE:
            _models.popitem(last=False)
    return model


class ChampionSuggester:
    def champion_id(self, *, project_id: int, language_id: int) -> int | None:
        return (ModelVersion.objects.filter(project_id=project_id, language_id=language_id,
                                            status=ModelVersion.Status.CHAMPION).values_list("id", flat=True).first())

    def predict(self, *, version_id: int, texts: list[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        model = _classifier(version_id)
        probs = np.asarray(model.predict_proba(texts), dtype=np.float64)
        best = probs.argmax(axis=1)
        return [(model.classes[int(i)], float(probs[row, int(i)])) for row, i in enumerate(best)]


def suggestions_precompute(*, version_id: int, chunk: int = 512) -> int:
    """Predict every open pool item of the version's language (after a promotion), in chunks."""
    from annotation.models import Item
    from annotation.suggestions import suggestions_store

    version = ModelVersion.objects.select_related("project").get(pk=version_id)
    if version.status != ModelVersion.Status.CHAMPION or not version.project.show_suggestions:
        return 0
    items = (Item.objects.filter(project_id=version.project_id, language_id=version.language_id,
                                 status__in=[Item.Status.OPEN, Item.Status.ADJUDICATION], is_control=False)
             .exclude(suggestion_version=version_id).order_by("id").values_list("id", "text"))
    suggester, done = ChampionSuggester(), 0
    rows = list(items)
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        predictions = suggester.predict(version_id=version_id, texts=[text for _pk, text in part])
        done += suggestions_store(version=version_id, predictions={pk: p for (pk, _t), p in zip(part, predictions,
                                                                                            strict=True)})
    return done


def project_suggestions_set(*, project, show: bool, actor) -> bool:
    """Turn a project's model suggestions on or off (``Project.show_suggestions``) for ``actor``, who must
    manage the project. Logged in the admin's history of the project (who, when, on or off); turning them
    on precomputes each champion's suggestions in the background. Returns whether anything changed."""
    import logging

    from django.contrib.admin.models import CHANGE, LogEntry
    from django.db import transaction

    from annotation.models import Project
    from learner.registry import _suggestions_on_commit
    from parity import access

    access.check(actor, access.MANAGE_PROJECT, project)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.show_suggestions == show:
            return False
        locked.show_suggestions = show
        locked.save(update_fields=["show_suggestions"])
        project.show_suggestions = show
        LogEntry.objects.log_actions(
            user_id=actor.pk, queryset=[locked], action_flag=CHANGE, single_object=True,
            change_message=[{"changed": {"fields": ["Show suggestions"]}}])
        if show:
            for champion in ModelVersion.objects.filter(project=locked, status=ModelVersion.Status.CHAMPION):
                _suggestions_on_commit(champion)
    logging.getLogger(__name__).info("project %s: suggestions turned %s by %s", locked.slug,
                                     "on" if show else "off", actor.get_username())
    return True
