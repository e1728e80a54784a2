"""pretrain: masked LM + KG link prediction on the grounded corpus -> models/pretrain (DRAGON).

    python stages/pretrain.py
    torchrun --nproc_per_node 8 stages/pretrain.py          # DDP; every rank runs the same command
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.models.pretrained import offline_profile
from kg_ml.pretraining.run import pretrain
from kg_ml.training import is_main_process


def main(args) -> None:
    params = load_params(args.params)
    kg_lm = params.kg_lm.for_profile(params.profile)
    kg = args.kg or kg_lm.pretrain.corpus.kg
    with kg_lm.cpu_thread_limit():
        metrics = pretrain(kg_lm, grounded_dir=Path(args.grounded), graphs_dir=Path(args.graphs),
                           embeddings=Path(args.embeddings or f"data/embeddings/{kg}/concepts.safetensors"),
                           out_dir=Path(args.out), checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots),
                           offline=offline_profile(params.profile))
    if args.metrics != "-" and is_main_process():
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--grounded", default="data/grounded/pretrain", help="grounded corpus (default: %(default)s)")
    p.add_argument("--graphs", default="data/graphs/pretrain", help="corpus subgraphs (default: %(default)s)")
    p.add_argument("--kg", help="graph the corpus is grounded to (default: kg_lm.pretrain.corpus.kg)")
    p.add_argument("--embeddings", help="concept embeddings (default: data/embeddings/<kg>/concepts.safetensors)")
    p.add_argument("--out", default="models/pretrain", help="model directory (default: %(default)s)")
    p.add_argument("--checkpoints", default="checkpoints/pretrain", help="resumable checkpoints (default: %(default)s)")
    p.add_argument("--plots", default="plots/pretrain", help="DVCLive step metrics (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/pretrain.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
