"""finetune@hotpotqa: train an encoder with a span head on MRQA HotpotQA (LinkBERT's recipe).

    python stages/finetune_hotpotqa.py [--train data/prepared/hotpotqa/train.parquet] [--out models/hotpotqa]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.qa.train import finetune_hotpotqa

    qa = params.text_kg.hotpotqa.for_profile(params.profile)
    return finetune_hotpotqa(train_path=Path(args.train), dev_path=Path(args.dev), out_dir=Path(args.out),
                             params=qa, profile=params.profile, checkpoint_dir=Path(args.checkpoints),
                             log_dir=Path(args.plots))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("finetune_hotpotqa"))
    p.add_argument("--train", default=paths.prepared("hotpotqa") / "train.parquet",
                   help="training split (default: %(default)s)")
    p.add_argument("--dev", default=paths.prepared("hotpotqa") / "dev.parquet",
                   help="split that selects the checkpoint by F1 (default: %(default)s)")
    add_training_outputs(p, "hotpotqa", plots="finetune_hotpotqa")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
