"""evaluate_kard: accuracy of every KARD student (KARD and its ablations) on dev/test, with
question-query retrieval and greedy or self-consistency decoding.

    python stages/evaluate_kard.py [--variants medqa medqa_no_knowledge] [--out data/kard]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml import paths
from kg_ml.cli import run, stage_parser
from kg_ml.errors import ConfigError


def main(args, all_params):
    params = all_params.kard.for_profile(all_params.profile)
    variants = args.variants or sorted(params.variants)
    if unknown := sorted(set(variants) - set(params.variants)):
        raise ConfigError(f"unknown KARD variant(s) {unknown}; params.yaml kard.variants has {sorted(params.variants)}")
    tasks = {params.variants[v].task for v in variants}
    if len(tasks) != 1:
        raise ConfigError(f"evaluate_kard scores one task at a time; variants {variants} span {sorted(tasks)}")
    task = tasks.pop()
    from kg_ml.io import atomic_dir, write_parquet
    from kg_ml.kard.infer import evaluate_kard
    from kg_ml.kard.knowledge import question_retriever

    retrieve = question_retriever(params.inference.retriever, params.passages, all_params.retrieval.retrieve,
                                  passages=Path(args.passages), bm25=Path(args.bm25), dense=Path(args.dense),
                                  reranker=Path(args.reranker))
    metrics, generations = evaluate_kard(params, {v: paths.model(f"distill_{v}") for v in variants},
                                         paths.prepared(task), Path(args.passages), retrieve)
    with atomic_dir(args.out) as tmp:
        write_parquet(generations, tmp / "generations.parquet")
    return metrics


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("kard"))
    p.add_argument("--variants", nargs="*",
                   help=f"kard.variants to score (default: all); models from {paths.model('distill_<variant>')}")
    p.add_argument("--passages", default=paths.PASSAGES, help="knowledge-base passages (default: %(default)s)")
    p.add_argument("--bm25", default=paths.BM25_INDEX, help="BM25 index (default: %(default)s)")
    p.add_argument("--dense", default=paths.DENSE_INDEX, help="dense index (default: %(default)s)")
    p.add_argument("--reranker", default=paths.model("reranker"), help="trained reranker (default: %(default)s)")
    p.add_argument("--out", default=paths.KARD_OUTPUT, help="generations directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
