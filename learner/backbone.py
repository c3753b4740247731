"""Finding the shared multilingual backbone, or building the offline demo one.

``LEARNER_BACKBONE`` is a Hugging Face id or a local path. The default, ``parity-tiny``, is a
tiny BERT with a WordPiece vocabulary covering several scripts, built once into the artifact
folder, so that the demo and the tests run offline; it learns little, which is fine for a demo.
For real work point the setting at e.g. ``xlm-roberta-base`` or a local copy of it.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from learner.backends import BackendError

TINY = "parity-tiny"
# Characters every tiny tokenizer knows, so a language added later is not all [UNK].
_SCRIPT_RANGES = [(0x20, 0x7F), (0xC0, 0x250), (0x0600, 0x06FF), (0x1200, 0x137F), (0x0900, 0x097F),
                  (0x0400, 0x04FF), (0x0590, 0x05FF)]


def tiny_backbone_path() -> Path:
    return Path(settings.ARTIFACT_ROOT) / "backbones" / TINY


def build_tiny_backbone(path: Path, texts: list[str], seed: int = 0, vocab_size: int = 3000) -> Path:
    """Train a WordPiece tokenizer on ``texts`` and save a randomly initialised tiny BERT."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    alphabet = [chr(c) for start, stop in _SCRIPT_RANGES for c in range(start, stop) if chr(c).isprintable()]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        initial_alphabet=alphabet, limit_alphabet=len(alphabet) + 200,
    )
    tokenizer.train_from_iterator(texts or ["parity"], trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    tokenizer.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")),
                                                  ("[SEP]", tokenizer.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=256,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=fast.vocab_size if hasattr(fast, "vocab_size") else len(fast), hidden_size=64,
        num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, max_position_embeddings=256,
    )
    path.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    BertModel(config).save_pretrained(tmp)
    fast.save_pretrained(tmp)
    for child in tmp.iterdir():
        child.replace(path / child.name)
    tmp.rmdir()
    return path


def resolve_backbone(name: str | None = None, corpus: list[str] | None = None) -> str:
    """The path or Hub id to load; builds the tiny default on first use."""
    name = name or settings.LEARNER_BACKBONE
    if name == TINY:
        path = tiny_backbone_path()
        if not (path / "config.json").exists():
            from annotation.corpora import synthetic_corpus

            sample = [row.text for lang in synthetic_corpus(["eng_Latn", "urd_Arab", "amh_Ethi"]).values()
                      for rows in lang.values() for row in rows]
            build_tiny_backbone(path, list(corpus or []) + sample)
        return str(path)
    return name


def load_backbone(name: str, num_labels: int, id2label: dict[int, str]):
    """(tokenizer, model) or a BackendError that says how to fix the setting."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=num_labels, id2label=id2label, label2id={v: k for k, v in id2label.items()},
        )
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"the learner backbone {name!r} could not be loaded ({exc.__class__.__name__}: {str(exc)[:200]}). "
            "Set LEARNER_BACKBONE to a local model folder, or to a Hugging Face id this machine can reach "
            "(for example 'xlm-roberta-base' with the model in the local cache), or to 'parity-tiny' for "
            "the offline demo backbone."
        ) from exc
    return tokenizer, model
