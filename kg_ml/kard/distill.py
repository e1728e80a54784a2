"""distill@<variant>: train one student (KARD or an ablation) through the shared training loop."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from kg_ml.io.metrics import rounded
from kg_ml.kard.config import KardParams
from kg_ml.kard.data import read_passages, read_questions, read_rationales, read_retrieved, training_examples
from kg_ml.kard.prompts import student_input
from kg_ml.kard.student import build_student, encode_inputs, encode_targets
from kg_ml.kgt5.data import PairDataset, Seq2SeqCollate, seq2seq_loss
from kg_ml.training import train
from kg_ml.training.rng import seed_all

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistillInputs:
    questions: Path     # prepared train split of the task
    rationales: Path    # prepared teacher rationales
    retrieved: Path     # retrieve@<task> train output (rationale queries)
    passages: Path      # prepared knowledge-base passages


def tokenizer_texts(inputs: DistillInputs) -> list[str]:
    """What a from-scratch tokenizer learns from: the same for every variant, so all students share
    one vocabulary."""
    # Questions as the students see them (markers and option letters included), so "Knowledge:"
    # and "Explanation:" are single tokens instead of byte pieces in every input.
    texts = [student_input(q.question, q.options, [""], rationale=r) for q in read_questions(inputs.questions)
             for r in (True, False)]
    texts += [t for group in read_rationales(inputs.rationales, "train").values() for _, t in group]
    texts += list(read_passages(inputs.passages).values())
    return texts


def distill(variant_name: str, params: KardParams, inputs: DistillInputs, *, out_dir: Path,
            checkpoint_dir: Path | None, log_dir: Path | None, offline: bool = True) -> dict:
    """Train the student of ``params.variants[variant_name]`` into ``out_dir``; returns metrics.
    ``offline``: a hub student loads from the local cache only (the sample profile)."""
    variant = params.variants[variant_name]
    questions = read_questions(inputs.questions)
    rationales = read_rationales(inputs.rationales, "train") if variant.rationale else {}
    retrieved = read_retrieved(inputs.retrieved, params.passages) if variant.knowledge else {}
    passages = read_passages(inputs.passages) if variant.knowledge else {}
    examples, stats = training_examples(questions, rationales, retrieved, passages, variant,
                                        verify=params.verify, retrieved_path=inputs.retrieved,
                                        per_question=params.rationales_per_question,
                                        strip=params.strip_conclusion)

    seed_all(params.train.seed)  # the from-scratch weights depend on it
    model, tokenizer = build_student(params.student, tokenizer_texts(inputs), offline=offline)
    sources, cut = encode_inputs(tokenizer, [e.source for e in examples], params.max_input_length,
                                 "Explanation:" if variant.rationale else "Answer:")
    targets = encode_targets(tokenizer, [e.target for e in examples], params.max_target_length)
    if cut:
        log.warning("%d of %d inputs cut to %d tokens", cut, len(examples), params.max_input_length)
    # A checkpoint is only resumed for the same examples (the params are checked by the loop).
    key = hashlib.sha256("\n".join(e.source + "\t" + e.target for e in examples).encode()).hexdigest()[:16]
    result = train(model, PairDataset(list(zip(sources, targets))), collate_fn=Seq2SeqCollate(tokenizer.pad_token_id),
                   loss_fn=seq2seq_loss, config=params.train, out_dir=out_dir, checkpoint_dir=checkpoint_dir,
                   log_dir=log_dir, save_extra=tokenizer.save_pretrained, resume_key=key)
    return {**stats, "inputs_cut": cut, "steps": result.global_step,
            "train_loss": rounded(result.train_loss, 6),
            "parameters": sum(p.numel() for p in model.parameters())}
