"""The frozen-feature learner and its blend with the n-gram learner, on the tiny offline backbone: what
they predict, that the head survives save/load, how the blend weight is chosen, bad input."""
import numpy as np
import pytest

from learner.backends import BackendError, load_classifier, make_classifier
from learner.backends.blend import BlendClassifier, BlendConfig, best_weight
from learner.backends.frozen import FrozenClassifier, FrozenConfig
from learner.backends.ngram import NgramClassifier
from tests.factories import TOPICS

pytestmark = pytest.mark.usefixtures("tiny_backbone")


@pytest.fixture
def data():
    from annotation.corpora import synthetic_corpus

    corpus = synthetic_corpus(["hau_Latn"], labels=TOPICS, sizes={"train": 60, "test": 30}, seed=1)["hau_Latn"]
    train = ([r.text for r in corpus["train"]], [r.label for r in corpus["train"]])
    test = ([r.text for r in corpus["test"]], [r.label for r in corpus["test"]])
    return train, test


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_frozen_learner_predicts_and_round_trips(data, tmp_path, pooling):
    (texts, labels), (test_texts, _) = data
    model = make_classifier("frozen", TOPICS, {"pooling": pooling})
    model.fit(texts, labels)
    assert model.chosen_C in model.config.C_grid  # chosen by cross-validation on the training labels
    probs = model.predict_proba(test_texts)
    assert probs.shape == (len(test_texts), len(TOPICS)) and np.allclose(probs.sum(1), 1, atol=1e-5)
    model.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl")) and (tmp_path / "m" / "head.safetensors").exists()
    again = load_classifier("frozen", tmp_path / "m")
    assert np.allclose(again.predict_proba(test_texts), probs, atol=1e-6)
    assert again.embed(test_texts[:3]).shape[0] == 3


def test_frozen_learner_learns_the_labels_it_was_shown(data):
    (texts, labels), _ = data
    model = FrozenClassifier(TOPICS, FrozenConfig(C=100.0))
    model.fit(texts, labels)
    predicted = [TOPICS[i] for i in model.predict_proba(texts).argmax(1)]
    assert np.mean([p == y for p, y in zip(predicted, labels, strict=True)]) > 0.9


def test_frozen_learner_with_one_class_predicts_it_and_rejects_unknown_labels(data):
    (texts, _), _ = data
    model = FrozenClassifier(TOPICS)
    model.fit(texts[:5], ["sports"] * 5)
    assert (model.predict_proba(texts[:3]).argmax(1) == TOPICS.index("sports")).all()
    with pytest.raises(ValueError, match="not in the label set: weather"):
        model.fit(texts[:2], ["sports", "weather"])
    with pytest.raises(ValueError, match="pooling"):
        FrozenClassifier(TOPICS, FrozenConfig(pooling="max"))
    with pytest.raises(BackendError, match="bad frozen config"):
        make_classifier("frozen", TOPICS, {"polling": "mean"})


def test_best_weight_finds_the_blend_that_beats_both_members():
    classes = ["a", "b"]
    labels = ["a", "a", "b", "b"]
    # each member is confidently wrong on one row the other gets right, but only mildly
    frozen = np.array([[0.9, 0.1], [0.45, 0.55], [0.2, 0.8], [0.2, 0.8]])
    ngram = np.array([[0.6, 0.4], [0.9, 0.1], [0.55, 0.45], [0.4, 0.6]])
    w, scores = best_weight(classes, frozen, ngram, labels, [0.0, 0.5, 1.0])
    assert w == 0.5 and scores[0.5] == 1.0 and scores[0.0] < 1.0 and scores[1.0] < 1.0
    # ties go to the first grid weight (more n-gram)
    assert best_weight(classes, ngram, ngram, labels, [0.0, 0.5, 1.0])[0] == 0.0


def test_blend_weight_is_chosen_by_cv_or_on_dev_and_ends_are_its_members(data, tmp_path):
    (texts, labels), (test_texts, test_labels) = data
    cv = BlendClassifier(TOPICS)
    cv.fit(texts, labels)
    assert cv.weight in cv.config.weight_grid and len(cv.weight_scores) == len(cv.config.weight_grid)
    assert cv.weight_scores[str(cv.weight)] == max(cv.weight_scores.values())
    on_dev = BlendClassifier(TOPICS, BlendConfig(weight_from="dev"))
    on_dev.fit(texts, labels, dev=(test_texts, test_labels))
    assert on_dev.weight in on_dev.config.weight_grid
    ngram_only = BlendClassifier(TOPICS, BlendConfig(weight=0.0))
    ngram_only.fit(texts, labels)
    plain = NgramClassifier(TOPICS)
    plain.fit(texts, labels)
    assert np.allclose(ngram_only.predict_proba(test_texts), plain.predict_proba(test_texts), atol=1e-6)
    cv.save(tmp_path / "blend")
    again = load_classifier("blend", tmp_path / "blend")
    assert again.weight == cv.weight
    assert np.allclose(again.predict_proba(test_texts), cv.predict_proba(test_texts), atol=1e-6)
    with pytest.raises(ValueError, match="weight_from"):
        BlendClassifier(TOPICS, BlendConfig(weight_from="test"))


def test_blend_refuses_unknown_labels_and_no_data_before_the_backbone_runs(data, monkeypatch):
    (texts, _), _ = data
    model = BlendClassifier(TOPICS)

    def forward_pass(texts):
        raise AssertionError("the backbone ran on input that was going to be refused")

    monkeypatch.setattr(model.frozen, "features", forward_pass)
    with pytest.raises(ValueError, match="not in the label set: weather"):
        model.fit(texts[:2], ["sports", "weather"])
    with pytest.raises(ValueError, match="cannot train on zero labelled examples"):
        model.fit([], [])
