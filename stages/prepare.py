"""prepare@<source>: parse one source's raw upstream files into Parquet tables.

Runs outside DVC too, e.g. to convert a MedQA file you downloaded yourself (its split comes
from its name, here test, or from --split):
    python stages/prepare.py --source medqa --input ~/us_test.jsonl --output /tmp/medqa
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.config import SOURCE_NAMES
from kg_ml.errors import ConfigError


def main(args, params):
    from kg_ml.sources import prepare_source

    opts = params.prepare[args.source]
    strict = opts.strict if args.strict is None else args.strict
    raw = Path(args.input)
    if not raw.exists():
        raise ConfigError(f"{raw}: input does not exist (run download@{args.source} first, or pass --input)")
    return prepare_source(args.source, raw, Path(args.output), strict=strict, split=args.split, **opts.options)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("prepare_{source}"))
    p.add_argument("--source", required=True, choices=SOURCE_NAMES)
    p.add_argument("--input", default=paths.raw("{source}"),
                   help="raw directory or single file (default: %(default)s)")
    p.add_argument("--split", help="the split a single --input file holds, for sources with a file per "
                                   "split (default: the split its name names, e.g. us_test.jsonl -> test)")
    p.add_argument("--output", default=paths.prepared("{source}"), help="output directory (default: %(default)s)")
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--strict", dest="strict", action="store_true", default=None,
                        help="fail on the first bad row (default from params.yaml)")
    strict.add_argument("--no-strict", dest="strict", action="store_false",
                        help="skip bad rows and count them in the metrics")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
