"""build_kg@<kg>: a prepared graph -> data/kg/<kg>/ (pruned edges, node texts, matcher vocabulary).

    python stages/build_kg.py --kg conceptnet
    python stages/build_kg.py --kg conceptnet --input /tmp/prepared_cn --output /tmp/kg --metrics -
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, params):
    if args.kg not in params.grounding.kg:
        raise ConfigError(f"unknown graph {args.kg!r}; grounding.kg defines: {', '.join(params.grounding.kg)}")
    cfg = params.grounding.kg[args.kg]
    prepared = Path(args.input or paths.prepared(cfg.source))
    if not prepared.is_dir():
        raise ConfigError(f"{prepared}: input does not exist (run prepare@{cfg.source} first, or pass --input)")
    from kg_ml.kg.build import build_kg  # spaCy loads here: --help and config errors stay instant

    return build_kg(cfg, prepared, Path(args.output))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("build_kg_{kg}"))
    p.add_argument("--kg", required=True, help="graph name, a key of grounding.kg in params.yaml")
    p.add_argument("--input",
                   help=f"prepared graph directory (default: {paths.prepared('<grounding.kg.<kg>.source>')})")
    p.add_argument("--output", default=paths.kg("{kg}"), help="output directory (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
