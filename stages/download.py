"""download@<source>: fetch the raw files of one source for the active profile."""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.config import SOURCE_NAMES


def main(args, params) -> None:
    from kg_ml.download.mirror import active_mirror
    from kg_ml.download.source import download_source

    spec = params.source(args.source, args.profile)
    download_source(args.source, spec, Path(args.out), cache_dir=Path(args.cache_dir),
                    progress=not args.no_progress, mirror=active_mirror(params.download.mirror))


def parser():
    p = stage_parser(__doc__)
    p.add_argument("--source", required=True, choices=SOURCE_NAMES)
    p.add_argument("--out", default=paths.raw("{source}"), help="output directory (default: %(default)s)")
    p.add_argument("--profile", choices=["sample", "full"], help="override params.yaml's profile")
    p.add_argument("--cache-dir", default=paths.DOWNLOAD_CACHE,
                   help="where partial downloads wait to be resumed (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
