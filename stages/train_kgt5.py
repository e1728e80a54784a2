"""train@kgt5: train T5 from scratch on KG completion (KGT5) over the verbalised training triples.

    python stages/train_kgt5.py [--tokenizer models/kgt5_tokenizer] [--out models/kgt5]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.kgt5.train import train_kgt5

    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    return train_kgt5(prepared=Path(args.prepared), tokenizer_dir=Path(args.tokenizer), out_dir=Path(args.out),
                      params=kgt5, checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("train_kgt5"))
    p.add_argument("--prepared", default=paths.prepared("wikidata5m"), help="prepared KG (default: %(default)s)")
    p.add_argument("--tokenizer", default=paths.model("kgt5_tokenizer"),
                   help="tokenizer directory (default: %(default)s)")
    add_training_outputs(p, "kgt5", plots="train_kgt5")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
