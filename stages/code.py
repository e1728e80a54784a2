"""code: fingerprint the kg_ml code each stage script runs (stages/code.yaml) into data/code/<script>.sha256.

    python stages/code.py [--spec stages/code.yaml] [--out data/code]

Every other stage depends on its script's fingerprint (kg_ml/code_fingerprints.py has why).
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser

HERE = Path(__file__).resolve()


def main(args, params) -> None:
    from kg_ml.code_fingerprints import write_fingerprints

    write_fingerprints(args.spec, HERE.parents[1], HERE.parent, args.out, own=HERE.stem)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--spec", default=paths.CODE_SPEC, help="what each script imports (default: %(default)s)")
    p.add_argument("--out", default=paths.CODE, help="fingerprint directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
