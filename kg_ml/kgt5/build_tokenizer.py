"""tokenizer: train KGT5's tokenizer on the verbalised training triples and save it.

The training text is the parts of every verbalised query and answer (head, relation and tail
strings, with their frequencies in the triples); the prefixes and the separator are added tokens,
so merges are never spent on them or across them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from kg_ml.io import atomic_dir
from kg_ml.io.metrics import rounded
from kg_ml.kgt5.config import TokenizerParams
from kg_ml.kgt5.kg import load_kg
from kg_ml.kgt5.tokenizer import KGT5_TOKENS, train_tokenizer
from kg_ml.kgt5.verbalize import Verbaliser
from kg_ml.training.rng import derive_seed

log = logging.getLogger(__name__)


def build_tokenizer(*, prepared: Path, out_dir: Path, params: TokenizerParams) -> dict[str, float]:
    """Train on (a seeded sample of) the training triples' strings; write a Hugging Face tokenizer
    directory to ``out_dir``; return flat metrics."""
    kg = load_kg(prepared, splits=("train",))
    triples = kg.triples["train"]
    n_pairs = 2 * len(triples)
    if params.max_pairs is not None and n_pairs > params.max_pairs:
        rng = np.random.default_rng(derive_seed(params.seed, "tokenizer"))
        triples = triples[np.sort(rng.choice(len(triples), params.max_pairs // 2, replace=False))]
    log.info("tokenizer: training %s (vocab %d) on %d verbalised pairs", params.kind, params.vocab_size,
             2 * len(triples))
    names, relations = kg.entity_names, kg.relation_names
    texts = (s for h, r, t in triples.tolist() for s in (names[h], relations[r], names[t]))
    tokenizer = train_tokenizer(texts, params, show_progress=log.isEnabledFor(logging.INFO), added=KGT5_TOKENS)
    with atomic_dir(out_dir) as tmp:
        tokenizer.save_pretrained(tmp)
    verb = Verbaliser(tokenizer, kg.entity_names, kg.relation_names, max_input_length=1 << 20,
                      max_target_length=1 << 20)
    return {"vocab_size": len(tokenizer), "training_pairs": 2 * len(triples),
            "mean_entity_tokens": rounded(np.mean([len(e) for e in verb.entities])),
            "mean_relation_tokens": rounded(np.mean([len(r) for r in verb.relations]))}
