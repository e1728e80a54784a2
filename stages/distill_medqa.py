"""distill@<variant>: train a KARD student (or one of its ablations) on teacher rationales.

    python stages/distill_medqa.py --variant medqa              # KARD: knowledge + rationale
    python stages/distill_medqa.py --variant medqa_no_knowledge # reasoning distillation only
    python stages/distill_medqa.py --variant medqa_answer_only  # plain finetuning on answers
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser
from kg_ml.errors import ConfigError


def main(args, all_params):
    params = all_params.kard.for_profile(all_params.profile)
    if args.variant not in params.variants:
        raise ConfigError(f"unknown KARD variant {args.variant!r}; params.yaml kard.variants has {sorted(params.variants)}")
    task = params.variants[args.variant].task
    from kg_ml.kard.distill import DistillInputs, distill
    from kg_ml.models.pretrained import offline_profile

    inputs = DistillInputs(questions=paths.prepared(task) / "train.parquet", rationales=Path(args.rationales),
                           retrieved=paths.retrieved(task) / "train.parquet", passages=Path(args.passages))
    return distill(args.variant, params, inputs, out_dir=Path(args.out), checkpoint_dir=Path(args.checkpoints),
                   log_dir=Path(args.plots), offline=offline_profile(all_params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("distill_{variant}"))
    p.add_argument("--variant", default="medqa", help="key of kard.variants in params.yaml (default: %(default)s)")
    p.add_argument("--rationales", default=paths.RATIONALES, help="teacher rationales (default: %(default)s)")
    p.add_argument("--passages", default=paths.PASSAGES, help="knowledge-base passages (default: %(default)s)")
    add_training_outputs(p, "distill_{variant}")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
