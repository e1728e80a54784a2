"""Speed and memory of the KG-LM pretraining step (masked LM + link prediction), with and without the GNN.

    python bench/train_throughput.py [--quick] [--compile] [--steps N] [--warmup N]
                                     [--configs sample,base] [--device auto|cpu|cuda]

Configs (synthetic batches, random init, nothing downloaded):
- ``sample``: ``kg_lm.model`` from params.yaml (the sample profile's tiny BERT + GNN) on the CPU
  with ``numerics.cpu_threads`` threads, at the sample corpus's shape: batch 16 x 64 tokens,
  subgraphs of 12 nodes / 40 edges, 28 edge types (the medical graph).
- ``base`` (only where CUDA is present): a BERT-base-sized encoder (768 x 12 layers, 30522
  vocabulary) with DRAGON's GNN (5 fused layers, gnn_dim 200, 4 heads), batch 64 x 512 tokens,
  subgraphs of 200 nodes / 1200 edges, 38 edge types (ConceptNet), bf16 autocast, fused AdamW.

Each config times the very step the training loop runs (`kg_ml.training.throughput`:
autocast forward, backward, clipping, optimizer, schedule; batches already on the device) for
the KG-LM and for the same encoder and MLM head without any GNN (``use_kg: false``, text-only
batches), so the GNN's share of the step is visible: ``gnn_overhead = 1 - t_text / t_kg``.

MFU (GPU only): achieved model FLOP/s over the device's dense bf16 peak (H100 SXM: 989 TFLOP/s).
Model FLOPs per token (PaLM appendix B): ``6 N + 12 L H S`` with N the encoder's non-embedding
weights, L layers, H hidden, S sequence length, plus the MLM head on the masked share p of the
tokens, ``p (6 H^2 + 6 H V)``. The GNN's FLOPs are left out, so the KG-LM's MFU is a lower bound.
Targets on GPU: MFU >= 0.35 for the base-size encoder's step (text), GNN overhead <= 0.30.

Last stdout line: one JSON object; ``ok`` is true when every config ran and, on GPU, the
targets hold (``targets_met``; reported, and on CPU not applicable).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch_geometric.data import Data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kg_ml.models.kg_lm import KGLMConfig, KGLMForPretraining, is_lm_param  # noqa: E402
from kg_ml.models.params import ObjectiveParams  # noqa: E402
from kg_ml.pretraining.data import PretrainCollator, pretrain_loss  # noqa: E402
from kg_ml.pretraining.links import kg_edge_types  # noqa: E402
from kg_ml.training import TrainConfig  # noqa: E402
from kg_ml.training.distributed import resolve_device  # noqa: E402
from kg_ml.training.throughput import (  # noqa: E402
    measure_train_step,
    mfu,
    peak_flops,
    transformer_train_flops_per_token,
)

log = logging.getLogger("bench.train_throughput")
TARGET_MFU, TARGET_GNN_OVERHEAD = 0.35, 0.30


@dataclass(frozen=True)
class Shape:
    batch: int
    seq_len: int
    nodes: int
    edges: int
    relations: int  # KG relations R: 2 (R + 2) edge types


@dataclass(frozen=True)
class Vocab:
    """What the collate needs of a tokenizer (BERT's ids), so no tokenizer has to be loaded."""

    size: int = 30522
    pad_token_id: int = 0
    mask_token_id: int = 103

    def __len__(self) -> int:
        return self.size


def sample_encoder() -> tuple[dict, dict]:
    """(encoder config, KG-LM sizes) of params.yaml's kg_lm.model, and the stages' CPU threads."""
    from kg_ml.config import load_params

    params = load_params(REPO / "params.yaml")
    kg_lm = params.kg_lm
    m = kg_lm.model
    encoder = {"vocab_size": Vocab.size, **m.encoder_config, **m.encoder_overrides}
    return encoder, {"fusion_layers": m.fusion_layers, "gnn_dim": m.gnn_dim, "gnn_heads": m.gnn_heads,
                     "threads": params.numerics.cpu_threads}


BASE_ENCODER = {"model_type": "bert", "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
                "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512}
BASE_GNN = {"fusion_layers": 5, "gnn_dim": 200, "gnn_heads": 4}


def synthetic_items(shape: Shape, n: int, seed: int) -> list[tuple[list[int], list[int], Data]]:
    """Full-length texts (one word per token) and DRAGON-shaped subgraphs: a context node linked to
    the question/answer nodes, random KG edges among the others, every edge with its inverse."""
    g = torch.Generator().manual_seed(seed)
    half = shape.relations + 2
    items = []
    for _ in range(n):
        ids = [101, *torch.randint(1000, 30000, (shape.seq_len - 2,), generator=g).tolist(), 102]
        words = [-1, *range(shape.seq_len - 2), -1]
        node_type = torch.full((shape.nodes,), 3)
        node_type[0], node_type[1:6], node_type[6] = 0, 1, 2
        kg = shape.edges // 2 - 6
        src = torch.cat([torch.zeros(6, dtype=torch.long), torch.randint(1, shape.nodes, (kg,), generator=g)])
        dst = torch.cat([torch.arange(1, 7), torch.randint(1, shape.nodes, (kg,), generator=g)])
        etype = torch.cat([torch.tensor([0, 0, 0, 0, 0, 1]), 2 + torch.randint(shape.relations, (kg,), generator=g)])
        items.append((ids, words, Data(x=torch.randn(shape.nodes, 384, generator=g), node_type=node_type,
                                       node_score=torch.rand(shape.nodes, 1, generator=g),
                                       edge_index=torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]),
                                       edge_type=torch.cat([etype, etype + half]), num_nodes=shape.nodes)))
    return items


