"""evaluate_kard: accuracy of every KARD student (KARD and its ablations) on dev/test, with the
passages retrieve@<task> ranked for each question and greedy or self-consistency decoding.

    python stages/evaluate_kard.py [--variants medqa medqa_no_knowledge] [--out data/kard]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, all_params):
    params = all_params.kard.for_profile(all_params.profile)
    variants = args.variants or sorted(params.variants)
    if unknown := sorted(set(variants) - set(params.variants)):
        raise ConfigError(f"unknown KARD variant(s) {unknown}; params.yaml kard.variants has {sorted(params.variants)}")
    tasks = {params.variants[v].task for v in variants}
    if len(tasks) != 1:
        raise ConfigError(f"evaluate_kard scores one task at a time; variants {variants} span {sorted(tasks)}")
    task = tasks.pop()
    from kg_ml.io import atomic_dir, write_parquet
    from kg_ml.kard.infer import evaluate_kard
    from kg_ml.kard.knowledge import retrieved_knowledge

    retrieve = retrieved_knowledge(Path(args.retrieved or paths.retrieved(task)), params.inference.retriever,
                                   params.passages)
    metrics, generations = evaluate_kard(params, {v: paths.model(f"distill_{v}") for v in variants},
                                         paths.prepared(task), Path(args.passages), retrieve)
    with atomic_dir(args.out) as tmp:
        write_parquet(generations, tmp / "generations.parquet")
    return metrics


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("kard"))
    p.add_argument("--variants", nargs="*",
                   help=f"kard.variants to score (default: all); models from {paths.model('distill_<variant>')}")
    p.add_argument("--passages", default=paths.PASSAGES, help="knowledge-base passages (default: %(default)s)")
    p.add_argument("--retrieved", default=None,
                   help=f"retrieve@<task>'s rankings, <split>.parquet (default: {paths.retrieved('<task>')})")
    p.add_argument("--out", default=paths.KARD_OUTPUT, help="generations directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
