"""benchmarks.backbones: the competition column serves the best dev score (never worse than any single
backend on dev), says by how much, and reports the test score of that choice; bad arguments are refused."""
import pytest

from benchmarks.backbones import competition, main


def scores(dev: float, test: float) -> dict:
    return {"dev_macro_f1": dev, "test_macro_f1": test}


def test_competition_serves_the_best_dev_score_and_reports_its_test_score():
    result = competition({"ngram": scores(0.66, 0.67), "frozen": scores(0.45, 0.38), "blend": scores(0.70, 0.65)})
    assert result["winner"] == "blend" and result["runner_up"] == "ngram"
    assert result["dev_margin"] == pytest.approx(0.04) and result["never_worse_on_dev"]
    # dev chose blend; on test n-grams were better: the table shows both, it does not hide it
    assert result["served_test"] == 0.65 and result["best_test_backend"] == "ngram"


def test_ties_go_to_the_cheaper_backend_listed_first():
    result = competition({"frozen": scores(0.5, 0.5), "ngram": scores(0.5, 0.4)})
    assert result["winner"] == "ngram" and result["dev_margin"] == 0.0
    assert competition({"ngram": scores(0.5, 0.4)})["runner_up"] is None


def test_unknown_backend_and_missing_backbone_are_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("LEARNER_BACKBONE", raising=False)
    with pytest.raises(SystemExit, match="name the backbone"):
        main(["--data", str(tmp_path), "--out", "", "--png", ""])
    with pytest.raises(SystemExit, match="unknown backend"):
        main(["--data", str(tmp_path), "--backbone", str(tmp_path), "--backends", "ngram,gpt", "--out", ""])
