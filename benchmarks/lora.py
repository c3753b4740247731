"""LoRA vs full fine-tuning on the same model, data and batch: ``python -m benchmarks.lora``.

Both modes train the same randomly initialised BERT sequence classifier (built from a config,
nothing downloaded) for ``--steps`` AdamW steps on the same batch shape. Each mode runs in its own
process so peak memory is not shared: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the
process' peak RSS (``ru_maxrss``) minus its RSS after the model and batch were built (the memory the
training itself needs: gradients, optimizer state, activations), and ``tracemalloc`` for Python-side
allocations. Also reported: examples/s, trainable parameters and the adapter's bytes on disk
(``save_pretrained``) against the whole model's.

Targets: LoRA peak training memory <= 60% of full fine-tuning; adapter <= 5% of the model.
The default ``--backbone-size minilm`` (hidden 384, 12 layers, 250k vocabulary, like multilingual
MiniLM-L12) is the smallest backbone the platform would really use; it runs on a CPU in about a
minute with ``--steps 2``. ``small`` and ``tiny`` are toys whose memory is dominated by activations,
so LoRA saves less there (measured: 74% of full fine-tuning on ``small``).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.common import machine, table, write_json

SIZES = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128,
             "vocab_size": 3000},
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024,
              "vocab_size": 30000},
    "minilm": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 1536,
               "vocab_size": 250002},
}


def _rss() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def worker(mode: str, size: str, batch_size: int, seq_len: int, steps: int, device: str, queue) -> None:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(**SIZES[size], max_position_embeddings=max(512, seq_len), num_labels=7)
    model = BertForSequenceClassification(config)
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    n_params = sum(p.numel() for p in model.parameters())
    if mode == "lora":
        model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, r=8, lora_alpha=16, lora_dropout=0.1,
                                                 target_modules=["query", "value"]))
    model = model.to(device).train()
    ids = torch.randint(5, config.vocab_size, (batch_size, seq_len), device=device)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 7, (batch_size,), device=device)
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    cuda = device.startswith("cuda")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)

    def step():
        with autocast:
            loss = torch.nn.functional.cross_entropy(model(input_ids=ids, attention_mask=mask).logits.float(), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_cuda = torch.cuda.memory_allocated()
    base_rss = _rss()
    tracemalloc.start()
    step()  # warm-up (allocates the optimizer state)
    if cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = {
        "mode": mode, "examples_per_s": batch_size * steps / elapsed, "trainable_params": trainable,
        "total_params": n_params, "model_bytes": model_bytes, "peak_rss": peak_rss,
        "training_rss": max(0, peak_rss - base_rss), "python_peak": py_peak,
    }
    if cuda:
        result["cuda_peak"] = torch.cuda.max_memory_allocated()
        result["cuda_training"] = torch.cuda.max_memory_allocated() - base_cuda
    if mode == "lora":
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            result["adapter_bytes"] = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    queue.put(result)


def run_mode(mode: str, args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=worker, args=(mode, args.backbone_size, args.batch_size, args.seq_len, args.steps,
                                            args.device, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> dict:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone-size", choices=list(SIZES), default="minilm")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    full, lora = run_mode("full", args), run_mode("lora", args)
    key = "cuda_training" if args.device.startswith("cuda") else "training_rss"
    mb = 1024 * 1024
    rows = []
    for r in (full, lora):
        rows.append([r["mode"], round(r["examples_per_s"], 1), r["trainable_params"],
                     round(r[key] / mb, 1), round(r.get("cuda_peak", r["peak_rss"]) / mb, 1),
                     round(r.get("adapter_bytes", r["model_bytes"]) / mb, 2)])
    memory_ratio = lora[key] / max(1, full[key])
    adapter_ratio = lora["adapter_bytes"] / lora["model_bytes"]
    label = "CUDA" if args.device.startswith("cuda") else "RSS"
    print(f"{args.backbone_size} BERT ({SIZES[args.backbone_size]}), batch {args.batch_size} x {args.seq_len} tokens, "
          f"{args.steps} steps on {args.device}")
    print(table(["mode", "examples/s", "trainable params", f"training {label} MiB", f"peak {label} MiB",
                 "saved MiB"], rows))
    print(f"LoRA training memory {memory_ratio:.0%} of full fine-tuning (target <= 60%); adapter "
          f"{adapter_ratio:.2%} of the model (target <= 5%)")
    result = {"machine": machine(), "backbone_size": args.backbone_size, "config": SIZES[args.backbone_size],
              "batch_size": args.batch_size, "seq_len": args.seq_len, "steps": args.steps, "device": args.device,
              "full": full, "lora": lora, "memory_metric": key, "lora_memory_ratio": memory_ratio,
              "adapter_ratio": adapter_ratio, "targets": {"lora_memory_ratio": 0.6, "adapter_ratio": 0.05}}
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
