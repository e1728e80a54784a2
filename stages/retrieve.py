"""retrieve@<task>: top-k knowledge passages per rationale (train) and per question (dev/test).

    python stages/retrieve.py --task medqa [--out data/retrieved/medqa]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, all_params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.retrieval.knowledge_base import KnowledgeBase
    from kg_ml.retrieval.reranker.infer import Reranker
    from kg_ml.retrieval.retrieve import retrieve_task

    params, rp = all_params.retrieval, all_params.retrieval.retrieve
    kb = KnowledgeBase(Path(args.passages), Path(args.bm25), Path(args.dense), batch_size=rp.batch_size,
                       offline=offline_profile(all_params.profile))
    reranker = Reranker(Path(args.reranker), batch_size=rp.batch_size, precision=rp.rerank_precision)
    return retrieve_task(
        args.task, questions_dir=Path(args.questions), rationales=Path(args.rationales),
        gold=Path(args.gold) if str(args.gold) != "-" else None, kb=kb, reranker=reranker,
        out_dir=Path(args.out), params=rp, val_fraction=params.reranker.val_fraction)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("retrieve_{task}"))
    p.add_argument("--task", default="medqa", help="task (default: %(default)s)")
    p.add_argument("--questions", default=paths.prepared("{task}"),
                   help="directory of the task's split tables (default: %(default)s)")
    p.add_argument("--rationales", default=paths.RATIONALES, help="teacher rationales (default: %(default)s)")
    p.add_argument("--gold", default=paths.GOLD_PASSAGES,
                   help="gold passages per question, used when the file exists ('-' for none; default: %(default)s)")
    p.add_argument("--passages", default=paths.PASSAGES, help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default=paths.BM25_INDEX, help="BM25 index (default: %(default)s)")
    p.add_argument("--dense", default=paths.DENSE_INDEX, help="dense index (default: %(default)s)")
    p.add_argument("--reranker", default=paths.model("reranker"), help="trained reranker (default: %(default)s)")
    p.add_argument("--out", default=paths.retrieved("{task}"), help="output directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
