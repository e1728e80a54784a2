"""evaluate@kgt5: KGT5's sampled, filtered link-prediction evaluation (MRR, hits@1/3/10, head and
tail), the unfiltered greedy hits@1 and the most-frequent-answer baseline.

    python stages/evaluate_kgt5.py [--model models/kgt5] [--split test]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.kgt5.config import SPLITS


def main(args, params):
    from kg_ml.kgt5.evaluate import evaluate_kgt5

    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    return evaluate_kgt5(model_dir=Path(args.model), prepared=Path(args.prepared), split=args.split, params=kgt5,
                         predictions=Path(args.predictions), device=args.device)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("kgt5"))
    p.add_argument("--model", default=paths.model("kgt5"), help="KGT5 model directory (default: %(default)s)")
    p.add_argument("--prepared", default=paths.prepared("wikidata5m"), help="prepared KG (default: %(default)s)")
    p.add_argument("--split", default="test", choices=SPLITS, help="triples to rank (default: %(default)s)")
    p.add_argument("--predictions", default=paths.predictions("kgt5") / "{split}.parquet",
                   help="per-query Parquet (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="(default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
