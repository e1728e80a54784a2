"""finetune_joint: MedQA, HotpotQA and KGQA heads on one KG-LM encoder, trained jointly and scored on test.

    python stages/finetune_joint.py
    python stages/finetune_joint.py --out /tmp/joint --metrics /tmp/joint.json   # e.g. after editing params
    torchrun --nproc_per_node 4 stages/finetune_joint.py   (set joint.train.ddp_find_unused_parameters: true)
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.models.pretrained import offline_profile
from kg_ml.multitask.run import JointInputs, finetune_joint
from kg_ml.training import is_main_process


def main(args) -> None:
    params = load_params(args.params)
    joint = params.joint.for_profile(params.profile)
    kg_lm = params.kg_lm.for_profile(params.profile)
    kg = params.grounding.tasks["medqa"].kg
    inputs = JointInputs(medqa=Path(args.medqa), medqa_graphs=Path(args.graphs),
                         embeddings=Path(args.embeddings or f"data/embeddings/{kg}/concepts.safetensors"),
                         hotpotqa=Path(args.hotpotqa), kgqa=Path(args.kgqa), kg=Path(args.kg),
                         pretrained=Path(args.pretrained))
    single = {"medqa": args.single_medqa, "hotpotqa": args.single_hotpotqa, "kgqa": args.single_kgqa}
    with kg_lm.cpu_thread_limit():
        metrics = finetune_joint(
            joint, kg_lm.model, inputs=inputs, out_dir=Path(args.out),
            single_task={t: Path(p) for t, p in single.items() if t in joint.tasks and p != "-"},
            checkpoint_dir=Path(args.checkpoints), log_dir=Path(args.plots), offline=offline_profile(params.profile))
    if args.metrics != "-" and is_main_process():
        write_json(args.metrics, metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--medqa", default="data/prepared/medqa", help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default="data/graphs/medqa", help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help="concept embeddings (default: data/embeddings/<medqa's kg>/concepts.safetensors)")
    p.add_argument("--hotpotqa", default="data/prepared/hotpotqa", help="prepared HotpotQA (default: %(default)s)")
    p.add_argument("--kgqa", default="data/prepared/kgqa", help="prepared KGQA questions (default: %(default)s)")
    p.add_argument("--kg", default="data/prepared/wikidata5m", help="prepared KG of the KGQA entities (default: %(default)s)")
    p.add_argument("--pretrained", default="models/pretrain", help="pretrained KG-LM (default: %(default)s)")
    p.add_argument("--single-medqa", default="metrics/evaluate_kg_medqa.json",
                   help="single-task MedQA metrics to compare with ('-': none; default: %(default)s)")
    p.add_argument("--single-hotpotqa", default="metrics/hotpotqa.json", help="(default: %(default)s)")
    p.add_argument("--single-kgqa", default="metrics/kgqa.json", help="(default: %(default)s)")
    p.add_argument("--out", default="models/finetune_joint", help="model directory (default: %(default)s)")
    p.add_argument("--checkpoints", default="checkpoints/finetune_joint", help="(default: %(default)s)")
    p.add_argument("--plots", default="plots/finetune_joint", help="DVCLive step metrics (default: %(default)s)")
    p.add_argument("--metrics", default="metrics/joint.json", help="metrics JSON ('-' for none; default: %(default)s)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
