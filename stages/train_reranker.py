"""train_reranker: train KARD's passage reranker on teacher-rationale BM25 targets.

    python stages/train_reranker.py [--task medqa] [--out models/reranker]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.retrieval.reranker.train import train_reranker

    return train_reranker(
        bm25_dir=Path(args.bm25), passages=Path(args.passages), questions=Path(args.questions),
        rationales=Path(args.rationales), out_dir=Path(args.out), params=params.retrieval.reranker,
        checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots), offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("train_reranker"))
    p.add_argument("--task", default="medqa", help="task whose train questions and rationales to use (default: %(default)s)")
    p.add_argument("--questions", default=paths.prepared("{task}") / "train.parquet",
                   help="train questions table (default: %(default)s)")
    p.add_argument("--rationales", default=paths.RATIONALES, help="teacher rationales (default: %(default)s)")
    p.add_argument("--passages", default=paths.PASSAGES, help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default=paths.BM25_INDEX, help="BM25 index (default: %(default)s)")
    add_training_outputs(p, "reranker", plots="train_reranker")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
