"""train_reranker: train KARD's passage reranker on teacher-rationale BM25 targets.

    python stages/train_reranker.py [--task medqa] [--out models/reranker]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json


def main(args) -> None:
    # imported here so that --help answers without loading torch
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.retrieval.reranker.train import train_reranker
    from kg_ml.retrieval.runtime import set_cpu_threads
    all_params = load_params(args.params)
    set_cpu_threads(all_params.retrieval.cpu_threads)
    params = all_params.retrieval.reranker
    metrics = train_reranker(
        bm25_dir=Path(args.bm25), passages=Path(args.passages),
        questions=Path(args.questions or f"data/prepared/{args.task}/train.parquet"),
        rationales=Path(args.rationales), out_dir=Path(args.out), params=params,
        checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots),
        offline=offline_profile(all_params.profile))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--task", default="medqa", help="task whose train questions and rationales to use (default: %(default)s)")
    p.add_argument("--questions", help="train questions table (default: data/prepared/<task>/train.parquet)")
    p.add_argument("--rationales", default="data/prepared/rationales/rationales.parquet",
                   help="teacher rationales (default: %(default)s)")
    p.add_argument("--passages", default="data/prepared/knowledge_base/passages.parquet",
                   help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default="data/index/bm25", help="BM25 index (default: %(default)s)")
    p.add_argument("--out", default="models/reranker", help="model directory (default: %(default)s)")
    p.add_argument("--checkpoints", default="checkpoints/reranker",
                   help="resumable checkpoints (default: %(default)s)")
    p.add_argument("--plots", default="plots/train_reranker", help="DVCLive step metrics (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/train_reranker.json",
                   help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
