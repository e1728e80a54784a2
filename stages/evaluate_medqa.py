"""evaluate_medqa@<variant>: dev and test accuracy of a finetuned MedQA model, predictions, plot data.

    python stages/evaluate_medqa.py --variant kg
    python stages/evaluate_medqa.py --variant mine --model /tmp/my_model --predictions /tmp/preds --plots /tmp/plots
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg_ml.cli import run, stage_parser
from kg_ml.config import load_params
from kg_ml.io import write_json
from kg_ml.tasks.medqa_run import evaluate


def main(args) -> None:
    params = load_params(args.params)
    kg_lm = params.kg_lm.for_profile(params.profile)
    kg = params.grounding.tasks["medqa"].kg
    variant = args.variant
    with kg_lm.cpu_thread_limit():
        metrics = evaluate(
            Path(args.model or f"models/finetune_medqa/{variant}"), questions_dir=Path(args.questions),
            graphs_dir=Path(args.graphs), embeddings=Path(args.embeddings or f"data/embeddings/{kg}/concepts.safetensors"),
            predictions_dir=Path(args.predictions or f"data/predictions/medqa/{variant}"),
            plots_dir=Path(args.plots or f"plots/evaluate_medqa/{variant}"), batch_size=kg_lm.medqa.eval_batch_size)
    if args.metrics != "-":
        write_json(args.metrics or f"metrics/evaluate_{variant}_medqa.json", metrics)


def parser():
    p = stage_parser(__doc__.splitlines()[0])
    p.add_argument("--variant", required=True, help="a key of kg_lm.medqa.variants: names the default paths below")
    p.add_argument("--model", help="finetuned model (default: models/finetune_medqa/<variant>)")
    p.add_argument("--questions", default="data/prepared/medqa", help="prepared MedQA splits (default: %(default)s)")
    p.add_argument("--graphs", default="data/graphs/medqa", help="MedQA subgraphs (default: %(default)s)")
    p.add_argument("--embeddings", help="concept embeddings (default: data/embeddings/<medqa's kg>/concepts.safetensors)")
    p.add_argument("--predictions", help="predictions directory (default: data/predictions/medqa/<variant>)")
    p.add_argument("--plots", help="accuracy and confusion plot data (default: plots/evaluate_medqa/<variant>)")
    p.add_argument("--metrics", help="metrics JSON (default: metrics/evaluate_<variant>_medqa.json; '-' for none)")
    return p


if __name__ == "__main__":
    sys.exit(run(main, parser()))
