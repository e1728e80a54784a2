"""distill@<variant>: train a KARD student (or one of its ablations) on teacher rationales.

    python stages/distill_medqa.py --variant medqa              # KARD: knowledge + rationale
    python stages/distill_medqa.py --variant medqa_no_knowledge # reasoning distillation only
    python stages/distill_medqa.py --variant medqa_answer_only  # plain finetuning on answers
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.io import write_json
from kg_ml.kard.distill import DistillInputs, distill


def main(args) -> None:
    all_params = load_params(args.params)
    params = all_params.kard.for_profile(all_params.profile)
    if args.variant not in params.variants:
        raise ConfigError(f"unknown KARD variant {args.variant!r}; params.yaml kard.variants has {sorted(params.variants)}")
    task = params.variants[args.variant].task
    inputs = DistillInputs(questions=Path(f"data/prepared/{task}/train.parquet"),
                           rationales=Path(args.rationales), retrieved=Path(f"data/retrieved/{task}/train.parquet"),
                           passages=Path(args.passages))
    name = f"distill_{args.variant}"
    metrics = distill(args.variant, params, inputs, out_dir=Path(args.out or f"models/{name}"),
                      checkpoint_dir=Path(f"checkpoints/{name}"), log_dir=Path(f"plots/{name}"))
    write_json(args.metrics or f"metrics/{name}.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--variant", default="medqa", help="key of kard.variants in params.yaml (default: %(default)s)")
    p.add_argument("--rationales", default="data/prepared/rationales/rationales.parquet",
                   help="teacher rationales (default: %(default)s)")
    p.add_argument("--passages", default="data/prepared/knowledge_base/passages.parquet",
                   help="knowledge-base passages (default: %(default)s)")
    p.add_argument("--out", help="model directory (default: models/distill_<variant>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/distill_<variant>.json)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
