"""embed_concepts@<kg>: one encoder vector per KG node -> data/embeddings/<kg>/concepts.safetensors.

    python stages/embed_concepts.py --kg conceptnet
    python stages/embed_concepts.py --kg medical --kg-dir /tmp/kg --output /tmp/concepts.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.graphs.embeddings import embed_kg
from kg_ml.models.pretrained import offline_profile


def main(args) -> None:
    params = load_params(args.params)
    if args.kg not in params.grounding.kg:
        raise ConfigError(f"unknown graph {args.kg!r}; grounding.kg defines: {', '.join(params.grounding.kg)}")
    cfg = params.graphs.embeddings
    if args.encoder:
        cfg = cfg.model_copy(update={"encoder": args.encoder})
    kg_dir = Path(args.kg_dir or f"data/kg/{args.kg}")
    if not kg_dir.is_dir():
        raise ConfigError(f"{kg_dir}: input does not exist (run build_kg@{args.kg} first, or pass --kg-dir)")
    embed_kg(args.kg, cfg, kg_dir, Path(args.output or f"data/embeddings/{args.kg}/concepts.safetensors"),
             profile=params.profile, offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--kg", required=True, help="graph name, a key of grounding.kg in params.yaml")
    p.add_argument("--kg-dir", help="built graph directory (default: data/kg/<kg>)")
    p.add_argument("--output", help="safetensors file (default: data/embeddings/<kg>/concepts.safetensors)")
    p.add_argument("--encoder", help="encoder reference (default: graphs.embeddings.encoder in params.yaml)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
