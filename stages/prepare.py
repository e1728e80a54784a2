"""prepare@<source>: parse one source's raw upstream files into Parquet tables.

Runs outside DVC too, e.g. to convert a MedQA file you downloaded yourself (its split comes
from its name, here test, or from --split):
    python stages/prepare.py --source medqa --input ~/us_test.jsonl --output /tmp/medqa
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import SOURCE_NAMES, load_params
from kg_ml.errors import ConfigError
from kg_ml.io import write_json
from kg_ml.sources import prepare_source


def main(args) -> None:
    params = load_params(args.params)
    opts = params.prepare[args.source]
    strict = opts.strict if args.strict is None else args.strict
    raw = Path(args.input or f"data/raw/{args.source}")
    out = Path(args.output or f"data/prepared/{args.source}")
    if not raw.exists():
        raise ConfigError(f"{raw}: input does not exist (run download@{args.source} first, or pass --input)")
    metrics = prepare_source(args.source, raw, out, strict=strict, split=args.split, **opts.options)
    if args.metrics != "-":
        write_json(args.metrics or f"metrics/prepare_{args.source}.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--source", required=True, choices=SOURCE_NAMES)
    p.add_argument("--input", help="raw directory or single file (default: data/raw/<source>)")
    p.add_argument("--split", help="the split a single --input file holds, for sources with a file per "
                                   "split (default: the split its name names, e.g. us_test.jsonl -> test)")
    p.add_argument("--output", help="output directory (default: data/prepared/<source>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/prepare_<source>.json; '-' for none)")
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--strict", dest="strict", action="store_true", default=None,
                        help="fail on the first bad row (default from params.yaml)")
    strict.add_argument("--no-strict", dest="strict", action="store_false",
                        help="skip bad rows and count them in the metrics")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
