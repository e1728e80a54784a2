"""evaluate@kgt5 and evaluate@kgqa.

KG completion (KGT5's protocol): per query, ``num_samples`` strings are sampled, strings that are
not entity names are dropped, the remaining entities are scored by the summed log-probability of
their name and ranked with ties after filtering the other known answers (train + valid + test);
tail and head queries are reported separately and together, next to the seed's unfiltered greedy
hits@1 and the most-frequent-answer-per-relation baseline ranked by the same rule.
KGQA: greedy answer -> entity; hits@1 against the resolved answer set, next to the
most-frequent-answer-per-question-template baseline.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from kg_ml.io import atomic_file, write_parquet
from kg_ml.io.metrics import rounded
from kg_ml.kgt5.baseline import FrequencyBaseline
from kg_ml.kgt5.config import GenerationParams, KGQAParams, KGT5Params
from kg_ml.kgt5.context import model_verbaliser
from kg_ml.kgt5.generate import greedy, sample, sequence_log_probs
from kg_ml.kgt5.kg import KnowledgeGraph, load_kg
from kg_ml.kgt5.kgqa import most_frequent_answers, read_qa, template
from kg_ml.kgt5.model import load_t5
from kg_ml.kgt5.queries import Queries, known_answers, triple_queries
from kg_ml.kgt5.ranking import filtered_rank, rank_metrics
from kg_ml.kgt5.verbalize import HEAD, TAIL, Verbaliser
from kg_ml.training.distributed import resolve_device
from kg_ml.training.rng import derive_seed

log = logging.getLogger(__name__)

KGC_PREDICTIONS_SCHEMA = pa.schema([
    ("triple", pa.int32()),
    ("direction", pa.string()),
    ("entity", pa.string()),
    ("relation", pa.string()),
    ("answer", pa.string()),
    ("rank", pa.int32()),
    ("baseline_rank", pa.int32()),
    ("greedy", pa.string()),
    ("greedy_hit", pa.bool_()),
    ("top", pa.string()),
    ("candidates", pa.int32()),
])
KGQA_PREDICTIONS_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("prediction", pa.string()),
    ("entity", pa.string()),
    ("hit", pa.bool_()),
    ("baseline", pa.string()),
    ("baseline_hit", pa.bool_()),
])
_DIRECTIONS = {TAIL: "tail", HEAD: "head"}


def _canonical_index(verb: Verbaliser, kg: KnowledgeGraph) -> dict[str, int]:
    """Decoded form of each entity's own token ids -> entity: how generated strings are matched
    (equal to the display names whenever the tokenizer round-trips them, which it should)."""
    decoded = verb.tokenizer.batch_decode(verb.entities, skip_special_tokens=True)
    index = {}
    for i, text in enumerate(decoded):
        index.setdefault(text, i)
    if (lossy := sum(d != n for d, n in zip(decoded, kg.entity_names))):
        log.warning("%d entity names do not round-trip through the tokenizer", lossy)
    return index


def _sampled_candidates(samples: list[list[str]], index: dict[str, int]) -> tuple[list[np.ndarray], float]:
    """Distinct entities among each query's samples (in first-sampled order) and the share of
    samples that were entity names."""
    out, named, total = [], 0, 0
    for strings in samples:
        ents = [index[s] for s in strings if s in index]
        named, total = named + len(ents), total + len(strings)
        out.append(np.array(list(dict.fromkeys(ents)), dtype=np.int64))
    return out, named / max(total, 1)


def _with_directions(ranks: np.ndarray, q: Queries, prefix: str) -> dict[str, float]:
    out = rank_metrics(ranks, prefix=prefix)
    for d, name in _DIRECTIONS.items():
        out |= rank_metrics(ranks[q.direction == d], prefix=f"{prefix}{name}_")
    return out


def _subset(triples: np.ndarray, max_triples: int | None, seed: int) -> np.ndarray:
    """``max_triples`` of ``triples`` (a seeded sample, in their order), or all of them."""
    if max_triples is None or len(triples) <= max_triples:
        return triples
    rng = np.random.default_rng(derive_seed(seed, "max_triples"))
    return triples[np.sort(rng.choice(len(triples), max_triples, replace=False))]


def evaluate_kgt5(*, model_dir: Path, prepared: Path, split: str, params: KGT5Params,
                  predictions: Path | None = None, device: str = "auto") -> dict[str, float]:
    """Rank metrics of ``model_dir`` on the ``split`` triples; write per-query ``predictions``."""
    gen: GenerationParams = params.evaluate
    kg = load_kg(prepared)
    model, tokenizer = load_t5(model_dir)
    model.to(resolve_device(device))
    verb = model_verbaliser(model, tokenizer, kg, max_input_length=params.max_input_length,
                            max_target_length=params.max_target_length)
    q = triple_queries(_subset(kg.triples[split], gen.max_triples, gen.seed))
    inputs = [verb.query(int(d), int(e), int(r)) for d, e, r in zip(q.direction, q.entity, q.relation)]
    index = _canonical_index(verb, kg)
    log.info("kgt5: %d %s queries, %d samples each", len(q), split, gen.num_samples)

    t0 = time.perf_counter()
    greedy_texts = greedy(model, tokenizer, inputs, batch_size=gen.batch_size, max_new_tokens=gen.max_new_tokens)
    t1 = time.perf_counter()
    samples = sample(model, tokenizer, inputs, num_samples=gen.num_samples, temperature=gen.temperature,
                     top_k=gen.top_k, batch_size=gen.batch_size, max_new_tokens=gen.max_new_tokens, seed=gen.seed)
    candidates, named_share = _sampled_candidates(samples, index)
    scores = sequence_log_probs(model, tokenizer, inputs, [[verb.target(int(e)) for e in c] for c in candidates],
                                batch_size=gen.batch_size)
    t2 = time.perf_counter()
    log.info("kgt5: greedy %.1f queries/s; sampling + scoring %.1f queries/s", len(q) / max(t1 - t0, 1e-9),
             len(q) / max(t2 - t1, 1e-9))

    known = known_answers(q, kg.all_triples())
    keys = q.keys().tolist()
    baseline = FrequencyBaseline(kg.triples["train"], kg.num_entities)
    ranks, base_ranks = np.empty(len(q), np.int64), np.empty(len(q), np.int64)
    for i, key in enumerate(keys):
        gold, true = int(q.answer[i]), known.get(key, set())
        ranks[i] = filtered_rank(candidates[i], scores[i], gold, true, kg.num_entities)
        base_ranks[i] = baseline.rank(int(q.direction[i]), int(q.relation[i]), gold, true)
    greedy_hits = np.array([t == kg.entity_names[int(a)] for t, a in zip(greedy_texts, q.answer)])

    if predictions is not None:
        top = [kg.entity_names[int(c[np.argmax(s)])] if len(c) else "" for c, s in zip(candidates, scores)]
        with atomic_file(predictions) as tmp:
            write_parquet(pa.Table.from_pydict({
                "triple": q.triple, "direction": [_DIRECTIONS[int(d)] for d in q.direction],
                "entity": [kg.entity_ids[int(e)] for e in q.entity],
                "relation": [kg.relation_ids[int(r)] for r in q.relation],
                "answer": [kg.entity_ids[int(a)] for a in q.answer], "rank": ranks, "baseline_rank": base_ranks,
                "greedy": greedy_texts, "greedy_hit": greedy_hits, "top": top,
                "candidates": [len(c) for c in candidates]}, schema=KGC_PREDICTIONS_SCHEMA), tmp)

    metrics: dict[str, float] = {"queries": len(q), "entity_name_share": named_share,
                                 "mean_candidates": float(np.mean([len(c) for c in candidates])) if len(q) else 0.0,
                                 "unfiltered_hits@1": float(greedy_hits.mean()) if len(q) else 0.0}
    for d, name in _DIRECTIONS.items():
        sel = q.direction == d
        metrics[f"unfiltered_{name}_hits@1"] = float(greedy_hits[sel].mean()) if sel.any() else 0.0
    metrics |= _with_directions(ranks, q, "") | _with_directions(base_ranks, q, "baseline_")
    return {k: rounded(v) if isinstance(v, float) else v for k, v in metrics.items()}


def evaluate_kgqa(*, model_dir: Path, prepared_qa: Path, prepared_kg: Path, split: str, params: KGQAParams,
                  predictions: Path | None = None, device: str = "auto") -> dict[str, float]:
    """Greedy hits@1 of ``model_dir`` on a KGQA split, and the template baseline."""
    kg = load_kg(prepared_kg)
    model, tokenizer = load_t5(model_dir)
    model.to(resolve_device(device))
    verb = model_verbaliser(model, tokenizer, kg, max_input_length=params.max_input_length,
                            max_target_length=params.max_target_length)
    train_qa, qa = read_qa(prepared_qa / "train.parquet", kg), read_qa(prepared_qa / f"{split}.parquet", kg)
    index = _canonical_index(verb, kg)
    inputs = [verb.question(x, topic) for x, topic in zip(qa.questions, qa.topics)]
    texts = greedy(model, tokenizer, inputs, batch_size=params.eval_batch_size, max_new_tokens=params.max_target_length)
    predicted = [index.get(t, -1) for t in texts]
    hits = np.array([p in set(a) for p, a in zip(predicted, qa.answers)])
    prior = most_frequent_answers(train_qa)
    base = [prior.get(template(x), -1) for x in qa.questions]
    base_hits = np.array([b in set(a) for b, a in zip(base, qa.answers)])
    if predictions is not None:
        with atomic_file(predictions) as tmp:
            write_parquet(pa.Table.from_pydict({
                "id": qa.ids, "prediction": texts, "entity": [kg.entity_ids[p] if p >= 0 else None for p in predicted],
                "hit": hits, "baseline": [kg.entity_names[b] if b >= 0 else None for b in base],
                "baseline_hit": base_hits}, schema=KGQA_PREDICTIONS_SCHEMA), tmp)
    n = len(qa)
    return {"questions": n, "unresolved_answers": qa.unresolved,
            "hits@1": rounded(hits.mean()) if n else 0.0,
            "entity_name_share": rounded(np.mean([p >= 0 for p in predicted])) if n else 0.0,
            "baseline_most_frequent_hits@1": rounded(base_hits.mean()) if n else 0.0}
