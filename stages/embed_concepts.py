"""embed_concepts@<kg>: one encoder vector per KG node -> data/embeddings/<kg>/concepts.safetensors.

    python stages/embed_concepts.py --kg conceptnet
    python stages/embed_concepts.py --kg medical --kg-dir /tmp/kg --output /tmp/concepts.safetensors
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, params) -> None:
    if args.kg not in params.grounding.kg:
        raise ConfigError(f"unknown graph {args.kg!r}; grounding.kg defines: {', '.join(params.grounding.kg)}")
    cfg = params.graphs.embeddings
    if args.encoder:
        cfg = cfg.model_copy(update={"encoder": args.encoder})
    kg_dir = Path(args.kg_dir)
    if not kg_dir.is_dir():
        raise ConfigError(f"{kg_dir}: input does not exist (run build_kg@{args.kg} first, or pass --kg-dir)")
    from kg_ml.graphs.embeddings import embed_kg
    from kg_ml.models.pretrained import offline_profile

    embed_kg(args.kg, cfg, kg_dir, Path(args.output), profile=params.profile,
             offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--kg", required=True, help="graph name, a key of grounding.kg in params.yaml")
    p.add_argument("--kg-dir", default=paths.kg("{kg}"), help="built graph directory (default: %(default)s)")
    p.add_argument("--output", default=paths.embeddings("{kg}"), help="safetensors file (default: %(default)s)")
    p.add_argument("--encoder", help="encoder reference (default: graphs.embeddings.encoder in params.yaml)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
