"""train@kgt5 and finetune@kgqa: T5 on verbalised triples (from scratch) or on KGQA pairs (from
the KG-completion checkpoint), with the shared loop; checkpoints are selected by greedy hits@1."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from kg_ml.io.metrics import rounded, rounded_all
from kg_ml.kgt5.config import KGQAParams, KGT5Params
from kg_ml.kgt5.context import model_verbaliser
from kg_ml.kgt5.data import PairDataset, Seq2SeqCollate, TripleDataset, seq2seq_loss
from kg_ml.kgt5.generate import greedy, sequence_log_probs
from kg_ml.kgt5.kg import load_kg
from kg_ml.kgt5.kgqa import QASet, read_qa
from kg_ml.kgt5.model import load_t5, load_tokenizer, new_t5
from kg_ml.kgt5.queries import triple_queries
from kg_ml.kgt5.verbalize import Verbaliser
from kg_ml.training import TrainConfig, train
from kg_ml.training.rng import derive_seed, seed_all

log = logging.getLogger(__name__)


def _fingerprint(*arrays: np.ndarray | Sequence, tokenizer) -> str:
    h = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode())
    for a in arrays:
        h.update(np.asarray(a).tobytes() if isinstance(a, np.ndarray) else repr(a).encode())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _hits_at_1(predicted: Sequence[str], gold: Sequence[set[str]]) -> float:
    return float(np.mean([p in g for p, g in zip(predicted, gold)])) if gold else 0.0


def _run(model, tokenizer, dataset: Dataset, config: TrainConfig, *, out_dir: Path,
         eval_fn: Callable | None, checkpoint_dir: Path | None, log_dir: Path | None, key: str) -> dict[str, float]:
    result = train(model, dataset, collate_fn=Seq2SeqCollate(tokenizer.pad_token_id), loss_fn=seq2seq_loss,
                   config=config, out_dir=out_dir, eval_fn=eval_fn, checkpoint_dir=checkpoint_dir, log_dir=log_dir,
                   save_extra=tokenizer.save_pretrained, resume_key=key)
    metrics = {"train_examples": len(dataset), "steps": result.global_step, "best_step": result.best_step,
               "parameters": sum(p.numel() for p in model.parameters())}
    metrics |= rounded_all(result.best_metrics, prefix="valid_")
    if result.train_loss is not None:
        metrics["train_loss"] = rounded(result.train_loss, 6)
    return metrics


def train_kgt5(*, prepared: Path, tokenizer_dir: Path, out_dir: Path, params: KGT5Params,
               checkpoint_dir: Path | None = None, log_dir: Path | None = None) -> dict[str, float]:
    """Train T5 from scratch on both queries of every training triple; save to ``out_dir``."""
    kg = load_kg(prepared, splits=("train", "valid"))
    tokenizer = load_tokenizer(tokenizer_dir)
    seed_all(params.train.seed)  # the initial weights
    model = new_t5(params.model, tokenizer, params.context_neighbours)
    verb = model_verbaliser(model, tokenizer, kg, max_input_length=params.max_input_length,
                            max_target_length=params.max_target_length)
    train_set = TripleDataset(kg.triples["train"], verb)

    valid = triple_queries(kg.triples["valid"])
    pick = np.arange(len(valid))
    if len(pick) > params.eval_queries:
        rng = np.random.default_rng(derive_seed(params.train.seed, "eval_queries"))
        pick = np.sort(rng.choice(len(valid), params.eval_queries, replace=False))
    inputs = [verb.query(int(valid.direction[i]), int(valid.entity[i]), int(valid.relation[i])) for i in pick]
    gold = [{kg.entity_names[int(valid.answer[i])]} for i in pick]
    targets = [[verb.target(int(valid.answer[i]))] for i in pick]
    log.info("kgt5: %d training queries (%d context edges), %d parameters; %d validation queries for model "
             "selection", len(train_set), params.context_neighbours, sum(p.numel() for p in model.parameters()),
             len(inputs))

    def eval_fn(m) -> dict[str, float]:
        """Unfiltered greedy hits@1 and the gold answers' mean negative log-likelihood ("loss")."""
        batch = params.evaluate.batch_size
        hits = _hits_at_1(greedy(m, tokenizer, inputs, batch_size=batch, max_new_tokens=params.max_target_length), gold)
        nll = -float(np.mean(np.concatenate(sequence_log_probs(m, tokenizer, inputs, targets, batch_size=batch))))
        return {"hits@1": hits, "loss": nll}

    return _run(model, tokenizer, train_set, params.train, out_dir=out_dir, eval_fn=eval_fn if inputs else None,
                checkpoint_dir=checkpoint_dir, log_dir=log_dir,
                key=_fingerprint(kg.triples["train"], params.model.model_dump_json(), params.max_input_length,
                                 params.max_target_length, params.context_neighbours, tokenizer=tokenizer))


def qa_pairs(qa: QASet, verb: Verbaliser) -> list[tuple[list[int], list[int]]]:
    """One (question, answer entity) training pair per resolved answer."""
    return [(verb.question(q, topic), verb.target(a))
            for q, topic, answers in zip(qa.questions, qa.topics, qa.answers) for a in answers]


def finetune_kgqa(*, prepared_qa: Path, prepared_kg: Path, init_dir: Path, out_dir: Path, params: KGQAParams,
                  checkpoint_dir: Path | None = None, log_dir: Path | None = None) -> dict[str, float]:
    """Finetune the KG-completion model on ``predict answer: <question>`` -> answer; save to ``out_dir``."""
    kg = load_kg(prepared_kg)
    model, tokenizer = load_t5(init_dir)
    verb = model_verbaliser(model, tokenizer, kg, max_input_length=params.max_input_length,
                            max_target_length=params.max_target_length)
    train_qa, dev_qa = read_qa(prepared_qa / "train.parquet", kg), read_qa(prepared_qa / "dev.parquet", kg)
    pairs = qa_pairs(train_qa, verb)
    inputs = [verb.question(q, topic) for q, topic in zip(dev_qa.questions, dev_qa.topics)]
    gold = [{kg.entity_names[a] for a in answers} for answers in dev_qa.answers]
    log.info("kgqa: %d training pairs from %d questions; %d dev questions", len(pairs), len(train_qa), len(inputs))

    def eval_fn(m) -> dict[str, float]:
        return {"hits@1": _hits_at_1(greedy(m, tokenizer, inputs, batch_size=params.eval_batch_size,
                                            max_new_tokens=params.max_target_length), gold)}

    metrics = _run(model.train(), tokenizer, PairDataset(pairs), params.train, out_dir=out_dir,
                   eval_fn=eval_fn if inputs else None, checkpoint_dir=checkpoint_dir, log_dir=log_dir,
                   key=_fingerprint(np.array([x for p in pairs for s in p for x in s + [-1]]),
                                    _file_digest(init_dir / "model.safetensors"), tokenizer=tokenizer))
    return metrics | {"train_questions": len(train_qa), "unresolved_answers": train_qa.unresolved}
