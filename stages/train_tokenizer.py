"""tokenizer: train KGT5's tokenizer on the verbalised Wikidata5M training triples.

    python stages/train_tokenizer.py [--prepared data/prepared/wikidata5m] [--out models/kgt5_tokenizer]
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.kgt5.build_tokenizer import build_tokenizer


def main(args) -> None:
    params = load_params(args.params)
    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    metrics = build_tokenizer(prepared=Path(args.prepared), out_dir=Path(args.out), params=kgt5.tokenizer)
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--prepared", default="data/prepared/wikidata5m", help="prepared KG (default: %(default)s)")
    p.add_argument("--out", default="models/kgt5_tokenizer", help="tokenizer directory (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/tokenizer_kgt5.json",
                   help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
