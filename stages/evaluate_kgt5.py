"""evaluate@kgt5: KGT5's sampled, filtered link-prediction evaluation (MRR, hits@1/3/10, head and
tail), the unfiltered greedy hits@1 and the most-frequent-answer baseline.

    python stages/evaluate_kgt5.py [--model models/kgt5] [--split test]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.kgt5.evaluate import evaluate_kgt5
from kg_ml.kgt5.kg import SPLITS


def main(args) -> None:
    params = load_params(args.params)
    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    metrics = evaluate_kgt5(model_dir=Path(args.model), prepared=Path(args.prepared), split=args.split, params=kgt5,
                            predictions=Path(args.predictions or f"data/predictions/kgt5/{args.split}.parquet"),
                            device=args.device)
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="models/kgt5", help="KGT5 model directory (default: %(default)s)")
    p.add_argument("--prepared", default="data/prepared/wikidata5m", help="prepared KG (default: %(default)s)")
    p.add_argument("--split", default="test", choices=SPLITS, help="triples to rank (default: %(default)s)")
    p.add_argument("--predictions", help="per-query Parquet (default: data/predictions/kgt5/<split>.parquet)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    p.add_argument("--metrics", default="metrics/kgt5.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
