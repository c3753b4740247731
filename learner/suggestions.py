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
