"""index_kb: build the BM25 and dense (FAISS) indexes over the knowledge-base passages.

    python stages/index_kb.py [--passages data/prepared/knowledge_base/passages.parquet]
                              [--bm25 data/index/bm25] [--dense data/index/dense]
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
    from kg_ml.retrieval.build import build_indexes
    from kg_ml.retrieval.runtime import set_cpu_threads
    params = load_params(args.params)
    set_cpu_threads(params.retrieval.cpu_threads)
    metrics = build_indexes(Path(args.passages), Path(args.bm25), Path(args.dense), params.retrieval.index,
                            offline=offline_profile(params.profile))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--passages", default="data/prepared/knowledge_base/passages.parquet",
                   help="passages table (default: %(default)s)")
    p.add_argument("--bm25", default="data/index/bm25", help="BM25 index directory (default: %(default)s)")
    p.add_argument("--dense", default="data/index/dense", help="dense index directory (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/index_kb.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
