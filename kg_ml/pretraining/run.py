"""pretrain: DRAGON-style self-supervised training of the KG-LM on the grounded corpus.

A deterministic share of the texts (``heldout``, by a hash of the id) is held out; the model is
evaluated on it with fixed masks and dropped edges (drawn once from ``seed``), and the best
evaluation by total loss is kept.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import torch

from kg_ml.errors import InputError
from kg_ml.graphs.dataset import SubgraphDataset
from kg_ml.graphs.schema import graph_info
from kg_ml.io.metrics import rounded, rounded_all
from kg_ml.models.factory import encoder_config, kg_lm_config, load_tokenizer, new_model, resume_key
from kg_ml.models.kg_lm import KGLMForPretraining, is_lm_param
from kg_ml.models.params import KgLmParams
from kg_ml.pretraining.data import PretrainCollator, PretrainDataset, pretrain_loss, tokenize_texts
from kg_ml.pretraining.links import kg_edge_types
from kg_ml.training import train
from kg_ml.training.data import to_device

log = logging.getLogger(__name__)

SPLIT = "train"


def is_heldout(doc_id: str, share: float) -> bool:
    digest = hashlib.sha1(doc_id.encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32 < share


def read_corpus_texts(grounded: Path, graphs: Path) -> tuple[list[str], list[str]]:
    """(document ids, texts) of the subgraph rows, checked to be aligned with the grounded table."""
    texts = pq.read_table(grounded, columns=["statement_id", "question_id", "text"])
    keys = pq.read_table(graphs, columns=["statement_id"]).column("statement_id").to_pylist()
    if keys != texts.column("statement_id").to_pylist():
        raise InputError(graphs, f"rows do not match {grounded} (rerun pretrain_corpus)", field="statement_id")
    return texts.column("question_id").to_pylist(), texts.column("text").to_pylist()


def pretrain(params: KgLmParams, *, grounded_dir: Path, graphs_dir: Path, embeddings: Path, out_dir: Path,
             checkpoint_dir: Path | None = None, log_dir: Path | None = None, offline: bool = True) -> dict[str, Any]:
    """Train `KGLMForPretraining` on ``graphs_dir/train.parquet``; write it to ``out_dir``; return metrics."""
    pre = params.pretrain
    grounded, graphs_path = Path(grounded_dir) / f"{SPLIT}.parquet", Path(graphs_dir) / f"{SPLIT}.parquet"
    for path in (grounded, graphs_path):
        if not path.is_file():
            raise InputError(path, "missing file (run pretrain_corpus first)")
    ids, texts = read_corpus_texts(grounded, graphs_path)
    info = graph_info(pq.read_schema(graphs_path))
    graphs = SubgraphDataset(graphs_path, embeddings)
    tokenizer = load_tokenizer(params.model, offline=offline)
    tokenizer.model_max_length = params.model.max_length  # saved with the model
    tokens = tokenize_texts(tokenizer, texts, params.model.max_length)

    held = [is_heldout(i, pre.heldout) for i in ids]
    train_rows = [r for r, h in enumerate(held) if not h]
    eval_rows = [r for r, h in enumerate(held) if h]
    if not train_rows:
        raise InputError(graphs_path, f"no training texts left after holding out {pre.heldout:.0%}")
    log.info("pretrain: %d texts (%d held out), kg %s, %d edge types", len(ids), len(eval_rows),
             info.get("kg"), info["num_edge_types"])

    collate = PretrainCollator(tokenizer, pre.objective, num_edge_types=info["num_edge_types"],
                               kg_types=kg_edge_types(int(info["num_relations"])))
    config = kg_lm_config(params.model, encoder_config(params.model, tokenizer, offline=offline), use_kg=True,
                          node_feature_dim=int(graphs.graph(0).x.shape[1]), num_edge_types=info["num_edge_types"],
                          lp_scorer=pre.objective.scorer, lp_gamma=pre.objective.gamma)
    torch.manual_seed(pre.train.seed)  # the random initialisation
    model = new_model(KGLMForPretraining, params.model, config, offline=offline)
    loss_fn = pretrain_loss(pre.objective)
    heldout = PretrainDataset(tokens, graphs, eval_rows)
    eval_fn = _heldout_eval(heldout, collate, loss_fn, pre.train.batch_size, pre.train.seed) if eval_rows else None
    result = train(model, PretrainDataset(tokens, graphs, train_rows), collate_fn=collate, loss_fn=loss_fn,
                   config=pre.train, out_dir=out_dir, eval_fn=eval_fn, checkpoint_dir=checkpoint_dir, log_dir=log_dir,
                   is_lm_param=is_lm_param, save_extra=tokenizer.save_pretrained,
                   resume_key=resume_key([grounded, graphs_path, embeddings], pre.objective.model_dump_json()))
    metrics = {"texts": len(train_rows), "heldout_texts": len(eval_rows), "steps": result.global_step,
               "best_step": result.best_step, "train_loss": rounded(result.train_loss, 6)}
    metrics |= rounded_all(result.best_metrics, 6, prefix="heldout_")
    return metrics


def _heldout_eval(dataset: PretrainDataset, collate: PretrainCollator, loss_fn, batch_size: int, seed: int):
    """Losses on the held-out texts with masks and dropped edges drawn once (the same every evaluation)."""
    fixed = copy.copy(collate)
    fixed.generator = torch.Generator().manual_seed(seed)
    batches = [fixed([dataset[i] for i in range(lo, min(lo + batch_size, len(dataset)))])
               for lo in range(0, len(dataset), batch_size)]

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        sums: dict[str, float] = {}
        for batch in batches:
            loss, extra = loss_fn(model, to_device(batch, device))
            for k, v in {"loss": loss, **extra}.items():
                sums[k] = sums.get(k, 0.0) + float(v)
        return {k: v / len(batches) for k, v in sums.items()}

    return evaluate
