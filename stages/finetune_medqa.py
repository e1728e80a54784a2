"""finetune_medqa@<variant>: MedQA multiple choice from the pretrained KG-LM (or the plain encoder).

    python stages/finetune_medqa.py --variant kg
    python stages/finetune_medqa.py --variant text          # the text-only baseline
    torchrun --nproc_per_node 8 stages/finetune_medqa.py --variant kg
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.errors import ConfigError
from kg_ml.io import write_json
from kg_ml.models.pretrained import offline_profile
from kg_ml.tasks.medqa_run import finetune
from kg_ml.training import is_main_process


def main(args) -> None:
    params = load_params(args.params)
    kg_lm = params.kg_lm.for_profile(params.profile)
    if args.variant not in kg_lm.medqa.variants:
        raise ConfigError(f"unknown variant {args.variant!r}; kg_lm.medqa.variants defines: "
                          f"{', '.join(kg_lm.medqa.variants)}")
    kg = params.grounding.tasks["medqa"].kg
    with kg_lm.cpu_thread_limit():
        metrics = finetune(
            kg_lm, args.variant, questions_dir=Path(args.questions), graphs_dir=Path(args.graphs),
            embeddings=Path(args.embeddings or f"data/embeddings/{kg}/concepts.safetensors"),
            pretrained_dir=Path(args.pretrained), out_dir=Path(args.out or f"models/finetune_medqa/{args.variant}"),
            checkpoint_dir=Path(args.checkpoints or f"checkpoints/finetune_medqa/{args.variant}"),
            log_dir=Path(args.plots or f"plots/finetune_medqa/{args.variant}"),
            offline=offline_profile(params.profile))
    if args.metrics != "-" and is_main_process():
        write_json(args.metrics or f"metrics/finetune_{args.variant}_medqa.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--variant", required=True, help="a key of kg_lm.medqa.variants in params.yaml")
    p.add_argument("--questions", default="data/prepared/medqa", help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default="data/graphs/medqa", help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help="concept embeddings (default: data/embeddings/<medqa's kg>/concepts.safetensors)")
    p.add_argument("--pretrained", default="models/pretrain", help="pretrained KG-LM (default: %(default)s)")
    p.add_argument("--out", help="model directory (default: models/finetune_medqa/<variant>)")
    p.add_argument("--checkpoints", help="resumable checkpoints (default: checkpoints/finetune_medqa/<variant>)")
    p.add_argument("--plots", help="DVCLive step metrics (default: plots/finetune_medqa/<variant>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/finetune_<variant>_medqa.json; '-' for none)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
