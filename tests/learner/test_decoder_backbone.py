"""Decoder-only backbones (Gemma 3) in the transformer backend, on a tiny Gemma 3 built from a config
offline: pooling on the last non-padding token, LoRA targets from the architecture, training through a
run, the head surviving save/load, scoring hooks, gradient checkpointing."""
import pytest
import torch

from learner.artifacts import materialise
from learner.backbone import build_tiny_backbone, is_decoder_only, load_backbone, lora_target_modules
from learner.backends import BackendError
from learner.backends.transformer import LoraClassifier, LoraTrainingConfig
from learner.models import RunStatus
from learner.selectors import champion_for
from learner.services import training_run_create, training_run_execute
from tests.factories import TOPICS, language, learner_project

TINY = {"epochs": 2, "batch_size": 8, "lr": 5e-3, "r": 4, "alpha": 8, "max_length": 32}
TEXTS = ["short", "a much longer sentence with many words in it", "mid length text", "x"]


@pytest.fixture(scope="module")
def gemma(tmp_path_factory) -> str:
    from annotation.corpora import synthetic_corpus

    corpus = synthetic_corpus(["hau_Latn", "amh_Ethi"], labels=TOPICS, sizes={"train": 40}, seed=0)
    texts = [row.text for lang in corpus.values() for rows in lang.values() for row in rows] + TEXTS
    path = tmp_path_factory.mktemp("backbones") / "tiny-gemma3"
    return str(build_tiny_backbone(path, texts, architecture="gemma3", vocab_size=800))


def test_tiny_gemma_is_a_decoder_with_a_pad_token_and_right_padding(gemma):
    tokenizer, model = load_backbone(gemma, 3, dict(enumerate(TOPICS)))
    assert type(model).__name__ == "Gemma3TextForSequenceClassification" and is_decoder_only(model.config)
    assert tokenizer.padding_side == "right" and model.config.pad_token_id == tokenizer.pad_token_id is not None
    assert lora_target_modules(model) == ["q_proj", "v_proj"]
    assert next(model.parameters()).dtype == torch.float32


def test_pooling_reads_the_last_real_token_so_padding_changes_nothing(gemma):
    """A text scored alone and in a batch padded to a longer neighbour gets the same logits: the head reads
    the last non-padding token, which under causal attention never sees the pads behind it."""
    model = LoraClassifier(TOPICS, LoraTrainingConfig(backbone=gemma, **{**TINY, "epochs": 1}))
    model.fit(TEXTS, ["politics", "sports", "health", "politics"])
    alone = torch.cat([model.logits([text]) for text in TEXTS])
    batched = model.logits(TEXTS, batch_size=4)
    assert torch.allclose(alone, batched, atol=1e-4)
    batch = model._encode(TEXTS)
    assert (batch["attention_mask"][:, 0] == 1).all()  # right padding: every row starts with a real token


def test_decoder_lora_run_trains_promotes_and_the_head_round_trips(gemma, db):
    project, _ = learner_project(("hau_Latn",), labeled=30, pool=30, heldout=12)
    run = training_run_create(project=project, backend="transformer", dispatch=False,
                              config={"transformer": {**TINY, "backbone": gemma}})
    run = training_run_execute(run_id=run.pk)
    assert run.status == RunStatus.SUCCEEDED
    champion = champion_for(project=project, language=language("hau_Latn"))
    assert champion.backend == "transformer" and champion.backbone == gemma
    folder = materialise(champion.adapter_path)
    reloaded = LoraClassifier.load(folder)
    heldout = list(project.items.filter(split="heldout").values_list("text", flat=True))
    from learner.evaluation import classification_metrics

    truth = list(project.items.filter(split="heldout").values_list("reference_label", flat=True))
    assert classification_metrics(TOPICS, reloaded.predict_proba(heldout), truth)["macro_f1"] == pytest.approx(
        champion.macro_f1, abs=1e-6)
    # the trained head (``score`` on a decoder) is in the adapter, not re-initialised at load
    saved = {k: v for k, v in reloaded.model.state_dict().items() if "score" in k and "modules_to_save" in k}
    assert saved, "the classification head is not among the adapter's saved modules"


def test_decoder_scoring_hooks_and_gradient_checkpointing(gemma):
    model = LoraClassifier(TOPICS, LoraTrainingConfig(backbone=gemma, gradient_checkpointing=True,
                                                      **{**TINY, "epochs": 1}))
    model.fit(TEXTS, ["politics", "sports", "health", "politics"], dev=(TEXTS[:2], ["politics", "sports"]))
    assert model.model.base_model.model.model.gradient_checkpointing
    assert len(model.history) == 1 and model.history[0]["seconds"] >= 0 and "dev_macro_f1" in model.history[0]
    probs = model.probs_tensor(TEXTS, batch_size=3)
    assert torch.allclose(probs, torch.from_numpy(model.predict_proba(TEXTS)), atol=1e-5)
    mc = model.mc_probs(TEXTS, passes=3, batch_size=2)
    assert mc.shape == (3, 4, 3) and torch.allclose(mc.sum(-1), torch.ones(3, 4), atol=1e-4)
    assert model.embed(TEXTS).shape == (4, 64)


def test_an_architecture_without_known_projections_names_its_layers():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mixer = torch.nn.Linear(2, 2)

    with pytest.raises(BackendError, match="mixer"):
        lora_target_modules(Odd())
