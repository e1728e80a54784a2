"""subgraph@<task>: grounded statements -> DRAGON-style KG subgraphs in data/graphs/<task>/.

    python stages/subgraph.py --task medqa
    python stages/subgraph.py --task hotpotqa --grounded /tmp/grounded --output /tmp/graphs --metrics -
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, params):
    if args.task not in params.grounding.tasks:
        raise ConfigError(f"unknown task {args.task!r}; grounding.tasks defines: {', '.join(params.grounding.tasks)}")
    if args.task not in params.graphs.tasks:
        raise ConfigError(f"graphs.tasks has no entry for {args.task!r} (add e.g. {args.task}: "
                          "{neighbour_fill: false} to params.yaml)")
    kg = params.grounding.tasks[args.task].kg
    overrides = {k: v for k, v in (("max_node_num", args.max_node_num), ("relevance", args.relevance)) if v}
    cfg = params.graphs.subgraph.model_copy(update=overrides)
    inputs = {"grounded": Path(args.grounded), "kg": Path(args.kg_dir or paths.kg(kg)),
              "embeddings": Path(args.embeddings or paths.embeddings(kg))}
    for name, stage in (("grounded", f"ground@{args.task}"), ("kg", f"build_kg@{kg}")):
        if not inputs[name].is_dir():
            raise ConfigError(f"{inputs[name]}: input does not exist (run {stage} first)")
    from kg_ml.graphs.build import build_subgraphs
    from kg_ml.models.pretrained import offline_profile

    return build_subgraphs(args.task, kg, cfg, inputs["grounded"], inputs["kg"], inputs["embeddings"],
                           Path(args.output), neighbour_fill=params.graphs.tasks[args.task].neighbour_fill,
                           offline=offline_profile(params.profile))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("subgraph_{task}"))
    p.add_argument("--task", required=True, help="task name, a key of grounding.tasks in params.yaml")
    p.add_argument("--grounded", default=paths.grounded("{task}"),
                   help="grounded task directory (default: %(default)s)")
    p.add_argument("--kg-dir", help=f"built graph directory (default: {paths.kg('<grounding.tasks.<task>.kg>')})")
    p.add_argument("--embeddings", help=f"concept embeddings (default: {paths.embeddings('<kg>')})")
    p.add_argument("--output", default=paths.graphs("{task}"), help="output directory (default: %(default)s)")
    p.add_argument("--max-node-num", type=_positive, help="nodes per subgraph incl. the context node "
                   "(default: graphs.subgraph.max_node_num)")
    p.add_argument("--relevance", choices=["cosine", "lm"], help="default: graphs.subgraph.relevance")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
