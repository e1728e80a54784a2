"""``python -m kg_ml.sample --out DIR --seed 0``: regenerate the bundled sample world."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kg_ml.sample.generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kg_ml.sample",
        description="Generate the synthetic sample world in the raw upstream formats "
                    "(deterministic: the same seed reproduces the files byte for byte).")
    parser.add_argument("--out", type=Path, default=Path("data/sample"),
                        help="output directory, replaced atomically (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.out, args.seed)
    for path in sorted(p for p in args.out.rglob("*") if p.is_file()):
        logging.info("%8d  %s", path.stat().st_size, path.relative_to(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
