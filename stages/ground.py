"""ground@<task>: link every statement of a QA task to concepts of its graph -> data/grounded/<task>/.

    python stages/ground.py --task medqa
    python stages/ground.py --task hotpotqa --input /tmp/hotpot_prepared --output /tmp/grounded --metrics -
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.io import write_json


def main(args) -> None:
    params = load_params(args.params)
    if args.task not in params.grounding.tasks:
        raise ConfigError(f"unknown task {args.task!r}; grounding.tasks defines: {', '.join(params.grounding.tasks)}")
    cfg = params.grounding.tasks[args.task]
    if args.abbreviations is not None:
        cfg = cfg.model_copy(update={"abbreviations": args.abbreviations})
    prepared = Path(args.input or f"data/prepared/{args.task}")
    kg_dir = Path(args.kg_dir or f"data/kg/{cfg.kg}")
    for path, stage in ((prepared, f"prepare@{args.task}"), (kg_dir, f"build_kg@{cfg.kg}")):
        if not path.is_dir():
            raise ConfigError(f"{path}: input does not exist (run {stage} first)")
    from kg_ml.grounding.run import ground_task  # spaCy loads here: --help and config errors stay instant

    metrics = ground_task(args.task, cfg, prepared, kg_dir, Path(args.output or f"data/grounded/{args.task}"))
    if args.metrics != "-":
        write_json(args.metrics or f"metrics/ground_{args.task}.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--task", required=True, help="task name, a key of grounding.tasks in params.yaml")
    p.add_argument("--input", help="prepared task directory (default: data/prepared/<task>)")
    p.add_argument("--kg-dir", help="built graph directory (default: data/kg/<grounding.tasks.<task>.kg>)")
    p.add_argument("--output", help="output directory (default: data/grounded/<task>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/ground_<task>.json; '-' for none)")
    abbr = p.add_mutually_exclusive_group()
    abbr.add_argument("--abbreviations", dest="abbreviations", action="store_true", default=None,
                      help="expand abbreviations with scispaCy (default from params.yaml)")
    abbr.add_argument("--no-abbreviations", dest="abbreviations", action="store_false")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
