"""evaluate@hotpotqa: EM/F1 (official SQuAD/MRQA normalisation) of the span model on a split,
with the first-entity-in-context baseline scored by the same evaluator.

    python stages/evaluate_hotpotqa.py [--model models/hotpotqa] [--split test]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params):
    from kg_ml.qa.evaluate import evaluate_hotpotqa

    qa = params.text_kg.hotpotqa.for_profile(params.profile)
    return evaluate_hotpotqa(model_dir=Path(args.model), table=Path(args.table), params=qa, device=args.device,
                             predictions=Path(args.predictions))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("hotpotqa"))
    p.add_argument("--model", default=paths.model("hotpotqa"), help="span model directory (default: %(default)s)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"), help="(default: %(default)s)")
    p.add_argument("--table", default=paths.prepared("hotpotqa") / "{split}.parquet",
                   help="a prepared HotpotQA table (default: %(default)s)")
    p.add_argument("--predictions", default=paths.predictions("hotpotqa") / "{split}.parquet",
                   help="per-question Parquet (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
