"""Pool-scoring throughput: ``python -m benchmarks.scoring``.

Three ways to score the same pool with the same (LoRA-wrapped, randomly initialised, built-from-
config) BERT classifier:

* ``platform``: :func:`learner.scoring.collect` -- chunks, length-bucketed batches with dynamic
  padding, ``torch.inference_mode``, running top-k on the device;
* ``naive``: the loop one writes first -- batches in pool order, every batch padded to
  ``max_length``, all scores kept and sorted at the end;
* ``bare``: only the forward passes of the platform's batches (tokenised beforehand, no top-k):
  an upper bound for any scorer.

Targets (CPU): platform >= 2x naive and >= 85% of bare. Texts: SIB-200 test+train sentences of the
given languages when ``--data`` exists (real length spread), else the synthetic corpus.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import machine, table, write_json


def build_model(texts: list[str], classes: list[str], hidden: int, layers: int, max_length: int):
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from learner.backbone import build_tiny_backbone
    from learner.backends.transformer import LoraClassifier, LoraTrainingConfig

    folder = Path(tempfile.mkdtemp(prefix="parity-bench-")) / "tok"
    build_tiny_backbone(folder, texts[:2000])
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=max(1, hidden // 64), intermediate_size=hidden * 4,
                        max_position_embeddings=max(512, max_length), num_labels=len(classes))
    base = BertForSequenceClassification(config)
    model = LoraClassifier(classes, LoraTrainingConfig(max_length=max_length))
    model.tokenizer = tokenizer
    model.model = get_peft_model(base, LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16,
                                                  target_modules=["query", "value"])).to(model.device).eval()
    return model


def load_texts(data: str | None, languages: list[str], n: int) -> list[str]:
    texts: list[str] = []
    if data and Path(data).is_dir():
        from annotation.corpora import load_sib200

        corpus = load_sib200(data, languages)
        texts = [r.text for tag in languages for split in ("train", "test", "dev") for r in corpus[tag].get(split, [])]
    if not texts:
        from annotation.corpora import synthetic_corpus

        texts = [r.text for lang in synthetic_corpus(languages).values() for rows in lang.values() for r in rows]
    return [texts[i % len(texts)] for i in range(n)]


def naive(model, rows, k: int, batch_size: int) -> list[int]:
    from learner.strategies import entropy_scores

    scores = []
    model.model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            texts = [t for _, t in rows[start:start + batch_size]]
            batch = model.tokenizer(texts, padding="max_length", truncation=True, max_length=model.config.max_length,
                                    return_tensors="pt")
            logits = model.model(input_ids=batch["input_ids"].to(model.device),
                                 attention_mask=batch["attention_mask"].to(model.device)).logits
            scores.extend(entropy_scores(torch.softmax(logits.float(), -1)).tolist())
    order = sorted(range(len(rows)), key=lambda i: -scores[i])
    return [rows[i][0] for i in order[:k]]


def bare(model, rows, chunk_size: int, batch_size: int) -> float:
    """Seconds for the forward passes alone, on the platform's batches (tokenised beforehand)."""
    batches = []
    for start in range(0, len(rows), chunk_size):
        texts = [t for _, t in rows[start:start + chunk_size]]
        for idx in model._buckets(texts, batch_size):
            batches.append(model._encode([texts[i] for i in idx]))
    _sync()
    started = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            torch.softmax(model.model(**batch).logits.float(), -1)
    _sync()
    return time.perf_counter() - started


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        _sync()
        started = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> dict:
    from benchmarks.common import setup_django

    setup_django()
    from learner.scoring import ScoringConfig, collect

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/sib200")
    parser.add_argument("--languages", default="hau_Latn,amh_Ethi,urd_Arab,eng_Latn")
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    languages = args.languages.split(",")
    texts = load_texts(args.data, languages, args.pool)
    rows = list(enumerate(texts))
    model = build_model(texts, ["a", "b", "c", "d", "e", "f", "g"], args.hidden, args.layers, args.max_length)
    config = ScoringConfig(chunk_size=args.chunk_size, batch_size=args.batch_size)

    def platform():
        return collect(rows, model=model, strategy="entropy", k=args.k, config=config)

    platform()  # warm-up
    t_platform = timed(platform, args.repeat)
    t_naive = timed(lambda: naive(model, rows, args.k, args.batch_size), args.repeat)
    t_bare = min(bare(model, rows, args.chunk_size, args.batch_size) for _ in range(args.repeat))
    ours = [c[0] for c in platform().candidates]
    theirs = naive(model, rows, args.k, args.batch_size)
    overlap = len(set(ours) & set(theirs)) / max(1, args.k)
    n = len(rows)
    result = {
        "machine": machine(), "device": str(model.device), "pool": n, "k": args.k,
        "model": {"hidden": args.hidden, "layers": args.layers, "max_length": args.max_length},
        "items_per_s": {"platform": n / t_platform, "naive": n / t_naive, "bare_forward": n / t_bare},
        "speedup_vs_naive": t_naive / t_platform, "fraction_of_bare": t_bare / t_platform,
        "topk_overlap_with_naive": overlap,
        "targets": {"speedup_vs_naive": 2.0, "fraction_of_bare": 0.85},
    }
    print(f"pool {n} texts ({', '.join(languages)}), BERT hidden {args.hidden} x {args.layers} layers + LoRA, "
          f"{model.device}, batch {args.batch_size}")
    print(table(["scorer", "items/s", "relative"], [
        ["platform", round(n / t_platform, 1), "1.00"],
        ["naive (max_length padding)", round(n / t_naive, 1), f"{t_platform / t_naive:.2f}"],
        ["bare forward", round(n / t_bare, 1), f"{t_platform / t_bare:.2f}"],
    ]))
    print(f"platform vs naive: {result['speedup_vs_naive']:.2f}x (target >= 2x); "
          f"platform / bare forward: {result['fraction_of_bare']:.0%} (target >= 85%); "
          f"top-{args.k} overlap with naive {overlap:.0%} (padding changes fp rounding only)")
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
