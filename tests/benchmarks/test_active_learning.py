"""The active-learning benchmark: its JSON is what the learner targets are judged on, so its sums
and its shape are tested like product code."""
import json

import pytest

from annotation.corpora import SIB_LABELS, synthetic_corpus
from benchmarks.active_learning import main, summarise


def _write_sib200(root, languages, labels, sizes, topic_share=0.5):
    corpus = synthetic_corpus(languages, labels=labels, sizes=sizes, topic_share=topic_share)
    for tag, splits in corpus.items():
        folder = root / tag
        folder.mkdir(parents=True)
        (folder / "labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
        for split, rows in splits.items():
            lines = ["index_id\tcategory\ttext"] + [f"{i}\t{r.label}\t{r.text}" for i, r in enumerate(rows)]
            (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_summarise_reads_labels_to_95pct_and_auc_off_the_mean_curve():
    seeds = [[[10, 0.2], [20, 0.5], [30, 0.9], [40, 0.95]],
             [[10, 0.4], [20, 0.7], [30, 0.9], [40, 0.97]]]
    out = summarise(seeds, full=1.0, pool_size=40)
    assert out["curve"] == [[10, 0.3], [20, 0.6], [30, 0.9], [40, 0.96]]
    assert out["labels_to_95pct"] == 40  # the mean first reaches 0.95 x 1.0 at 40 labels
    assert out["auc"] == pytest.approx((0.3 + 0.6) / 2)  # mean over the first half of the pool (<= 20)
    assert out["final_macro_f1"] == 0.96 and out["full_data_macro_f1"] == 1.0
    assert out["auc_per_seed"] == [pytest.approx(0.35), pytest.approx(0.55)]
    never = summarise(seeds, full=1.1, pool_size=40)
    assert never["labels_to_95pct"] is None  # 0.95 x 1.1 is never reached: null, not the last point


def test_ngram_curves_have_the_documented_shape(tmp_path, capsys):
    data = _write_sib200(tmp_path / "data", ["hau_Latn", "amh_Ethi"], SIB_LABELS[:3],
                         {"train": 60, "dev": 15, "test": 30})
    out = tmp_path / "al.json"
    results = main(["--data", str(data), "--languages", "hau_Latn,amh_Ethi", "--strategies", "random,entropy",
                    "--seeds", "2", "--seed-size", "6", "--step", "9", "--jobs", "1", "--out", str(out)])
    assert json.loads(out.read_text()) == results
    assert set(results) == {"hau_Latn", "amh_Ethi"}
    for by_strategy in results.values():
        assert set(by_strategy) == {"random", "entropy"}
        for r in by_strategy.values():
            labels = [n for n, _ in r["curve"]]
            assert labels[0] == 6 and labels[-1] == 60  # from the seed set until the pool is used up
            assert labels == sorted(labels) and all(0.0 <= f <= 1.0 for _, f in r["curve"])
            # the last point is the whole pool, i.e. the full-data learner on the same data
            assert r["final_macro_f1"] == pytest.approx(r["full_data_macro_f1"], abs=1e-4)
            assert r["full_data_macro_f1"] > 0.8  # topic words make this synthetic task easy
            assert r["labels_to_95pct"] is not None and r["seeds"] == 2
    assert "labels to 95%" in capsys.readouterr().out


def test_max_labels_and_bad_learner_config(tmp_path):
    data = _write_sib200(tmp_path / "data", ["hau_Latn"], SIB_LABELS[:3], {"train": 40, "test": 15})
    results = main(["--data", str(data), "--languages", "hau_Latn", "--strategies", "random,margin",
                    "--seeds", "1", "--seed-size", "5", "--step", "10", "--max-labels", "25", "--jobs", "1"])
    assert [n for n, _ in results["hau_Latn"]["margin"]["curve"]] == [5, 15, 25]
    from learner.backends import BackendError

    with pytest.raises(BackendError, match="bad ngram config.*no_such_option"):
        main(["--data", str(data), "--languages", "hau_Latn", "--strategies", "random", "--seeds", "1",
              "--jobs", "1", "--learner-config", '{"no_such_option": 1}'])


def test_bald_needs_the_transformer_learner(tmp_path):
    data = _write_sib200(tmp_path / "data", ["hau_Latn"], SIB_LABELS[:3], {"train": 30, "test": 10})
    with pytest.raises(SystemExit, match="bald needs MC-dropout"):
        main(["--data", str(data), "--languages", "hau_Latn", "--strategies", "bald", "--seeds", "1",
              "--seed-size", "6", "--jobs", "1"])


@pytest.mark.slow
def test_transformer_learner_drives_lora_with_bald(tmp_path):
    data = _write_sib200(tmp_path / "data", ["hau_Latn"], SIB_LABELS[:3], {"train": 36, "dev": 9, "test": 15})
    results = main(["--data", str(data), "--languages", "hau_Latn", "--strategies", "random,bald",
                    "--learner", "transformer", "--learner-config", '{"epochs": 1, "batch_size": 8}',
                    "--seeds", "1", "--seed-size", "12", "--step", "12", "--max-labels", "24", "--jobs", "1"])
    for strategy in ("random", "bald"):
        r = results["hau_Latn"][strategy]
        assert [n for n, _ in r["curve"]] == [12, 24]
        assert 0.0 <= r["full_data_macro_f1"] <= 1.0 and all(0.0 <= f <= 1.0 for _, f in r["curve"])
