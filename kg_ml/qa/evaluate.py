"""evaluate@hotpotqa: EM/F1 of a finetuned span model on one split, the first-entity baseline
by the same evaluator, and per-question predictions as Parquet."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from kg_ml.io import atomic_file, write_parquet
from kg_ml.io.metrics import rounded_all
from kg_ml.qa.baseline import first_entity
from kg_ml.qa.config import HotpotQAParams
from kg_ml.qa.data import read_examples
from kg_ml.qa.model import load_span_model
from kg_ml.qa.predict import featurize, predict
from kg_ml.qa.squad import best_over, squad_scores
from kg_ml.training.distributed import resolve_device

log = logging.getLogger(__name__)

PREDICTIONS_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("prediction", pa.string()),
    ("score", pa.float32()),
    ("start", pa.int32()),
    ("exact_match", pa.bool_()),
    ("f1", pa.float32()),
    ("baseline", pa.string()),
])


def evaluate_hotpotqa(*, model_dir: Path, table: Path, params: HotpotQAParams,
                      predictions: Path | None = None, device: str = "auto") -> dict[str, float]:
    """Score ``model_dir`` on the prepared split ``table``; write ``predictions`` (PREDICTIONS_SCHEMA)."""
    rows = read_examples(table)
    model, tokenizer = load_span_model(model_dir)
    model.to(resolve_device(device))
    features = featurize(tokenizer, rows.questions, rows.contexts, params)
    log.info("hotpotqa: %d questions, %d windows", len(rows), len(features.example))
    preds = predict(model, tokenizer, rows.contexts, features, params)
    texts = [p.text for p in preds]
    baseline = [first_entity(c) for c in rows.contexts]
    scores = [best_over(g, t) for g, t in zip(rows.gold, texts)]
    if predictions is not None:
        with atomic_file(predictions) as tmp:
            write_parquet(pa.Table.from_pydict({
                "id": rows.ids, "prediction": texts, "score": [p.score for p in preds],
                "start": [p.start for p in preds], "exact_match": [em == 1.0 for em, _ in scores],
                "f1": [f1 for _, f1 in scores], "baseline": baseline}, schema=PREDICTIONS_SCHEMA), tmp)
    model_scores = squad_scores(texts, rows.gold)
    base_scores = squad_scores(baseline, rows.gold)
    return {"questions": len(rows), "windows": len(features.example),
            **rounded_all(model_scores), **rounded_all(base_scores, prefix="baseline_first_entity_")}
