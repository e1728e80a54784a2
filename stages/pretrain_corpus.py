"""pretrain_corpus: pretraining texts grounded to a graph, with their subgraphs -> data/{grounded,graphs}/pretrain/.

    python stages/pretrain_corpus.py
    python stages/pretrain_corpus.py --source wikidata5m --kg conceptnet --max-texts 1000 --metrics -
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.io import write_json
from kg_ml.models.pretrained import offline_profile
from kg_ml.pretraining.corpus import SOURCE_TABLES, build_corpus


def main(args) -> None:
    params = load_params(args.params)
    overrides = {k: v for k, v in (("source", args.source), ("kg", args.kg), ("max_texts", args.max_texts))
                 if v is not None}
    kg_lm = params.kg_lm.for_profile(params.profile)
    cfg = kg_lm.pretrain.corpus.model_copy(update=overrides)
    if cfg.kg not in params.grounding.kg:
        raise ConfigError(f"kg_lm.pretrain.corpus.kg: unknown graph {cfg.kg!r}; grounding.kg defines: "
                          f"{', '.join(params.grounding.kg)}")
    paths = {"prepared": Path(args.input or f"data/prepared/{cfg.source}"), "kg": Path(f"data/kg/{cfg.kg}"),
             "embeddings": Path(f"data/embeddings/{cfg.kg}/concepts.safetensors")}
    for name, stage in (("prepared", f"prepare@{cfg.source}"), ("kg", f"build_kg@{cfg.kg}"),
                        ("embeddings", f"embed_concepts@{cfg.kg}")):
        if not paths[name].exists():
            raise ConfigError(f"{paths[name]}: input does not exist (run {stage} first)")
    with kg_lm.cpu_thread_limit():
        metrics = build_corpus(cfg, params.graphs.subgraph, prepared_dir=paths["prepared"], kg_dir=paths["kg"],
                               embeddings=paths["embeddings"], grounded_dir=Path(args.grounded),
                               graphs_dir=Path(args.graphs), offline=offline_profile(params.profile))
    if args.metrics != "-":
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--source", choices=sorted(SOURCE_TABLES), help="default: kg_lm.pretrain.corpus.source")
    p.add_argument("--kg", help="graph to ground to (default: kg_lm.pretrain.corpus.kg)")
    p.add_argument("--max-texts", type=int, help="first N texts only (default: kg_lm.pretrain.corpus.max_texts)")
    p.add_argument("--input", help="prepared source directory (default: data/prepared/<source>)")
    p.add_argument("--grounded", default="data/grounded/pretrain", help="grounded output (default: %(default)s)")
    p.add_argument("--graphs", default="data/graphs/pretrain", help="subgraph output (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/pretrain_corpus.json",
                   help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
