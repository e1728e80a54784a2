"""Benchmark KGT5's evaluation decoding: queries/s of batched greedy decoding, sampling and
summed-log-prob scoring.

    python bench/kgt5_eval.py [--quick] [--model DIR] [--size tiny|small] [--queries N]
                              [--num-samples N] [--batch-size N] [--device auto|cpu|cuda]

Without ``--model`` a T5 of ``--size`` (tiny: the sample profile's config; small: T5-small, as
KGT5) is initialised at random over a BPE tokenizer trained on synthetic entity names; random
weights decode as slowly as trained ones, except that a trained model stops earlier (``</s>``)
and samples fewer distinct strings, so the figures here are a lower bound for a trained model
with the same ``max_new_tokens``. Prints progress, then as the last stdout line one JSON object:
``greedy_queries_per_s``, ``sample_queries_per_s`` (sampling ``num_samples`` strings per query),
``score_queries_per_s`` (teacher-forced log-probs of ``num_samples`` candidates per query) and
``eval_queries_per_s`` (sample + score: evaluate@kgt5's per-query cost) with the settings and ``ok``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

SIZES = {
    "tiny": dict(d_model=128, d_ff=512, d_kv=32, num_heads=4, num_layers=2, num_decoder_layers=2, dropout_rate=0.0),
    "small": dict(d_model=512, d_ff=2048, d_kv=64, num_heads=8, num_layers=6, num_decoder_layers=6, dropout_rate=0.0),
}
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vol", "su", "dor", "en", "ia", "th", "ber", "gan", "ul", "ose"]


def say(msg: str) -> None:
    print(msg, flush=True)


def _names(rng: random.Random, n: int) -> list[str]:
    word = lambda: "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()  # noqa: E731
    return list(dict.fromkeys(f"{word()} {word()}" for _ in range(n * 2)))[:n]


def _setup(args):
    import numpy as np
    import torch

    from kg_ml.kgt5.config import T5Size, TokenizerParams
    from kg_ml.kgt5.model import load_t5, new_t5
    from kg_ml.kgt5.tokenizer import train_tokenizer
    from kg_ml.kgt5.verbalize import TAIL, Verbaliser, verbalised_pairs
    from kg_ml.training.distributed import resolve_device

    rng = random.Random(0)
    entities, relations = _names(rng, 2000), [f"relation {i}" for i in range(30)]
    if args.model:
        model, tokenizer = load_t5(args.model)
    else:
        triples = np.array([[rng.randrange(len(entities)), rng.randrange(len(relations)), rng.randrange(len(entities))]
                            for _ in range(5000)])
        texts = [s for p in verbalised_pairs(triples, entities, relations) for s in p]
        tokenizer = train_tokenizer(texts, TokenizerParams(vocab_size=2000 if args.size == "tiny" else 8000))
        torch.manual_seed(0)
        model = new_t5(T5Size(**SIZES[args.size]), tokenizer)
    model.to(resolve_device(args.device)).eval()
    verb = Verbaliser(tokenizer, entities, relations, max_input_length=64, max_target_length=args.max_new_tokens)
    queries = [verb.query(TAIL, rng.randrange(len(entities)), rng.randrange(len(relations)))
               for _ in range(args.queries)]
    answers = [[verb.target(rng.randrange(len(entities))) for _ in range(args.num_samples)] for _ in queries]
    return model, tokenizer, queries, answers


def _timed(fn):
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny model, 64 queries, 16 samples")
    p.add_argument("--model", type=Path, help="a trained KGT5 directory (default: random weights of --size)")
    p.add_argument("--size", choices=sorted(SIZES), default="tiny")
    p.add_argument("--queries", type=int, default=512)
    p.add_argument("--num-samples", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-new-tokens", type=int, default=16)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    args = p.parse_args()
    if args.quick:
        args.size, args.queries, args.num_samples = "tiny", 64, 16

    from kg_ml.kgt5.generate import greedy, sample, sequence_log_probs

    model, tokenizer, queries, answers = _setup(args)
    device = str(next(model.parameters()).device)
    say(f"{len(queries)} queries, {args.num_samples} samples each, batch {args.batch_size}, {device}")
    kw = dict(batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    t_greedy = _timed(lambda: greedy(model, tokenizer, queries, **kw))
    say(f"greedy: {len(queries) / t_greedy:.1f} queries/s")
    t_sample = _timed(lambda: sample(model, tokenizer, queries, num_samples=args.num_samples, temperature=1.0,
                                     top_k=None, seed=0, **kw))
    say(f"sample: {len(queries) / t_sample:.1f} queries/s")
    t_score = _timed(lambda: sequence_log_probs(model, tokenizer, queries, answers, batch_size=args.batch_size))
    say(f"score: {len(queries) / t_score:.1f} queries/s")
    n = len(queries)
    print(json.dumps({
        "model": str(args.model) if args.model else args.size, "device": device, "queries": n,
        "num_samples": args.num_samples, "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
        "parameters": sum(p.numel() for p in model.parameters()),
        "greedy_queries_per_s": round(n / t_greedy, 2), "sample_queries_per_s": round(n / t_sample, 2),
        "score_queries_per_s": round(n / t_score, 2), "eval_queries_per_s": round(n / (t_sample + t_score), 2),
        "ok": True}))


if __name__ == "__main__":
    main()
