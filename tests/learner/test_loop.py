"""The whole loop, headless, through the `simulate` command on tiny generated data."""
import json

import pytest
import torch
from django.core.management import CommandError, call_command

from annotation.models import AgreementSnapshot, Annotation, ApprovedLabel, Item
from learner.artifacts import materialise
from learner.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def test_simulate_ngram_two_rounds(tmp_path, capsys):
    out = tmp_path / "rounds.json"
    call_command("simulate", rounds=2, budget=42, languages="hau_Latn,urd_Arab", out=str(out))
    rounds = json.loads(out.read_text())["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert rounds[0]["labels"] == 42 and rounds[1]["labels"] == 84
    # Every sampled item got k=3 annotations and an approved label; nothing else was labelled.
    assert ApprovedLabel.objects.count() == 84
    assert Annotation.objects.count() == 84 * 3
    assert not Item.objects.filter(split=Item.Split.HELDOUT, annotations__isnull=False).exists()
    assert AgreementSnapshot.objects.filter(language__isnull=False).count() == 4  # 2 languages x 2 rounds
    assert all(0.3 < r["alpha"] <= 1.0 for r in rounds)  # 85%-accurate evaluators agree well above chance
    versions = ModelVersion.objects.filter(training_run__in=TrainingRun.objects.all())
    assert versions.count() == 4
    assert all(v.metrics["n_eval"] > 0 and "per_class_f1" in v.metrics for v in versions)
    final = rounds[-1]["macro_f1"]
    assert set(final) == {"hau_Latn", "urd_Arab"}
    # The generated topics are learnable: 84 labels beat the 1/7 chance level by a wide margin.
    assert all(score > 0.4 for score in final.values()), final
    assert ModelVersion.objects.filter(status=ModelVersion.Status.CHAMPION).count() == 2
    printed = capsys.readouterr().out
    assert "round" in printed and "hau_Latn" in printed


def test_simulate_rejects_bad_input(tmp_path):
    with pytest.raises(CommandError, match="no data for xyz_Latn"):
        call_command("simulate", rounds=1, budget=5, data=str(tmp_path), languages="xyz_Latn")
    with pytest.raises(CommandError, match="accuracy"):
        call_command("simulate", rounds=1, budget=5, languages="hau_Latn", annotator_accuracy=1.5)


def test_simulate_reads_sib200_layout(tmp_path):
    for tag in ("hau_Latn", "urd_Arab"):
        folder = tmp_path / tag
        folder.mkdir()
        (folder / "labels.txt").write_text("politics\nsports\n")
        for split, n in (("train", 30), ("test", 10)):
            topic = {0: ("sports", "goal match"), 1: ("politics", "vote law")}
            rows = ["index_id\tcategory\ttext"] + [
                f"{i}\t{topic[i % 2][0]}\t{topic[i % 2][1]} sentence {split} {i}" for i in range(n)
            ]
            (folder / f"{split}.tsv").write_text("\n".join(rows) + "\n")
    call_command("simulate", rounds=1, budget=10, data=str(tmp_path), languages="hau_Latn,urd_Arab")
    assert Item.objects.filter(split=Item.Split.HELDOUT, language__script="Arab").count() == 10
    assert ApprovedLabel.objects.count() == 10


@pytest.mark.slow
def test_simulate_transformer_saves_reloadable_lora_adapters(tmp_path):
    from peft import PeftModel

    from learner.backbone import load_backbone
    from learner.backends.transformer import LoraClassifier

    call_command("simulate", rounds=1, budget=28, languages="hau_Latn,urd_Arab", learner="transformer", epochs=2)
    versions = list(ModelVersion.objects.filter(backend="transformer").select_related("language"))
    assert {v.language.tag for v in versions} == {"hau_Latn", "urd_Arab"}  # one adapter per language
    version = versions[0]
    folder = materialise(version.adapter_path)
    assert (folder / "adapter_model.safetensors").exists() and (folder / "adapter_config.json").exists()
    assert version.adapter_bytes > 0 and version.backbone

    ours = LoraClassifier.load(folder)
    texts = list(Item.objects.filter(language=version.language).values_list("text", flat=True)[:12])
    expected = ours.logits(texts)
    # Reload with plain peft, outside our wrapper: the classifier head comes back from the adapter.
    tokenizer, base = load_backbone(version.backbone, len(ours.classes), dict(enumerate(ours.classes)))
    plain = PeftModel.from_pretrained(base, str(folder)).eval()
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        logits = plain(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(logits, expected, atol=1e-5)
    # ...and the trained head and LoRA weights matter: without the adapter the logits differ.
    with torch.inference_mode(), plain.disable_adapter():
        bare = plain(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert not torch.allclose(bare, expected, atol=1e-3)
