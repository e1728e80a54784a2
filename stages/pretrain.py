"""pretrain: masked LM + KG link prediction on the grounded corpus -> models/pretrain (DRAGON).

    python stages/pretrain.py
    torchrun --nproc_per_node 8 stages/pretrain.py          # DDP; every rank runs the same command
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.pretraining.run import pretrain

    kg_lm = params.kg_lm.for_profile(params.profile)
    return pretrain(kg_lm, grounded_dir=Path(args.grounded), graphs_dir=Path(args.graphs),
                    embeddings=Path(args.embeddings or paths.embeddings(kg_lm.pretrain.corpus.kg)),
                    out_dir=Path(args.out), checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots),
                    offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("pretrain"))
    p.add_argument("--grounded", default=paths.grounded("pretrain"), help="grounded corpus (default: %(default)s)")
    p.add_argument("--graphs", default=paths.graphs("pretrain"), help="corpus subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help="concept embeddings (default: those of kg_lm.pretrain.corpus.kg, "
                                        f"{paths.embeddings('<kg>')})")
    add_training_outputs(p, "pretrain")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
