"""evaluate@hotpotqa: EM/F1 (official SQuAD/MRQA normalisation) of the span model on a split,
with the first-entity-in-context baseline scored by the same evaluator.

    python stages/evaluate_hotpotqa.py [--model models/hotpotqa] [--split test]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.qa.evaluate import evaluate_hotpotqa


def main(args) -> None:
    params = load_params(args.params)
    qa = params.text_kg.hotpotqa.for_profile(params.profile)
    table = Path(args.table or f"data/prepared/hotpotqa/{args.split}.parquet")
    metrics = evaluate_hotpotqa(model_dir=Path(args.model), table=table, params=qa, device=args.device,
                                predictions=Path(args.predictions or f"data/predictions/hotpotqa/{args.split}.parquet"))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="models/hotpotqa", help="span model directory (default: %(default)s)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"), help="(default: %(default)s)")
    p.add_argument("--table", help="a prepared HotpotQA table (default: data/prepared/hotpotqa/<split>.parquet)")
    p.add_argument("--predictions", help="per-question Parquet (default: data/predictions/hotpotqa/<split>.parquet)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    p.add_argument("--metrics", default="metrics/hotpotqa.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
