"""subgraph@<task>: grounded statements -> one subgraph row per statement, plus coverage metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from kg_ml.errors import InputError
from kg_ml.graphs.config import SubgraphConfig
from kg_ml.graphs.embeddings import load_embeddings
from kg_ml.graphs.extract import OTHER, Subgraph, SubgraphExtractor
from kg_ml.graphs.relevance import CosineRelevance, LMRelevance
from kg_ml.graphs.schema import GROUNDED_COLUMNS, graph_schema
from kg_ml.io import ParquetSink, atomic_dir
from kg_ml.kg import KnowledgeGraph
from kg_ml.models.pretrained import resolve_pretrained

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")  # as ground@ writes them


def split_tables(grounded_dir: Path) -> list[tuple[str, Path]]:
    """The (split, grounded table) pairs present, in train/dev/test order."""
    found = [(s, grounded_dir / f"{s}.parquet") for s in SPLITS if (grounded_dir / f"{s}.parquet").is_file()]
    if not found:
        raise InputError(grounded_dir, f"no split table ({', '.join(f'{s}.parquet' for s in SPLITS)}); "
                         "run ground first")
    return found


def read_grounded(path: Path, kg_name: str, num_nodes: int) -> pa.Table:
    """The grounded columns this stage needs, checked: no nulls, one graph, node ids in range."""
    table = pq.read_table(path)
    if missing := [c for c in GROUNDED_COLUMNS if c not in table.column_names]:
        raise InputError(path, f"missing column(s) {missing}")
    table = table.select(list(GROUNDED_COLUMNS))
    for name in GROUNDED_COLUMNS:
        column = table.column(name)
        if column.null_count:
            row = pc.index(pc.is_null(column), True).as_py()
            raise InputError(path, f"row {row}: null value", field=name)
    if table.num_rows and (row := pc.index(pc.not_equal(table.column("kg"), kg_name), True).as_py()) >= 0:
        raise InputError(path, f"row {row}: grounded to graph {table.column('kg')[row].as_py()!r}, "
                         f"expected {kg_name!r}", field="kg")
    for name in ("question_concepts", "answer_concepts", "gold_answer_concepts"):
        column = table.column(name).combine_chunks()
        values = pc.list_flatten(column).to_numpy(zero_copy_only=False)
        if (bad := np.flatnonzero((values < 0) | (values >= num_nodes))).size:
            row = pc.list_parent_indices(column).to_numpy()[bad[0]]
            raise InputError(path, f"row {row}: node id {values[bad[0]]} out of range 0..{num_nodes - 1}",
                             field=name)
    return table


def _lists(arrays: list[np.ndarray], dtype: pa.DataType) -> pa.ListArray:
    offsets = np.zeros(len(arrays) + 1, np.int32)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    values = np.concatenate(arrays) if arrays else np.empty(0)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(dtype.to_pandas_dtype()), dtype))


def subgraph_columns(rows: pa.Table, graphs: list[Subgraph]) -> dict[str, pa.Array]:
    """The output columns of a chunk: the statement keys of ``rows`` plus each subgraph."""
    return {
        **{name: rows.column(name).combine_chunks() for name in ("statement_id", "question_id", "choice", "is_gold")},
        "node_ids": _lists([g.node_ids for g in graphs], pa.int32()),
        "node_types": _lists([g.node_types for g in graphs], pa.int8()),
        "node_scores": _lists([g.node_scores for g in graphs], pa.float32()),
        "edge_src": _lists([g.edge_src for g in graphs], pa.int32()),
        "edge_dst": _lists([g.edge_dst for g in graphs], pa.int32()),
        "edge_type": _lists([g.edge_type for g in graphs], pa.int16()),
    }


class _Coverage:
    """Running sums behind metrics/subgraph_<task>.json."""

    def __init__(self) -> None:
        self.statements = self.nodes = self.edges = self.extras = self.truncated = 0
        self.gold = {True: [0, 0], False: [0, 0]}  # is_gold -> [statements with a gold concept, gold kept]

    def add(self, graphs: list[Subgraph], gold: list[list[int]], is_gold: list[bool]) -> None:
        for g, answer, own in zip(graphs, gold, is_gold):
            self.statements += 1
            self.nodes += g.num_nodes
            self.edges += g.num_edges
            self.extras += int((g.node_types == OTHER).sum())
            self.truncated += g.truncated
            if answer:
                self.gold[own][0] += 1
                self.gold[own][1] += bool(np.isin(answer, g.node_ids).any())

    def metrics(self) -> dict:
        n = max(self.statements, 1)
        (gold_n, gold_in), (other_n, other_in) = self.gold[True], self.gold[False]
        return {"statements": self.statements, "mean_nodes": round(self.nodes / n, 3),
                "mean_edges": round(self.edges / n, 3), "mean_extra_nodes": round(self.extras / n, 3),
                "share_truncated": round(self.truncated / n, 4),
                "gold_statements_with_answer_concept": gold_n,
                # the gold statement's subgraph holds a gold answer concept (MC: it survived the cut)
                "share_gold_answer_in_subgraph": round(gold_in / max(gold_n, 1), 4),
                # every statement (MC: also the wrong choices' subgraphs) holds a gold answer concept
                "share_gold_answer_in_subgraph_all_statements":
                    round((gold_in + other_in) / max(gold_n + other_n, 1), 4)}


def make_relevance(cfg: SubgraphConfig, kg: KnowledgeGraph, embeddings_path: Path, *, offline: bool):
    """The configured scorer: cosine against the concept embeddings' own encoder, or DRAGON's LM score."""
    if cfg.relevance == "lm":
        log.info("relevance: LM likelihood under %s", cfg.lm.model)
        return LMRelevance(resolve_pretrained(cfg.lm.model, offline=offline), kg.texts,
                           batch_size=cfg.lm.batch_size, max_length=cfg.lm.max_length)
    from kg_ml.retrieval.encoder import TextEncoder

    embeddings = load_embeddings(embeddings_path)
    embeddings.check_matches(kg.texts, embeddings_path)
    log.info("relevance: cosine with %s embeddings from %s", embeddings_path, embeddings.encoder)
    encoder = TextEncoder(resolve_pretrained(embeddings.encoder, offline=offline),
                          max_length=cfg.statement_max_length, batch_size=cfg.statement_batch_size,
                          precision=embeddings.metadata.get("precision", "auto"))
    return CosineRelevance(embeddings.vectors, encoder)


def build_subgraphs(task: str, kg_name: str, cfg: SubgraphConfig, grounded_dir: Path, kg_dir: Path,
                    embeddings_path: Path, out_dir: Path, *, neighbour_fill: bool = False,
                    offline: bool = True) -> dict:
    """Write ``<split>.parquet`` subgraph tables for every grounded split into ``out_dir`` atomically."""
    splits = split_tables(Path(grounded_dir))
    kg = KnowledgeGraph.load(kg_dir)
    relevance = make_relevance(cfg, kg, Path(embeddings_path), offline=offline)
    extractor = SubgraphExtractor(kg, cfg.max_node_num, neighbour_fill=neighbour_fill)
    schema = graph_schema(kg_name, kg.num_relations, cfg.max_node_num, cfg.relevance, neighbour_fill)
    coverage, metrics = _Coverage(), {}
    with atomic_dir(out_dir) as tmp:
        for split, path in splits:
            table = read_grounded(path, kg_name, kg.num_nodes)
            log.info("subgraph@%s: %s (%d statements) -> %s", task, path, table.num_rows,
                     Path(out_dir) / f"{split}.parquet")
            score_fns = relevance.for_texts(table.column("text").to_pylist())
            question = table.column("question_concepts").to_pylist()
            answer = table.column("answer_concepts").to_pylist()
            gold = table.column("gold_answer_concepts").to_pylist()
            is_gold = table.column("is_gold").to_pylist()
            with ParquetSink(tmp / f"{split}.parquet", schema) as sink, \
                    tqdm(total=table.num_rows, desc=f"subgraph {task}/{split}", unit=" statements",
                         leave=False, disable=None) as bar:
                for lo in range(0, table.num_rows, cfg.chunk_size):
                    hi = min(lo + cfg.chunk_size, table.num_rows)
                    graphs = extractor.extract_batch(list(zip(question[lo:hi], answer[lo:hi])), score_fns[lo:hi])
                    sink.write(pa.table(subgraph_columns(table.slice(lo, hi - lo), graphs), schema=schema))
                    coverage.add(graphs, gold[lo:hi], is_gold[lo:hi])
                    bar.update(hi - lo)
            metrics[f"{split}_statements"] = sink.rows
    metrics |= coverage.metrics()
    log.info("subgraph@%s: %s", task, json.dumps(metrics))
    return metrics
