"""download@<source>: fetch the raw files of one source for the active profile."""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import SOURCE_NAMES, load_params
from kg_ml.download.source import download_source


def main(args) -> None:
    params = load_params(args.params)
    spec = params.source(args.source, args.profile)
    out = Path(args.out or f"data/raw/{args.source}")
    download_source(args.source, spec, out, cache_dir=Path(args.cache_dir), progress=not args.no_progress)


def parser():
    p = stage_parser(__doc__)
    p.add_argument("--source", required=True, choices=SOURCE_NAMES)
    p.add_argument("--out", help="output directory (default: data/raw/<source>)")
    p.add_argument("--profile", choices=["sample", "full"], help="override params.yaml's profile")
    p.add_argument("--cache-dir", default="data/.download-cache",
                   help="where partial downloads wait to be resumed (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
