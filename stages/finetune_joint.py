"""finetune_joint: MedQA, HotpotQA and KGQA heads on one KG-LM encoder, trained jointly and scored on test.

    python stages/finetune_joint.py
    python stages/finetune_joint.py --out /tmp/joint --metrics /tmp/joint.json   # e.g. after editing params
    torchrun --nproc_per_node 4 stages/finetune_joint.py   (set joint.train.ddp_find_unused_parameters: true)
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.models.pretrained import offline_profile
    from kg_ml.multitask.run import JointInputs, finetune_joint

    joint = params.joint.for_profile(params.profile)
    kg_lm = params.kg_lm.for_profile(params.profile)
    inputs = JointInputs(medqa=Path(args.medqa), medqa_graphs=Path(args.graphs),
                         embeddings=Path(args.embeddings or paths.embeddings(params.grounding.tasks["medqa"].kg)),
                         hotpotqa=Path(args.hotpotqa), kgqa=Path(args.kgqa), kg=Path(args.kg),
                         pretrained=Path(args.pretrained))
    return finetune_joint(joint, kg_lm.model, inputs=inputs, out_dir=Path(args.out),
                          checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots),
                          offline=offline_profile(params.profile))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("joint"))
    p.add_argument("--medqa", default=paths.prepared("medqa"), help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default=paths.graphs("medqa"), help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help=f"concept embeddings (default: {paths.embeddings('<medqa kg>')})")
    p.add_argument("--hotpotqa", default=paths.prepared("hotpotqa"), help="prepared HotpotQA (default: %(default)s)")
    p.add_argument("--kgqa", default=paths.prepared("kgqa"), help="prepared KGQA questions (default: %(default)s)")
    p.add_argument("--kg", default=paths.prepared("wikidata5m"),
                   help="prepared KG of the KGQA entities (default: %(default)s)")
    p.add_argument("--pretrained", default=paths.model("pretrain"), help="pretrained KG-LM (default: %(default)s)")
    add_training_outputs(p, "finetune_joint")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
