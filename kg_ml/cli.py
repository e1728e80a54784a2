"""Shared plumbing for the stage CLIs: logging, argument defaults and one-line failures."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from kg_ml.errors import KgMlError


def stage_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every stage shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def run(main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser,
        argv: Sequence[str] | None = None) -> int:
    """Parse args, set up logging and run ``main``; expected failures print one line and exit 1."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        main(args)
    except KgMlError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
