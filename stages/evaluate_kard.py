"""evaluate@kard: accuracy of every KARD student (KARD and its ablations) on dev/test, with
question-query retrieval and greedy or self-consistency decoding.

    python stages/evaluate_kard.py [--variants medqa medqa_no_knowledge] [--out data/kard]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.io import atomic_dir, write_json, write_parquet
from kg_ml.kard.infer import evaluate_kard
from kg_ml.kard.knowledge import question_retriever


def main(args) -> None:
    all_params = load_params(args.params)
    params = all_params.kard.for_profile(all_params.profile)
    variants = args.variants or sorted(params.variants)
    if unknown := sorted(set(variants) - set(params.variants)):
        raise ConfigError(f"unknown KARD variant(s) {unknown}; params.yaml kard.variants has {sorted(params.variants)}")
    tasks = {params.variants[v].task for v in variants}
    if len(tasks) != 1:
        raise ConfigError(f"evaluate@kard scores one task at a time; variants {variants} span {sorted(tasks)}")
    task = tasks.pop()
    retrieve = question_retriever(params.inference.retriever, params.passages, all_params.retrieval.retrieve,
                                  passages=Path(args.passages), bm25=Path(args.bm25), dense=Path(args.dense),
                                  reranker=Path(args.reranker))
    metrics, generations = evaluate_kard(params, {v: Path(f"models/distill_{v}") for v in variants},
                                         Path(f"data/prepared/{task}"), Path(args.passages), retrieve)
    with atomic_dir(args.out) as tmp:
        write_parquet(generations, tmp / "generations.parquet")
    write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="*", help="kard.variants to score (default: all); models from models/distill_<variant>")
    p.add_argument("--passages", default="data/prepared/knowledge_base/passages.parquet",
                   help="knowledge-base passages (default: %(default)s)")
    p.add_argument("--bm25", default="data/index/bm25", help="BM25 index (default: %(default)s)")
    p.add_argument("--dense", default="data/index/dense", help="dense index (default: %(default)s)")
    p.add_argument("--reranker", default="models/reranker", help="trained reranker (default: %(default)s)")
    p.add_argument("--out", default="data/kard", help="generations directory (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/kard.json", help="metrics JSON (default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
