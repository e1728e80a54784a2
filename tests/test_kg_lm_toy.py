"""A toy medical world on disk for the KG-LM stage tests, and checks that it reads back.

Four diseases with two symptoms each and one drug each; relations has_symptom (0) and
may_treat (1). MedQA-style questions ask for the disease of two symptoms; the subgraph of a
statement holds the context node, the symptoms (question), the option (answer) and, DRAGON's
way, the KG edges among them. The pretraining corpus is one sentence per disease and drug.
Imported by the other KG-LM tests (``from test_kg_lm_toy import toy_world``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from kg_ml.graphs.dataset import SubgraphDataset
from kg_ml.graphs.embeddings import save_embeddings
from kg_ml.graphs.schema import graph_schema
from kg_ml.grounding.run import GROUNDED_SCHEMA
from kg_ml.io import write_parquet
from kg_ml.models.params import KgLmParams

DISEASES = ["flu", "gout", "mumps", "rabies"]
SYMPTOMS = ["cough", "fever", "rash", "pain", "itch", "chills", "nausea", "cramps"]
DRUGS = ["alpha", "beta", "gamma", "delta"]
NAMES = DISEASES + SYMPTOMS + DRUGS  # node id = position
R = 2  # has_symptom, may_treat


def node(name: str) -> int:
    return NAMES.index(name)


def kg_edges() -> list[tuple[int, int, int]]:
    """(head, relation, tail): disease d has symptoms 2d, 2d+1; drug d treats disease d."""
    edges = []
    for d, disease in enumerate(DISEASES):
        edges += [(node(disease), 0, node(SYMPTOMS[2 * d])), (node(disease), 0, node(SYMPTOMS[2 * d + 1]))]
        edges.append((node(DRUGS[d]), 1, node(disease)))
    return edges


def subgraph(question: list[int], answer: list[int]) -> dict:
    """DRAGON's layout: context node, question nodes, answer nodes; context edges and KG edges, + inverses."""
    ids = [-1, *question, *answer]
    types = [0] + [1] * len(question) + [2] * len(answer)
    src, dst, etype = [], [], []
    for pos in range(1, len(ids)):
        src.append(0), dst.append(pos), etype.append(0 if types[pos] == 1 else 1)
    where = {n: i for i, n in enumerate(ids) if n >= 0}
    for h, r, t in kg_edges():
        if h in where and t in where:
            src.append(where[h]), dst.append(where[t]), etype.append(2 + r)
    half = len(src)
    src, dst, etype = src + dst[:half], dst + src[:half], etype + [t + R + 2 for t in etype]
    return {"node_ids": ids, "node_types": types, "node_scores": [0.0] * len(ids),
            "edge_src": src, "edge_dst": dst, "edge_type": etype}


def _graph_rows(statements: list[tuple[str, str, int, bool, list[int], list[int]]]) -> pa.Table:
    rows = {name: [] for name in graph_schema("toy", R, 16, "cosine").names}
    for sid, qid, choice, gold, question, answer in statements:
        for k, v in {"statement_id": sid, "question_id": qid, "choice": choice, "is_gold": gold,
                     **subgraph(question, answer)}.items():
            rows[k].append(v)
    return pa.table(rows, schema=graph_schema("toy", R, 16, "cosine"))


@dataclass(frozen=True)
class ToyWorld:
    root: Path
    questions: Path  # prepared MedQA-style splits
    graphs: Path  # subgraphs of every statement, per split
    embeddings: Path
    grounded_corpus: Path
    graphs_corpus: Path


def medqa_split(split: str, n: int, seed: int) -> tuple[pa.Table, list]:
    rng = np.random.default_rng(seed)
    questions = {"id": [], "question": [], "options": [], "label": []}
    statements = []
    for i in range(n):
        d = int(rng.integers(len(DISEASES)))
        symptoms = [SYMPTOMS[2 * d], SYMPTOMS[2 * d + 1]]
        options = list(rng.permutation(DISEASES))
        qid = f"{split}-{i:05d}"
        questions["id"].append(qid)
        questions["question"].append(f"A patient has {symptoms[0]} and {symptoms[1]}. What is the diagnosis?")
        questions["options"].append(options)
        questions["label"].append(options.index(DISEASES[d]))
        for c, option in enumerate(options):
            statements.append((f"{qid}:{c}", qid, c, option == DISEASES[d], [node(s) for s in symptoms],
                               [node(option)]))
    return pa.table(questions, schema=pa.schema([("id", pa.string()), ("question", pa.string()),
                                                 ("options", pa.list_(pa.string())), ("label", pa.int8())])), statements


