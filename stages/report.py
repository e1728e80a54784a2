"""report: every metrics/*.json in one Markdown table (task × system × metric) plus a bar plot.

    python stages/report.py [--metrics-dir metrics] [--markdown reports/summary.md] [--plot reports/summary.png]
"""

from __future__ import annotations

import sys

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.report import collect_metrics, write_report


def main(args) -> None:
    params = load_params(args.params).report
    write_report(collect_metrics(args.metrics_dir, params), params, args.markdown, args.plot)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--metrics-dir", default="metrics", help="directory of metrics JSON files (default: %(default)s)")
    p.add_argument("--markdown", default="reports/summary.md", help="Markdown table (default: %(default)s)")
    p.add_argument("--plot", default="reports/summary.png", help="bar plot PNG (default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
