"""Fill a download mirror from the upstream URLs (on a machine with internet access).

    python -m kg_ml.download --mirror-to DIR [--profile full] [--source NAME ...]

writes every http(s) file of the chosen sources into DIR under the mirror layout
``DIR/<host>/<path>`` (`kg_ml.download.mirror`), resuming partial files and checking the sha256s
params.yaml gives, and lists the sources that need a manual download. Then, where the pipeline
runs, serve or copy DIR and point ``KG_ML_MIRROR`` (or params ``download.mirror``) at it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import SOURCE_NAMES
from kg_ml.errors import KgMlError


def main(args, params) -> None:
    from kg_ml.download.mirror import fill_mirror

    directory = Path(args.mirror_to).expanduser().absolute()
    sources = list(dict.fromkeys(args.source or SOURCE_NAMES))
    report = fill_mirror(directory, params, args.profile, sources, progress=not args.no_progress)
    print(f"{directory}: {len(report.written)} files written, {len(report.present)} already present, "
          f"{len(report.failed)} failed ({args.profile} profile, sources: {', '.join(sources)})")
    if report.manual:
        print(f"need a manual download (not mirrored): {', '.join(report.manual)}")
    print(f"use it where the pipeline runs: KG_ML_MIRROR={directory} dvc repro "
          f"(or params download.mirror; an http(s) server of the directory works too)")
    if report.failed:
        total = len(report.failed) + len(report.written) + len(report.present)
        raise KgMlError(f"{len(report.failed)} of {total} files failed (listed above); "
                        "run the command again to resume them")


def parser():
    p = stage_parser(__doc__.split("\n\n")[0])
    p.prog = "python -m kg_ml.download"
    p.add_argument("--mirror-to", required=True, metavar="DIR",
                   help="the mirror directory to fill (created if missing; files already there are kept)")
    p.add_argument("--profile", choices=["sample", "full"], default="full",
                   help="whose file lists to mirror (default: %(default)s; the sample has no http(s) files)")
    p.add_argument("--source", nargs="+", action="extend", choices=SOURCE_NAMES, metavar="NAME",
                   help=f"only these sources (default: all of {', '.join(SOURCE_NAMES)})")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
