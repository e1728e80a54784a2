"""train@kgt5: train T5 from scratch on KG completion (KGT5) over the verbalised training triples.

    python stages/train_kgt5.py [--tokenizer models/kgt5_tokenizer] [--out models/kgt5]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.kgt5.train import train_kgt5


def main(args) -> None:
    params = load_params(args.params)
    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    metrics = train_kgt5(prepared=Path(args.prepared), tokenizer_dir=Path(args.tokenizer), out_dir=Path(args.out),
                         params=kgt5, checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--prepared", default="data/prepared/wikidata5m", help="prepared KG (default: %(default)s)")
    p.add_argument("--tokenizer", default="models/kgt5_tokenizer", help="tokenizer directory (default: %(default)s)")
    p.add_argument("--out", default="models/kgt5", help="model directory (default: %(default)s)")
    p.add_argument("--checkpoints", default="checkpoints/kgt5", help="resumable checkpoints (default: %(default)s)")
    p.add_argument("--plots", default="plots/train_kgt5", help="DVCLive step metrics (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/train_kgt5.json",
                   help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
