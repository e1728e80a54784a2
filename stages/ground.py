"""ground@<task>: link every statement of a QA task to concepts of its graph -> data/grounded/<task>/.

    python stages/ground.py --task medqa
    python stages/ground.py --task hotpotqa --input /tmp/hotpot_prepared --output /tmp/grounded --metrics -
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, params):
    if args.task not in params.grounding.tasks:
        raise ConfigError(f"unknown task {args.task!r}; grounding.tasks defines: {', '.join(params.grounding.tasks)}")
    cfg = params.grounding.tasks[args.task]
    if args.abbreviations is not None:
        cfg = cfg.model_copy(update={"abbreviations": args.abbreviations})
    prepared = Path(args.input)
    kg_dir = Path(args.kg_dir or paths.kg(cfg.kg))
    for path, stage in ((prepared, f"prepare@{args.task}"), (kg_dir, f"build_kg@{cfg.kg}")):
        if not path.is_dir():
            raise ConfigError(f"{path}: input does not exist (run {stage} first)")
    from kg_ml.grounding.run import ground_task  # spaCy loads here: --help and config errors stay instant

    return ground_task(args.task, cfg, prepared, kg_dir, Path(args.output))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("ground_{task}"))
    p.add_argument("--task", required=True, help="task name, a key of grounding.tasks in params.yaml")
    p.add_argument("--input", default=paths.prepared("{task}"),
                   help="prepared task directory (default: %(default)s)")
    p.add_argument("--kg-dir", help=f"built graph directory (default: {paths.kg('<grounding.tasks.<task>.kg>')})")
    p.add_argument("--output", default=paths.grounded("{task}"), help="output directory (default: %(default)s)")
    abbr = p.add_mutually_exclusive_group()
    abbr.add_argument("--abbreviations", dest="abbreviations", action="store_true", default=None,
                      help="expand abbreviations with scispaCy (default from params.yaml)")
    abbr.add_argument("--no-abbreviations", dest="abbreviations", action="store_false")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
