"""Parquet schema of ``data/graphs/<task>/<split>.parquet`` (documented in docs/DATA.md)."""

from __future__ import annotations

import json

import pyarrow as pa

from kg_ml.graphs.extract import num_edge_types

# Columns of data/grounded/<task>/<split>.parquet this stage reads.
GROUNDED_COLUMNS = ("statement_id", "question_id", "choice", "is_gold", "kg", "text", "question_concepts",
                    "answer_concepts", "gold_answer_concepts")

GRAPH_SCHEMA = pa.schema([
    ("statement_id", pa.string()), ("question_id", pa.string()), ("choice", pa.int8()), ("is_gold", pa.bool_()),
    ("node_ids", pa.list_(pa.int32())), ("node_types", pa.list_(pa.int8())),
    ("node_scores", pa.list_(pa.float32())), ("edge_src", pa.list_(pa.int32())),
    ("edge_dst", pa.list_(pa.int32())), ("edge_type", pa.list_(pa.int16())),
])
METADATA_KEY = b"kg_ml.subgraph"


def graph_schema(kg: str, num_relations: int, max_node_num: int, relevance: str,
                 neighbour_fill: bool = False) -> pa.Schema:
    """GRAPH_SCHEMA with the facts a reader needs stored as JSON under ``kg_ml.subgraph``."""
    info = {"kg": kg, "num_relations": num_relations, "num_edge_types": num_edge_types(num_relations),
            "num_node_types": 4, "max_node_num": max_node_num, "relevance": relevance,
            "neighbour_fill": neighbour_fill}
    return GRAPH_SCHEMA.with_metadata({METADATA_KEY: json.dumps(info, sort_keys=True).encode()})


def graph_info(schema: pa.Schema) -> dict:
    """The ``graph_schema`` facts of a written table ({} when absent)."""
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}