def toy_world(root: Path) -> ToyWorld:
    w = ToyWorld(root, root / "prepared/medqa", root / "graphs/medqa", root / "embeddings/toy/concepts.safetensors",
                 root / "grounded/pretrain", root / "graphs/pretrain")
    for d in (w.questions, w.graphs, w.grounded_corpus, w.graphs_corpus):
        d.mkdir(parents=True, exist_ok=True)
    vectors = np.random.default_rng(0).standard_normal((len(NAMES), 8)).astype(np.float32)
    save_embeddings(w.embeddings, vectors, {"encoder": "toy", "kg": "toy"})
    for split, n, seed in (("train", 24, 0), ("dev", 8, 1), ("test", 8, 2)):
        table, statements = medqa_split(split, n, seed)
        write_parquet(table, w.questions / f"{split}.parquet")
        write_parquet(_graph_rows(statements), w.graphs / f"{split}.parquet")

    texts, statements = [], []
    for d, disease in enumerate(DISEASES):
        s1, s2 = SYMPTOMS[2 * d], SYMPTOMS[2 * d + 1]
        texts.append((f"d{d}", f"{disease} presents with {s1} and {s2}.", [node(disease), node(s1), node(s2)]))
        texts.append((f"x{d}", f"{DRUGS[d]} is used to treat {disease}.", [node(DRUGS[d]), node(disease)]))
    for doc, text, concepts in texts:
        statements.append((f"{doc}:0", doc, 0, True, sorted(concepts), []))
    grounded = {name: [] for name in GROUNDED_SCHEMA.names}
    for doc, text, concepts in texts:
        for k, v in (("statement_id", f"{doc}:0"), ("question_id", doc), ("choice", 0), ("is_gold", True),
                     ("kg", "toy"), ("text", text), ("question_concepts", sorted(concepts)),
                     ("answer_concepts", []), ("gold_answer_concepts", [])):
            grounded[k].append(v)
    write_parquet(pa.table(grounded, schema=GROUNDED_SCHEMA), w.grounded_corpus / "train.parquet")
    write_parquet(_graph_rows(statements), w.graphs_corpus / "train.parquet")
    return w


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread inside the block (the stage runner sets threads for real stages)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tiny_params(**medqa_train) -> KgLmParams:
    """A KG-LM small enough to train in a second or two (MiniLM's tokenizer, a 2-layer 16-wide BERT)."""
    return KgLmParams.model_validate({
        "model": {"encoder_config": {"model_type": "bert", "hidden_size": 16, "num_hidden_layers": 2,
                                     "num_attention_heads": 2, "intermediate_size": 32,
                                     "max_position_embeddings": 64},
                  "max_length": 64, "fusion_layers": 2, "gnn_dim": 8, "gnn_heads": 2, "head_hidden": 8},
        "pretrain": {"heldout": 0.25, "objective": {"negatives": 4, "link_drop": 0.5},
                     "train": {"epochs": 2, "batch_size": 2, "lr": 1e-3, "log_every": 2, "seed": 0}},
        "medqa": {"variants": {"kg": {"init": "pretrained", "use_kg": True},
                               "text": {"init": "pretrained", "use_kg": False},
                               "scratch": {"init": "encoder", "use_kg": True}},
                  "train": {"epochs": 2, "batch_size": 4, "lr": 3e-3, "lm_lr": 1e-3, "metric_for_best": "accuracy",
                            "log_every": 2, "seed": 0, **medqa_train},
                  "eval_batch_size": 8},
    })


def test_toy_world_reads_back_with_the_subgraph_dataset(tmp_path):
    w = toy_world(tmp_path)
    train = SubgraphDataset(w.graphs / "train.parquet", w.embeddings)
    assert len(train) == 24 and train.num_edge_types == 2 * (R + 2)
    q = train[0]
    assert len(q.graphs) == 4 and 0 <= q.label < 4
    gold = q.graphs[q.label]
    assert int((gold.edge_type == 2).sum()) == 2  # the gold disease has both symptoms
    corpus = SubgraphDataset(w.graphs_corpus / "train.parquet", w.embeddings)
    assert len(corpus) == 8
