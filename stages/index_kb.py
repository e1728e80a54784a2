"""index_kb: build the BM25 and dense (FAISS) indexes over the knowledge-base passages.

    python stages/index_kb.py [--passages data/prepared/knowledge_base/passages.parquet]
                              [--bm25 data/index/bm25] [--dense data/index/dense]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.retrieval.build import build_indexes

    return build_indexes(Path(args.passages), Path(args.bm25), Path(args.dense), params.retrieval.index,
                         offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("index_kb"))
    p.add_argument("--passages", default=paths.PASSAGES, help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default=paths.BM25_INDEX, help="BM25 index directory (default: %(default)s)")
    p.add_argument("--dense", default=paths.DENSE_INDEX, help="dense index directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
