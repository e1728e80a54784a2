"""evaluate@kgqa: hits@1 of the KGQA model (greedy answer -> entity) and the template baseline.

    python stages/evaluate_kgqa.py [--model models/kgqa] [--split test]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params):
    from kg_ml.kgt5.evaluate import evaluate_kgqa

    kgqa = params.text_kg.kgqa.for_profile(params.profile)
    return evaluate_kgqa(model_dir=Path(args.model), prepared_qa=Path(args.questions),
                         prepared_kg=Path(args.prepared), split=args.split, params=kgqa,
                         predictions=Path(args.predictions), device=args.device)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("kgqa"))
    p.add_argument("--model", default=paths.model("kgqa"), help="KGQA model directory (default: %(default)s)")
    p.add_argument("--questions", default=paths.prepared("kgqa"), help="prepared KGQA splits (default: %(default)s)")
    p.add_argument("--prepared", default=paths.prepared("wikidata5m"), help="prepared KG (default: %(default)s)")
    p.add_argument("--split", default="test", choices=("train", "dev", "test"), help="(default: %(default)s)")
    p.add_argument("--predictions", default=paths.predictions("kgqa") / "{split}.parquet",
                   help="per-question Parquet (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
