"""pretrain_corpus: pretraining texts grounded to a graph, with their subgraphs -> data/{grounded,graphs}/pretrain/.

    python stages/pretrain_corpus.py
    python stages/pretrain_corpus.py --source wikidata5m --kg conceptnet --max-texts 1000 --metrics -
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser
from kg_ml.errors import ConfigError
from kg_ml.models.params import CorpusParams

SOURCES = sorted(get_args(CorpusParams.model_fields["source"].annotation))  # the sources a corpus reads


def main(args, params):
    overrides = {k: v for k, v in (("source", args.source), ("kg", args.kg), ("max_texts", args.max_texts))
                 if v is not None}
    kg_lm = params.kg_lm.for_profile(params.profile)
    cfg = kg_lm.pretrain.corpus.model_copy(update=overrides)
    if cfg.kg not in params.grounding.kg:
        raise ConfigError(f"kg_lm.pretrain.corpus.kg: unknown graph {cfg.kg!r}; grounding.kg defines: "
                          f"{', '.join(params.grounding.kg)}")
    inputs = {"prepared": Path(args.input or paths.prepared(cfg.source)), "kg": paths.kg(cfg.kg),
              "embeddings": paths.embeddings(cfg.kg)}
    for name, stage in (("prepared", f"prepare@{cfg.source}"), ("kg", f"build_kg@{cfg.kg}"),
                        ("embeddings", f"embed_concepts@{cfg.kg}")):
        if not inputs[name].exists():
            raise ConfigError(f"{inputs[name]}: input does not exist (run {stage} first)")
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.pretraining.corpus import build_corpus

    return build_corpus(cfg, params.graphs.subgraph, prepared_dir=inputs["prepared"], kg_dir=inputs["kg"],
                        embeddings=inputs["embeddings"], grounded_dir=Path(args.grounded),
                        graphs_dir=Path(args.graphs), offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("pretrain_corpus"))
    p.add_argument("--source", choices=SOURCES, help="default: kg_lm.pretrain.corpus.source")
    p.add_argument("--kg", help="graph to ground to (default: kg_lm.pretrain.corpus.kg)")
    p.add_argument("--max-texts", type=int, help="first N texts only (default: kg_lm.pretrain.corpus.max_texts)")
    p.add_argument("--input", help=f"prepared source directory (default: {paths.prepared('<source>')})")
    p.add_argument("--grounded", default=paths.grounded("pretrain"), help="grounded output (default: %(default)s)")
    p.add_argument("--graphs", default=paths.graphs("pretrain"), help="subgraph output (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
