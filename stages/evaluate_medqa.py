"""evaluate_medqa@<variant>: dev and test accuracy of a finetuned MedQA model, predictions, plot data.

    python stages/evaluate_medqa.py --variant kg
    python stages/evaluate_medqa.py --variant mine --model /tmp/my_model --predictions /tmp/preds --plots /tmp/plots
"""

from __future__ import annotations

from pathlib import Path

from kg_ml import paths
from kg_ml.cli import end_process, run, stage_parser


def main(args, params):
    from kg_ml.tasks.medqa_run import evaluate

    kg_lm = params.kg_lm.for_profile(params.profile)
    return evaluate(
        Path(args.model), questions_dir=Path(args.questions), graphs_dir=Path(args.graphs),
        embeddings=Path(args.embeddings or paths.embeddings(params.grounding.tasks["medqa"].kg)),
        predictions_dir=Path(args.predictions), plots_dir=Path(args.plots), batch_size=kg_lm.medqa.eval_batch_size)


def parser():
    p = stage_parser(__doc__.splitlines()[0], metrics=paths.metrics("evaluate_{variant}_medqa"))
    p.add_argument("--variant", required=True, help="a key of kg_lm.medqa.variants: names the default paths below")
    p.add_argument("--model", default=paths.model("finetune_medqa/{variant}"),
                   help="finetuned model (default: %(default)s)")
    p.add_argument("--questions", default=paths.prepared("medqa"), help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default=paths.graphs("medqa"), help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help=f"concept embeddings (default: {paths.embeddings('<medqa kg>')})")
    p.add_argument("--predictions", default=paths.predictions("medqa") / "{variant}",
                   help="predictions directory (default: %(default)s)")
    p.add_argument("--plots", default=paths.plots("evaluate_medqa/{variant}"),
                   help="accuracy and confusion plot data (default: %(default)s)")
    return p


if __name__ == "__main__":
    end_process(run(main, parser()))
