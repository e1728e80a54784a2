"""evaluate@kgqa: hits@1 of the KGQA model (greedy answer -> entity) and the template baseline.

    python stages/evaluate_kgqa.py [--model models/kgqa] [--split test]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.kgt5.evaluate import evaluate_kgqa


def main(args) -> None:
    params = load_params(args.params)
    kgqa = params.text_kg.kgqa.for_profile(params.profile)
    metrics = evaluate_kgqa(model_dir=Path(args.model), prepared_qa=Path(args.questions),
                            prepared_kg=Path(args.prepared), split=args.split, params=kgqa,
                            predictions=Path(args.predictions or f"data/predictions/kgqa/{args.split}.parquet"),
                            device=args.device)
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="models/kgqa", help="KGQA model directory (default: %(default)s)")
    p.add_argument("--questions", default="data/prepared/kgqa", help="prepared KGQA splits (default: %(default)s)")
    p.add_argument("--prepared", default="data/prepared/wikidata5m", help="prepared KG (default: %(default)s)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"), help="(default: %(default)s)")
    p.add_argument("--predictions", help="per-question Parquet (default: data/predictions/kgqa/<split>.parquet)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    p.add_argument("--metrics", default="metrics/kgqa.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
