"""finetune@hotpotqa: train the span model on the prepared train split with the shared loop,
selecting the checkpoint by F1 on the dev split."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from kg_ml.io.metrics import rounded, rounded_all
from kg_ml.qa.config import HotpotQAParams
from kg_ml.qa.data import read_examples
from kg_ml.qa.features import train_features
from kg_ml.qa.model import SpanCollate, is_lm_param, new_span_model, span_loss
from kg_ml.qa.predict import featurize, predict, windows
from kg_ml.qa.squad import squad_scores
from kg_ml.training import train
from kg_ml.training.rng import seed_all

log = logging.getLogger(__name__)


def _fingerprint(features: list[dict], params: HotpotQAParams) -> str:
    """The training inputs and the settings outside TrainConfig: a checkpoint of others is not resumed."""
    h = hashlib.sha256(json.dumps([params.encoder, params.num_hidden_layers, params.encoder_overrides],
                                  sort_keys=True).encode())
    for f in features:
        h.update(json.dumps([f["input_ids"], f["start_positions"], f["end_positions"]]).encode())
    return h.hexdigest()


def finetune_hotpotqa(*, train_path: Path, dev_path: Path, out_dir: Path, params: HotpotQAParams,
                      profile: str = "sample", checkpoint_dir: Path | None = None,
                      log_dir: Path | None = None) -> dict[str, float]:
    """Train, save model + tokenizer to ``out_dir``; return flat metrics (dev EM/F1 of the best step)."""
    train_rows, dev_rows = read_examples(train_path), read_examples(dev_path)
    seed_all(params.train.seed)  # the fresh span head's initial weights
    model, tokenizer = new_span_model(params.encoder, num_hidden_layers=params.num_hidden_layers,
                                      overrides=params.encoder_overrides, profile=profile)
    starts, texts = train_rows.first_answers(train_path)
    features = train_features(tokenizer, train_rows.questions, train_rows.contexts, starts, texts, windows(params))
    dev_features = featurize(tokenizer, dev_rows.questions, dev_rows.contexts, params)
    log.info("hotpotqa: %d training windows from %d questions; %d dev windows",
             len(features), len(train_rows), len(dev_features.example))

    def eval_fn(m) -> dict[str, float]:
        preds = predict(m, tokenizer, dev_rows.contexts, dev_features, params)
        return squad_scores([p.text for p in preds], dev_rows.gold)

    result = train(model, features, collate_fn=SpanCollate(tokenizer), loss_fn=span_loss, config=params.train,
                   out_dir=out_dir, eval_fn=eval_fn if len(dev_rows) else None, checkpoint_dir=checkpoint_dir,
                   log_dir=log_dir, is_lm_param=is_lm_param, save_extra=tokenizer.save_pretrained,
                   resume_key=_fingerprint(features, params))
    metrics = {"train_questions": len(train_rows), "train_windows": len(features), "steps": result.global_step,
               "best_step": result.best_step}
    metrics |= rounded_all(result.best_metrics, prefix="dev_")
    if result.train_loss is not None:
        metrics["train_loss"] = rounded(result.train_loss, 6)
    return metrics
