"""Finding the shared multilingual backbone, or building the offline demo one.

``LEARNER_BACKBONE`` is a Hugging Face id or a local path. The default, ``parity-tiny``, is a
tiny BERT with a WordPiece vocabulary covering several scripts, built once into the artifact
folder, so that the demo and the tests run offline; it learns little, which is fine for a demo.
For real work point the setting at e.g. ``xlm-roberta-base`` or a local copy of it, or at the
Gemma 3 folder ``manage.py backbone install gemma3-270m`` materialises (decoder-only: see
``prepare_decoder``).

Encoders and decoder-only models take the same path through ``AutoModelForSequenceClassification``;
what differs is handled here once: a decoder pools on its last non-padding token, so it needs a pad
token its config knows and right padding (with causal attention the last real token then never sees
a pad, and position ids stay those of training).
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


# Architectures whose sequence-classification head pools on the last non-padding token.
DECODER_MODEL_TYPES = {"gemma", "gemma2", "gemma3", "gemma3_text", "llama", "mistral", "qwen2", "qwen3", "phi3", "gpt2"}


def is_decoder_only(config) -> bool:
    archs = getattr(config, "architectures", None) or []
    return getattr(config, "model_type", "") in DECODER_MODEL_TYPES or any(a.endswith("ForCausalLM") for a in archs)


def build_tiny_backbone(
    path: Path, texts: list[str], seed: int = 0, vocab_size: int = 3000, architecture: str = "bert"
) -> Path:
    """Train a WordPiece tokenizer on ``texts`` and save a randomly initialised tiny BERT (or, with
    ``architecture="gemma3"``, a tiny Gemma 3 decoder: the same code path as the real Gemma backbone)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    if architecture not in ("bert", "gemma3"):
        raise ValueError(f"unknown tiny architecture {architecture!r} (bert or gemma3)")
    decoder = architecture == "gemma3"
    specials = ["<pad>", "<eos>", "<bos>", "<unk>"] if decoder else ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    alphabet = [chr(c) for start, stop in _SCRIPT_RANGES for c in range(start, stop) if chr(c).isprintable()]
    tokenizer = Tokenizer(models.WordPiece(unk_token=specials[3] if decoder else "[UNK]"))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=specials,
        initial_alphabet=alphabet, limit_alphabet=len(alphabet) + 200,
    )
    tokenizer.train_from_iterator(texts or ["parity"], trainer=trainer)
    from tokenizers.processors import TemplateProcessing

    if decoder:  # a decoder sees <bos> first and pools on the last real token: no [SEP] needed
        tokenizer.post_processor = TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 2)])
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
            model_max_length=256, padding_side="right",
        )
    else:
        tokenizer.post_processor = TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")),
                                                      ("[SEP]", tokenizer.token_to_id("[SEP]"))],
        )
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
            sep_token="[SEP]", mask_token="[MASK]", model_max_length=256,
        )
    torch.manual_seed(seed)
    size = fast.vocab_size if hasattr(fast, "vocab_size") else len(fast)
    if decoder:
        from transformers import Gemma3ForCausalLM, Gemma3TextConfig

        config = Gemma3TextConfig(
            vocab_size=size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, head_dim=32, max_position_embeddings=256, sliding_window=32,
            query_pre_attn_scalar=32, pad_token_id=0, eos_token_id=1, bos_token_id=2,
            layer_types=["sliding_attention", "full_attention"],
        )
        model = Gemma3ForCausalLM(config)
    else:
        config = BertConfig(
            vocab_size=size, hidden_size=64,
            num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, max_position_embeddings=256,
        )
        model = BertModel(config)
    path.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)
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


def prepare_decoder(tokenizer, model) -> None:
    """Pad token and padding side for last-token pooling (``GenericForSequenceClassification`` finds the
    last token that is not ``config.pad_token_id``)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    tokenizer.padding_side = "right"
    model.config.pad_token_id = tokenizer.pad_token_id


def load_backbone(name: str, num_labels: int, id2label: dict[int, str], gradient_checkpointing: bool = False):
    """(tokenizer, model) or a BackendError that says how to fix the setting.

    Weights are float32 whatever the checkpoint stores: fp32 on the CPU, and on a GPU bf16 autocast
    over fp32 master weights (LoRA updates are too small for bf16 weights)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForSequenceClassification.from_pretrained(
            name, num_labels=num_labels, id2label=id2label, label2id={v: k for k, v in id2label.items()},
            dtype=torch.float32,
        )
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"the learner backbone {name!r} could not be loaded ({exc.__class__.__name__}: {str(exc)[:200]}). "
            "Set LEARNER_BACKBONE to a local model folder, or to a Hugging Face id this machine can reach "
            "(for example 'xlm-roberta-base' with the model in the local cache), or to 'parity-tiny' for "
            "the offline demo backbone; `python manage.py backbone install gemma3-270m` materialises Gemma 3."
        ) from exc
    if is_decoder_only(model.config):
        prepare_decoder(tokenizer, model)
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return tokenizer, model


def load_encoder(name: str):
    """(tokenizer, base model without a head) for frozen features."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModel.from_pretrained(name, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"the learner backbone {name!r} could not be loaded ({exc.__class__.__name__}: {str(exc)[:200]}). "
            "Set LEARNER_BACKBONE to a local model folder or 'parity-tiny'."
        ) from exc
    if is_decoder_only(model.config):
        prepare_decoder(tokenizer, model)
    return tokenizer, model


# LoRA targets per architecture: attention projections, named as each family names them.
_LORA_TARGETS = (("q_proj", "v_proj"), ("query", "value"), ("q_lin", "v_lin"), ("c_attn",), ("qkv_proj",))


def lora_target_modules(model) -> list[str]:
    """The attention projections of ``model``'s architecture (q/v, as in the LoRA paper)."""
    linear = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, _linear_types())}
    for names in _LORA_TARGETS:
        if set(names) <= linear:
            return list(names)
    raise BackendError(
        f"no known attention projections in {type(model).__name__} to put LoRA on; set target_modules in the "
        f"transformer config (its linear layers: {', '.join(sorted(linear))[:300]})"
    )


def _linear_types():
    import torch

    types = [torch.nn.Linear]
    try:
        from transformers.pytorch_utils import Conv1D

        types.append(Conv1D)
    except ImportError:  # pragma: no cover - older transformers
        pass
    return tuple(types)