def lm_flops_per_token(model: KGLMForPretraining, shape: Shape, mlm_share: float) -> float:
    cfg = model.kg_lm.encoder.config
    hidden, layers, vocab = cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size
    embeddings = sum(p.numel() for n, p in model.kg_lm.encoder.named_parameters() if "embeddings" in n)
    n_params = sum(p.numel() for p in model.kg_lm.encoder.parameters()) - embeddings
    head = mlm_share * (6 * hidden * hidden + 6 * hidden * vocab)
    return transformer_train_flops_per_token(n_params, layers, hidden, shape.seq_len) + head


def profile_steps(model: KGLMForPretraining, data: list, loss_fn, train: TrainConfig, name: str) -> None:
    """Log the top ops of 3 profiled steps and the host-device syncs in them (``--profile``)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        measure_train_step(model, data, loss_fn, train, steps=3, warmup=0, is_lm_param=is_lm_param)
    events = prof.key_averages()
    syncs = {e.key: e.count for e in events if "Synchronize" in e.key or e.key in ("aten::item",
                                                                                   "aten::_local_scalar_dense")}
    sort = "cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
    log.info("%s profile (3 steps; syncs %s):\n%s", name, syncs, events.table(sort_by=sort, row_limit=20))


def run_config(name: str, encoder: dict, gnn: dict, shape: Shape, train: TrainConfig, *, steps: int,
               warmup: int, profile: bool = False) -> dict:
    """Time the KG-LM step and the text-only step of one config."""
    objective = ObjectiveParams()
    collate = PretrainCollator(Vocab(), objective, num_edge_types=2 * (shape.relations + 2),
                               kg_types=kg_edge_types(shape.relations), generator=torch.Generator().manual_seed(0))
    n_batches = 4
    items = synthetic_items(shape, shape.batch * n_batches, seed=0)
    batches = [collate(items[i * shape.batch:(i + 1) * shape.batch]) for i in range(n_batches)]
    text_batches = [{k: v for k, v in b.items() if k not in ("graph", "lp")} for b in batches]
    out: dict = {"batch": shape.batch, "seq_len": shape.seq_len, "nodes": shape.nodes, "edges": shape.edges}
    for variant, use_kg, data in (("kg", True, batches), ("text", False, text_batches)):
        torch.manual_seed(0)
        config = KGLMConfig(encoder=encoder, use_kg=use_kg, node_feature_dim=384,
                            num_edge_types=2 * (shape.relations + 2), **gnn)
        model = KGLMForPretraining(config)
        flops = lm_flops_per_token(model, shape, objective.mlm_probability)
        params = sum(p.numel() for p in model.parameters())
        log.info("%s/%s: %.1fM parameters, timing %d steps after %d warm-up steps", name, variant, params / 1e6,
                 steps, warmup)
        t0 = time.perf_counter()
        res = measure_train_step(model, data, pretrain_loss(objective), train, steps=steps, warmup=warmup,
                                 is_lm_param=is_lm_param)
        achieved = mfu(flops, res["tokens_per_s"], resolve_device(train.device))
        out[variant] = {"parameters": params, "step_s": round(res["step_s"], 5),
                        "samples_per_s": round(res["samples_per_s"], 2), "tokens_per_s": round(res["tokens_per_s"], 1),
                        "peak_mem_mb": round(res["peak_mem_bytes"] / 2**20, 1),
                        "model_mflop_per_token": round(flops / 1e6, 3), "mfu": None if achieved is None else round(achieved, 4),
                        "wall_s": round(time.perf_counter() - t0, 1)}
        out["device"] = res["device"]
        log.info("%s/%s: %s", name, variant, out[variant])
        if profile:
            profile_steps(model, data, pretrain_loss(objective), train, f"{name}/{variant}")
        del model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    out["gnn_overhead"] = round(1 - out["text"]["step_s"] / out["kg"]["step_s"], 4)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="few steps (CI size)")
    p.add_argument("--steps", type=int, help="timed steps (default: 20; --quick: 3)")
    p.add_argument("--warmup", type=int, help="untimed warm-up steps (default: 10; --quick: 2)")
    p.add_argument("--configs", default="sample,base", help="comma-separated: sample, base (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="base runs only on CUDA")
    p.add_argument("--compile", action="store_true", help="torch.compile the training forward")
    p.add_argument("--base-shape", default="64x512",
                   help="base config micro-batch as BATCHxTOKENS (default: %(default)s; --quick: 8x256)")
    p.add_argument("--profile", action="store_true", help="log the top ops and host syncs of 3 extra steps")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    steps = args.steps or (3 if args.quick else 20)
    warmup = args.warmup or (2 if args.quick else 10)
    cuda = torch.cuda.is_available() and args.device != "cpu"
    result: dict = {"quick": args.quick, "compile": args.compile, "configs": {}}
    wanted = [c.strip() for c in args.configs.split(",") if c.strip()]

    if "sample" in wanted:
        encoder, gnn = sample_encoder()
        threads = gnn.pop("threads")
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        train = TrainConfig(batch_size=16, device="cpu", precision="fp32", compile=args.compile)
        try:
            result["configs"]["sample_cpu"] = run_config("sample_cpu", encoder, gnn, Shape(16, 64, 12, 40, 12), train,
                                                         steps=steps, warmup=warmup, profile=args.profile)
        finally:
            torch.set_num_threads(before)
        result["configs"]["sample_cpu"]["threads"] = threads or before
    if "base" in wanted:
        if cuda:
            batch, tokens = (int(v) for v in ("8x256" if args.quick else args.base_shape).split("x"))
            train = TrainConfig(batch_size=batch, device="cuda", precision="bf16", compile=args.compile)
            result["configs"]["base_gpu"] = run_config("base_gpu", BASE_ENCODER, BASE_GNN,
                                                       Shape(batch, tokens, 200, 1200, 17), train, steps=steps,
                                                       warmup=warmup, profile=args.profile)
            result["peak_bf16_tflops"] = peak_flops("cuda") and peak_flops("cuda") / 1e12
        else:
            log.info("base: no CUDA device, skipped")
    base = result["configs"].get("base_gpu")
    if base is not None:
        result["targets"] = {"mfu": TARGET_MFU, "gnn_overhead": TARGET_GNN_OVERHEAD}
        result["targets_met"] = bool((base["text"]["mfu"] or 0) >= TARGET_MFU
                                     and base["gnn_overhead"] <= TARGET_GNN_OVERHEAD)
    result["ok"] = bool(result["configs"]) and result.get("targets_met", True)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
