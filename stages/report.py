"""report: every metrics/*.json in one Markdown table (task × system × metric) plus a bar plot.

    python stages/report.py [--metrics-dir metrics] [--markdown reports/summary.md] [--plot reports/summary.png]
"""

from __future__ import annotations

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params) -> None:
    from kg_ml.report import collect_metrics, write_report

    write_report(collect_metrics(args.metrics_dir, params.report), params.report, args.markdown, args.plot)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--metrics-dir", default=paths.METRICS, help="directory of metrics JSON files (default: %(default)s)")
    p.add_argument("--markdown", default=paths.REPORTS / "summary.md", help="Markdown table (default: %(default)s)")
    p.add_argument("--plot", default=paths.REPORTS / "summary.png", help="bar plot PNG (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
