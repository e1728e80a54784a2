"""finetune_medqa@<variant>: MedQA multiple choice from the pretrained KG-LM (or the plain encoder).

    python stages/finetune_medqa.py --variant kg
    python stages/finetune_medqa.py --variant text          # the text-only baseline
    torchrun --nproc_per_node 8 stages/finetune_medqa.py --variant kg
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.tasks.medqa_run import finetune

    kg_lm = params.kg_lm.for_profile(params.profile)
    if args.variant not in kg_lm.medqa.variants:
        raise ConfigError(f"unknown variant {args.variant!r}; kg_lm.medqa.variants defines: "
                          f"{', '.join(kg_lm.medqa.variants)}")
    return finetune(
        kg_lm, args.variant, questions_dir=Path(args.questions), graphs_dir=Path(args.graphs),
        embeddings=Path(args.embeddings or paths.embeddings(params.grounding.tasks["medqa"].kg)),
        pretrained_dir=Path(args.pretrained), out_dir=Path(args.out), checkpoint_dir=Path(args.checkpoints),
        log_dir=Path(args.plots), offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("finetune_{variant}_medqa"))
    p.add_argument("--variant", required=True, help="a key of kg_lm.medqa.variants in params.yaml")
    p.add_argument("--questions", default=paths.prepared("medqa"), help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default=paths.graphs("medqa"), help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help=f"concept embeddings (default: {paths.embeddings('<medqa kg>')})")
    p.add_argument("--pretrained", default=paths.model("pretrain"), help="pretrained KG-LM (default: %(default)s)")
    add_training_outputs(p, "finetune_medqa/{variant}")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
