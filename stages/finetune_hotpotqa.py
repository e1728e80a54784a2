"""finetune@hotpotqa: train an encoder with a span head on MRQA HotpotQA (LinkBERT's recipe).

    python stages/finetune_hotpotqa.py [--train data/prepared/hotpotqa/train.parquet] [--out models/hotpotqa]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.qa.train import finetune_hotpotqa


def main(args) -> None:
    params = load_params(args.params)
    qa = params.text_kg.hotpotqa.for_profile(params.profile)
    metrics = finetune_hotpotqa(train_path=Path(args.train), dev_path=Path(args.dev), out_dir=Path(args.out),
                                params=qa, profile=params.profile, checkpoint_dir=Path(args.checkpoints),
                                log_dir=Path(args.plots))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--train", default="data/prepared/hotpotqa/train.parquet", help="training split (default: %(default)s)")
    p.add_argument("--dev", default="data/prepared/hotpotqa/dev.parquet",
                   help="split that selects the checkpoint by F1 (default: %(default)s)")
    p.add_argument("--out", default="models/hotpotqa", help="model directory (default: %(default)s)")
    p.add_argument("--checkpoints", default="checkpoints/hotpotqa", help="resumable checkpoints (default: %(default)s)")
    p.add_argument("--plots", default="plots/finetune_hotpotqa", help="DVCLive step metrics (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/finetune_hotpotqa.json",
                   help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
