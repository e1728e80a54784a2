"""retrieve@<task>: top-k knowledge passages per rationale (train) and per question (dev/test).

    python stages/retrieve.py --task medqa [--out data/retrieved/medqa]
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
    from kg_ml.retrieval.knowledge_base import KnowledgeBase
    from kg_ml.retrieval.reranker.infer import Reranker
    from kg_ml.retrieval.retrieve import retrieve_task
    from kg_ml.retrieval.runtime import set_cpu_threads
    all_params = load_params(args.params)
    set_cpu_threads(all_params.retrieval.cpu_threads)
    params, rp = all_params.retrieval, all_params.retrieval.retrieve
    kb = KnowledgeBase(Path(args.passages), Path(args.bm25), Path(args.dense), batch_size=rp.batch_size,
                       offline=offline_profile(all_params.profile))
    reranker = Reranker(Path(args.reranker), batch_size=rp.batch_size, precision=rp.rerank_precision)
    metrics = retrieve_task(
        args.task, questions_dir=Path(args.questions or f"data/prepared/{args.task}"),
        rationales=Path(args.rationales), gold=Path(args.gold) if args.gold != "-" else None, kb=kb,
        reranker=reranker, out_dir=Path(args.out or f"data/retrieved/{args.task}"), params=rp,
        val_fraction=params.reranker.val_fraction)
    if args.metrics != "-":
        write_json(args.metrics or f"metrics/retrieve_{args.task}.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--task", default="medqa", help="task (default: %(default)s)")
    p.add_argument("--questions", help="directory of the task's split tables (default: data/prepared/<task>)")
    p.add_argument("--rationales", default="data/prepared/rationales/rationales.parquet",
                   help="teacher rationales (default: %(default)s)")
    p.add_argument("--gold", default="data/prepared/knowledge_base/gold_passages.parquet",
                   help="gold passages per question, used when the file exists ('-' for none; default: %(default)s)")
    p.add_argument("--passages", default="data/prepared/knowledge_base/passages.parquet",
                   help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default="data/index/bm25", help="BM25 index (default: %(default)s)")
    p.add_argument("--dense", default="data/index/dense", help="dense index (default: %(default)s)")
    p.add_argument("--reranker", default="models/reranker", help="trained reranker (default: %(default)s)")
    p.add_argument("--out", help="output directory (default: data/retrieved/<task>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/retrieve_<task>.json; '-' for none)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
