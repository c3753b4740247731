"""A Hugging Face sequence classifier with one peft LoRA adapter, trained with plain torch.

Encoders (BERT, XLM-R) and decoder-only models (Gemma 3) take the same path: the backbone module
sets a decoder's pad token and right padding so its head pools on the last non-padding token, and
the LoRA targets are the attention projections the architecture has (``lora_target_modules``).
Gradient checkpointing (``gradient_checkpointing``) trades compute for activation memory on long
inputs.

The classifier head is in the adapter's ``modules_to_save`` (``task_type=SEQ_CLS``), so an adapter
folder alone restores the model on top of the shared backbone. bf16 autocast on CUDA, fixed
seeds, gradient accumulation, optional class-weighted loss and early stopping on the dev
macro-F1; scoring runs in length-sorted batches so little compute is spent on padding.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score

from learner.backbone import load_backbone, lora_target_modules, resolve_backbone
from learner.backends.training_input import check_training_input


@dataclass
class LoraTrainingConfig:
    backbone: str = ""
    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: list[str] | None = None
    epochs: int = 4
    batch_size: int = 16
    grad_accum: int = 1
    lr: float = 1e-3
    max_length: int = 128
    class_weighted: bool = False
    patience: int = 2
    gradient_checkpointing: bool = False
    seed: int = 0
    extra: dict = field(default_factory=dict)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _autocast(dev: torch.device):
    if dev.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


class LoraClassifier:
    def __init__(self, classes: list[str], config: LoraTrainingConfig | None = None) -> None:
        self.classes = list(classes)
        self.config = config or LoraTrainingConfig()
        self.backbone_name = self.config.backbone or ""
        self.tokenizer = None
        self.model = None
        self.device = device()
        self.history: list[dict] = []  # per epoch: seconds and dev macro-F1 (benchmarks, run pages)

    def _build(self, corpus: list[str] | None = None) -> None:
        from peft import LoraConfig, TaskType, get_peft_model

        self.backbone_name = self.config.backbone or resolve_backbone(None, corpus)
        torch.manual_seed(self.config.seed)
        self.tokenizer, base = load_backbone(
            self.backbone_name, len(self.classes), dict(enumerate(self.classes)),
            gradient_checkpointing=self.config.gradient_checkpointing,
        )
        lora = LoraConfig(
            task_type=TaskType.SEQ_CLS, r=self.config.r, lora_alpha=self.config.alpha,
            lora_dropout=self.config.dropout, target_modules=self.config.target_modules or lora_target_modules(base),
        )
        self.model = get_peft_model(base, lora).to(self.device)

    def _encode(self, texts: list[str]):
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                               return_tensors="pt")
        return {k: v.to(self.device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def fit(self, texts: list[str], labels: list[str], dev: tuple[list[str], list[str]] | None = None,
            progress=None) -> None:
        check_training_input(texts, labels, self.classes)
        self._build(texts)
        cfg = self.config
        y = torch.tensor([self.classes.index(label) for label in labels])
        weight = None
        if cfg.class_weighted:
            counts = torch.bincount(y, minlength=len(self.classes)).float().clamp(min=1)
            weight = (counts.sum() / (len(self.classes) * counts)).to(self.device)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.lr)
        generator = torch.Generator().manual_seed(cfg.seed)
        best, best_state, stale = -1.0, None, 0
        self.history = []
        for epoch in range(cfg.epochs):
            started = time.perf_counter()
            self.model.train()
            order = torch.randperm(len(texts), generator=generator).tolist()
            steps = range(0, len(order), cfg.batch_size)
            for n, start in enumerate(steps):
                idx = order[start:start + cfg.batch_size]
                with _autocast(self.device):
                    logits = self.model(**self._encode([texts[i] for i in idx])).logits
                loss = loss_fn(logits.float(), y[idx].to(self.device)) / cfg.grad_accum
                loss.backward()
                if (n + 1) % cfg.grad_accum == 0 or n == len(steps) - 1:
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
            self.history.append({"epoch": epoch + 1, "seconds": round(time.perf_counter() - started, 2)})
            if progress:
                progress((epoch + 1) / cfg.epochs)
            if dev and dev[0]:
                score = f1_score(dev[1], self.predict(dev[0]), average="macro", labels=self.classes, zero_division=0)
                self.history[-1]["dev_macro_f1"] = round(float(score), 4)
                if score > best:
                    best, stale = score, 0
                    best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.model.state_dict().items()})
                else:
                    stale += 1
                    if stale >= cfg.patience:
                        break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()

    @torch.inference_mode()
    def logits(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """Logits in input order, computed over length-sorted batches."""
        self.model.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.empty((len(texts), len(self.classes)), dtype=torch.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            with _autocast(self.device):
                out[idx] = self.model(**self._encode([texts[i] for i in idx])).logits.float().cpu()
        return out

    def _buckets(self, texts: list[str], batch_size: int):
        """Length-sorted batches (indices into ``texts``): neighbours in a batch pad to about the same length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            yield order[start:start + batch_size]

    @torch.inference_mode()
    def probs_tensor(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """(N, C) softmax probabilities in input order, left on the model's device (for on-device top-k)."""
        self.model.eval()
        out = torch.empty((len(texts), len(self.classes)), dtype=torch.float32, device=self.device)
        for idx in self._buckets(texts, batch_size):
            with _autocast(self.device):
                logits = self.model(**self._encode([texts[i] for i in idx])).logits
            out[torch.tensor(idx, device=self.device)] = torch.softmax(logits.float(), dim=-1)
        return out

    @torch.inference_mode()
    def mc_probs(self, texts: list[str], passes: int = 8, batch_size: int = 64) -> torch.Tensor:
        """(T, N, C) probabilities from T MC-dropout passes (only the dropout modules in train mode)."""
        from learner.strategies import mc_dropout_probs

        self.model.eval()
        dropouts = [m for m in self.model.modules() if isinstance(m, torch.nn.Dropout)]
        out = torch.empty((passes, len(texts), len(self.classes)), dtype=torch.float32, device=self.device)
        try:
            for module in dropouts:
                module.train()
            for idx in self._buckets(texts, batch_size):
                batch = self._encode([texts[i] for i in idx])

                def forward(inputs):
                    with _autocast(self.device):
                        return self.model(**inputs).logits.float()

                out[:, torch.tensor(idx, device=self.device)] = mc_dropout_probs(forward, batch, passes)
        finally:
            self.model.eval()
        return out

    @torch.inference_mode()
    def embed(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """(N, hidden) mean-pooled last hidden states, on the model's device (batch diversity)."""
        self.model.eval()
        hidden = self.model.config.hidden_size
        out = torch.empty((len(texts), hidden), dtype=torch.float32, device=self.device)
        for idx in self._buckets(texts, batch_size):
            batch = self._encode([texts[i] for i in idx])
            with _autocast(self.device):
                states = self.model(**batch, output_hidden_states=True).hidden_states[-1].float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out[torch.tensor(idx, device=self.device)] = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return torch.softmax(self.logits(texts), dim=-1).numpy()

    def predict(self, texts: list[str]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(directory))  # adapter_config.json + adapter_model.safetensors
        meta = {"backend": "transformer", "classes": self.classes, "backbone": self.backbone_name,
                "config": asdict(self.config)}
        (directory / "parity.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LoraClassifier:
        from peft import PeftModel

        meta = json.loads((directory / "parity.json").read_text(encoding="utf-8"))
        model = cls(meta["classes"], LoraTrainingConfig(**meta["config"]))
        model.backbone_name = meta["backbone"]
        model.tokenizer, base = load_backbone(meta["backbone"], len(model.classes), dict(enumerate(model.classes)))
        model.model = PeftModel.from_pretrained(base, str(directory)).to(model.device)
        model.model.eval()
        return model
