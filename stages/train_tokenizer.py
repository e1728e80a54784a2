"""tokenizer: train KGT5's tokenizer on the verbalised Wikidata5M training triples.

    python stages/train_tokenizer.py [--prepared data/prepared/wikidata5m] [--out models/kgt5_tokenizer]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params):
    from kg_ml.kgt5.build_tokenizer import build_tokenizer

    kgt5 = params.text_kg.kgt5.for_profile(params.profile)
    return build_tokenizer(prepared=Path(args.prepared), out_dir=Path(args.out), params=kgt5.tokenizer)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("tokenizer_kgt5"))
    p.add_argument("--prepared", default=paths.prepared("wikidata5m"), help="prepared KG (default: %(default)s)")
    p.add_argument("--out", default=paths.model("kgt5_tokenizer"), help="tokenizer directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
