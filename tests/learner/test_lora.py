"""The transformer backend on the tiny offline backbone: a LoRA training run end to end, promotion and
refusal, the head surviving save/load, export loading with PeftModel.from_pretrained, MC dropout and
embeddings for the scorer."""
import io

import pytest
import torch
from django.core.management import call_command

from learner.artifacts import materialise
from learner.backbone import resolve_backbone
from learner.backends.transformer import LoraClassifier, LoraTrainingConfig
from learner.models import ModelVersion, RunStatus
from learner.selectors import champion_for
from learner.services import training_run_create, training_run_execute
from tests.factories import TOPICS, language, learner_project

pytestmark = pytest.mark.django_db
TINY = {"epochs": 2, "batch_size": 16, "lr": 5e-3, "r": 4, "alpha": 8, "max_length": 32}


def run_transformer(project, **config):
    run = training_run_create(project=project, backend="transformer", dispatch=False,
                              config={"transformer": {**TINY, **config}})
    return training_run_execute(run_id=run.pk)


def test_lora_run_promotes_then_refuses_and_the_head_round_trips():
    project, _ = learner_project(("hau_Latn",), labeled=40, pool=50, heldout=20)
    run = run_transformer(project)
    assert run.status == RunStatus.SUCCEEDED
    champion = champion_for(project=project, language=language("hau_Latn"))
    assert champion.backend == "transformer" and champion.backbone.endswith("parity-tiny")
    assert champion.adapter_bytes > 0
    folder = materialise(champion.adapter_path)
    assert (folder / "adapter_model.safetensors").exists() and (folder / "adapter_config.json").exists()
    # the champion reloaded from storage scores exactly what the registry measured
    reloaded = LoraClassifier.load(folder)
    texts = [t for t in project.items.filter(split="heldout").values_list("text", flat=True)]
    from learner.evaluation import classification_metrics

    truth = list(project.items.filter(split="heldout").values_list("reference_label", flat=True))
    assert classification_metrics(TOPICS, reloaded.predict_proba(texts), truth)["macro_f1"] == pytest.approx(
        champion.macro_f1, abs=1e-6)
    # same data, same seed: not better, so kept as a candidate
    second = run_transformer(project)
    candidate = second.model_versions.get()
    assert candidate.status == ModelVersion.Status.CANDIDATE and "does not beat" in candidate.status_reason
    assert champion_for(project=project, language=language("hau_Latn")).pk == champion.pk


def test_export_loads_with_peft_from_pretrained(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    project, _ = learner_project(("hau_Latn",), labeled=30, pool=30, heldout=10)
    run_transformer(project, epochs=1)
    out = tmp_path / "adapter"
    call_command("export_model", project=project.slug, language="hau_Latn", out=str(out), stdout=io.StringIO())
    champion = champion_for(project=project, language=language("hau_Latn"))
    base = AutoModelForSequenceClassification.from_pretrained(champion.backbone, num_labels=len(TOPICS))
    model = PeftModel.from_pretrained(base, str(out)).eval()
    tokenizer = AutoTokenizer.from_pretrained(champion.backbone)
    batch = tokenizer(["a sentence to classify"], return_tensors="pt")
    ours = LoraClassifier.load(materialise(champion.adapter_path))
    with torch.inference_mode():
        theirs = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(theirs, ours.logits(["a sentence to classify"]), atol=1e-5)


def test_shared_adapter_is_promoted_per_language():
    project, _ = learner_project(("hau_Latn", "amh_Ethi"), labeled=24, pool=24, heldout=10)
    run = training_run_create(project=project, backend="transformer", dispatch=False,
                              config={"transformer": {**TINY, "epochs": 1}, "shared_adapter": True})
    run = training_run_execute(run_id=run.pk)
    versions = list(run.model_versions.all())
    assert len(versions) == 2 and len({v.adapter_path for v in versions}) == 1
    assert all(v.metrics["shared_adapter"] for v in versions)
    assert all(v.status == ModelVersion.Status.CHAMPION for v in versions)


def test_scorer_hooks_mc_dropout_and_embeddings():
    model = LoraClassifier(TOPICS, LoraTrainingConfig(**{**TINY, "epochs": 1}))
    texts = ["short", "a much longer sentence with many words in it", "mid length text"]
    model.fit(texts, ["politics", "sports", "health"])
    probs = model.probs_tensor(texts, batch_size=2)
    assert torch.allclose(probs, torch.from_numpy(model.predict_proba(texts)), atol=1e-5)
    mc = model.mc_probs(texts, passes=4, batch_size=2)
    assert mc.shape == (4, 3, 3) and torch.allclose(mc.sum(-1), torch.ones(4, 3), atol=1e-4)
    assert not model.model.training  # dropout switched back off
    assert model.embed(texts).shape[0] == 3
    assert resolve_backbone().endswith("parity-tiny")
