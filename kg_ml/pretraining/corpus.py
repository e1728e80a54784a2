"""pretrain_corpus: the pretraining texts, grounded to a graph, with their subgraphs.

Texts are a prepared source's documents (knowledge_base: ``title. text`` of each passage;
wikidata5m: each entity's text), in file order. Every text is grounded like a statement
without an answer (its concepts are all "question" concepts, `kg_ml.grounding.Grounder`) into
``data/grounded/pretrain/train.parquet`` (the ground@ schema), and then goes through the same
subgraph extraction as the tasks (`kg_ml.graphs.build.build_subgraphs`) into
``data/graphs/pretrain/train.parquet``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.graphs.build import build_subgraphs
from kg_ml.graphs.config import SubgraphConfig
from kg_ml.grounding.ground import Grounder
from kg_ml.grounding.run import GROUNDED_SCHEMA
from kg_ml.grounding.vocab import Vocabulary
from kg_ml.io import ParquetSink, atomic_dir
from kg_ml.models.params import CorpusParams

log = logging.getLogger(__name__)

SPLIT = "train"  # pretraining has one split
CHUNK = 1024

# source -> (prepared table, columns joined into the text)
SOURCE_TABLES = {"knowledge_base": ("passages.parquet", ("title", "text")), "wikidata5m": ("text.parquet", ("text",))}


def read_texts(source: str, prepared_dir: Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    """(ids, texts) of a prepared source, in file order, the first ``limit`` ones."""
    name, columns = SOURCE_TABLES[source]
    path = Path(prepared_dir) / name
    if not path.is_file():
        raise InputError(path, f"missing file (run prepare@{source} first)")
    table = pq.read_table(path)
    if missing := [c for c in ("id", *columns) if c not in table.column_names]:
        raise InputError(path, f"missing column(s) {missing}")
    if limit is not None:
        table = table.slice(0, limit)
    ids = table.column("id").to_pylist()
    parts = [table.column(c).to_pylist() for c in columns]
    texts = []
    for row, values in enumerate(zip(ids, *parts)):
        if (null := next((c for c, v in zip(("id", *columns), values) if v is None), None)) is not None:
            raise InputError(path, f"row {row}: null value", field=null)
        values = values[1:]
        texts.append(". ".join(v.strip().rstrip(".") for v in values if v.strip()) + ".")
    return ids, texts


def _chunks(n: int, size: int) -> Iterator[slice]:
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))


def ground_texts(ids: list[str], texts: list[str], grounder: Grounder, kg: str, out_path: Path,
                 min_concepts: int) -> dict:
    """Ground every text; write the ground@ table of those with at least ``min_concepts`` concepts."""
    kept = concepts = 0
    with ParquetSink(out_path, GROUNDED_SCHEMA) as sink, \
            tqdm(total=len(texts), desc="ground pretraining texts", unit=" texts", disable=None) as bar:
        for part in _chunks(len(texts), CHUNK):
            grounded = grounder.ground_pairs(texts[part], [""] * (part.stop - part.start))
            cols: dict[str, list] = {name: [] for name in GROUNDED_SCHEMA.names}
            for doc_id, text, (question, answer) in zip(ids[part], texts[part], grounded):
                nodes = sorted(set(question) | set(answer))
                if len(nodes) < min_concepts:
                    continue
                for name, value in (("statement_id", f"{doc_id}:0"), ("question_id", doc_id), ("choice", 0),
                                    ("is_gold", True), ("kg", kg), ("text", text), ("question_concepts", nodes),
                                    ("answer_concepts", []), ("gold_answer_concepts", [])):
                    cols[name].append(value)
                concepts += len(nodes)
            kept += len(cols["statement_id"])
            sink.write(cols)
            bar.update(part.stop - part.start)
    return {"texts": len(texts), "texts_kept": kept, "mean_concepts": round(concepts / max(kept, 1), 4)}


def build_corpus(params: CorpusParams, subgraph: SubgraphConfig, *, prepared_dir: Path, kg_dir: Path,
                 embeddings: Path, grounded_dir: Path, graphs_dir: Path, offline: bool = True) -> dict:
    """Write ``grounded_dir/train.parquet`` and ``graphs_dir/train.parquet``; returns the metrics."""
    ids, texts = read_texts(params.source, prepared_dir, params.max_texts)
    log.info("pretrain_corpus: %d texts from %s, grounded to %s", len(texts), prepared_dir, kg_dir)
    vocab = Vocabulary.load(Path(kg_dir) / "vocab.parquet")
    grounder = Grounder(vocab, question_stopword_rule=params.question_stopword_rule, batch_size=params.batch_size)
    with atomic_dir(grounded_dir) as tmp:
        metrics = ground_texts(ids, texts, grounder, params.kg, tmp / f"{SPLIT}.parquet", params.min_concepts)
    graph_metrics = build_subgraphs("pretrain", params.kg, subgraph, Path(grounded_dir), Path(kg_dir),
                                    Path(embeddings), Path(graphs_dir), offline=offline)
    metrics |= {k: v for k, v in graph_metrics.items() if not k.startswith(f"{SPLIT}_")}
    return metrics

