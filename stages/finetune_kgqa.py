"""finetune@kgqa: finetune the KG-completion T5 on KGQA (``predict answer: <question>`` -> answer).

    python stages/finetune_kgqa.py [--init models/kgt5] [--out models/kgqa]
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import add_training_outputs, end_process, run, stage_parser


def main(args, params):
    from kg_ml.kgt5.train import finetune_kgqa

    kgqa = params.text_kg.kgqa.for_profile(params.profile)
    return finetune_kgqa(prepared_qa=Path(args.questions), prepared_kg=Path(args.prepared), init_dir=Path(args.init),
                         out_dir=Path(args.out), params=kgqa, checkpoint_dir=Path(args.checkpoints),
                         log_dir=Path(args.plots))


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("finetune_kgqa"))
    p.add_argument("--questions", default=paths.prepared("kgqa"), help="prepared KGQA splits (default: %(default)s)")
    p.add_argument("--prepared", default=paths.prepared("wikidata5m"), help="prepared KG (default: %(default)s)")
    p.add_argument("--init", default=paths.model("kgt5"),
                   help="KG-completion model to start from (default: %(default)s)")
    add_training_outputs(p, "kgqa", plots="finetune_kgqa")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
