"""Questions + contexts -> answer predictions with a span model (features, logits, n-best)."""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedModel, PreTrainedTokenizerFast

from kg_ml.qa.config import HotpotQAParams
from kg_ml.qa.features import EvalFeatures, Windows, eval_features
from kg_ml.qa.model import window_logits
from kg_ml.qa.postprocess import Prediction, predict_answers


def windows(params: HotpotQAParams) -> Windows:
    return Windows(params.max_seq_length, params.doc_stride, params.max_query_length)


def predict(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast, contexts: Sequence[str],
            features: EvalFeatures, params: HotpotQAParams) -> list[Prediction]:
    """Best span per context over all its windows (``features`` from `eval_features`)."""
    starts, ends = window_logits(model, tokenizer, features, params.eval_batch_size)
    return predict_answers(contexts, features.example, features.offsets, starts, ends,
                           n_best=params.n_best, max_answer_length=params.max_answer_length)


def featurize(tokenizer: PreTrainedTokenizerFast, questions: Sequence[str], contexts: Sequence[str],
              params: HotpotQAParams) -> EvalFeatures:
    return eval_features(tokenizer, questions, contexts, windows(params))
