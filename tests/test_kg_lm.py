"""The KG-LM model: the GNN really reads the graph, fusion reaches the LM, heads, save/load, T5."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data
from transformers import BertConfig, BertModel, T5Config

from kg_ml.models.kg_lm import (
    KGLMConfig,
    KGLMForMultipleChoice,
    KGLMForPretraining,
    KGLMModel,
    encoder_layers,
    is_lm_param,
)
from kg_ml.models.link_prediction import LinkPredictor

FEATURES, EDGE_TYPES = 8, 8


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, above all on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def bert_config(**kw) -> dict:
    return BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=32, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0, **kw).to_dict()


def t5_config() -> dict:
    return T5Config(vocab_size=60, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2, dropout_rate=0.0).to_dict()


def kg_config(encoder: dict | None = None, **kw) -> KGLMConfig:
    return KGLMConfig(encoder=encoder or bert_config(), fusion_layers=2, gnn_dim=8, gnn_heads=2, gnn_dropout=0.0,
                      node_feature_dim=FEATURES, num_edge_types=EDGE_TYPES, head_hidden=8, head_dropout=0.0, **kw)


def graph(seed: int, n: int = 6, e: int = 14) -> Data:
    """Node 0 is the context node, linked both ways to nodes 1 and 2; plus random typed edges."""
    g = torch.Generator().manual_seed(seed)
    node_type = torch.randint(1, 4, (n,), generator=g)
    node_type[0] = 0
    edges = torch.cat([torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]]), torch.randint(1, n, (2, e), generator=g)], 1)
    types = torch.cat([torch.tensor([0, 1, 4, 5]), torch.randint(2, 4, (e,), generator=g)])
    return Data(x=torch.randn(n, FEATURES, generator=g), node_type=node_type, node_score=torch.rand(n, 1, generator=g),
                edge_index=edges, edge_type=types, num_nodes=n)


def batch(graphs: list[Data], seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 60, (len(graphs), 10), generator=g)
    ids[:, 0] = 2
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "graph": Batch.from_data_list(graphs)}


def randomise_fusion(model: torch.nn.Module) -> None:
    """Fusion output layers start at zero (an untrained KG-LM is its encoder); give them weights."""
    torch.manual_seed(1)
    for fusion in model.kg_lm.fusion:
        torch.nn.init.normal_(fusion.net[-1].weight, std=0.5)


@pytest.fixture
def mc_model() -> KGLMForMultipleChoice:
    torch.manual_seed(0)
    model = KGLMForMultipleChoice(kg_config()).eval()
    randomise_fusion(model)
    return model


def _graph_side(model, graphs):
    inputs = batch(graphs)
    out = model.kg_lm(inputs["input_ids"], inputs["attention_mask"], graph=inputs["graph"])
    return torch.cat([out.node_states.flatten(), out.graph_pooled.flatten(), out.pooled.flatten()])


def test_gnn_output_depends_on_edge_types_and_edges(mc_model):
    graphs = [graph(i) for i in range(4)]
    base = _graph_side(mc_model, graphs)
    logits = mc_model(**batch(graphs), num_choices=4).logits

    permuted = [g.clone() for g in graphs]
    for g in permuted:
        g.edge_type = (g.edge_type + 3) % EDGE_TYPES
    assert (_graph_side(mc_model, permuted) - base).abs().max() > 1e-2
    assert not torch.equal(mc_model(**batch(permuted), num_choices=4).logits, logits)

    dropped = [g.clone() for g in graphs]
    for g in dropped:
        g.edge_index, g.edge_type = g.edge_index[:, ::2], g.edge_type[::2]
    assert (_graph_side(mc_model, dropped) - base).abs().max() > 1e-2
    assert not torch.equal(mc_model(**batch(dropped), num_choices=4).logits, logits)

    same = [g.clone() for g in graphs]  # reordering the edge list changes nothing: a set of edges
    for g in same:
        order = torch.randperm(g.edge_type.numel(), generator=torch.Generator().manual_seed(3))
        g.edge_index, g.edge_type = g.edge_index[:, order], g.edge_type[order]
    assert torch.allclose(_graph_side(mc_model, same), base, atol=1e-5)


def test_fusion_carries_the_graph_into_the_lm_tokens(mc_model):
    graphs = [graph(i) for i in range(2)]
    inputs = batch(graphs)
    hidden = mc_model.kg_lm(inputs["input_ids"], inputs["attention_mask"], graph=inputs["graph"]).last_hidden_state
    other = [g.clone() for g in graphs]
    other[0].edge_type = (other[0].edge_type + 1) % EDGE_TYPES
    changed = mc_model.kg_lm(inputs["input_ids"], inputs["attention_mask"],
                             graph=Batch.from_data_list(other)).last_hidden_state
    assert (hidden[0, 0] - changed[0, 0]).abs().max() > 1e-4  # [CLS] <-> context node
    assert not torch.equal(hidden[0, 1:], changed[0, 1:])  # the other tokens, by attending to [CLS]
    assert torch.allclose(hidden[1], changed[1], atol=1e-6)  # graphs stay with their own sequence


def test_untrained_fusion_leaves_the_encoder_unchanged():
    torch.manual_seed(0)
    model = KGLMModel(kg_config()).eval()
    plain = BertModel(BertConfig(**{k: v for k, v in bert_config().items() if k != "model_type"}),
                      add_pooling_layer=False).eval()
    plain.load_state_dict(model.encoder.state_dict())
    inputs = batch([graph(0), graph(1)])
    fused = model(inputs["input_ids"], inputs["attention_mask"], graph=inputs["graph"]).last_hidden_state
    assert torch.allclose(fused, plain(inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state,
                          atol=1e-5)


def test_text_only_model_has_no_gnn_and_ignores_graphs():
    torch.manual_seed(0)
    model = KGLMForMultipleChoice(kg_config(use_kg=False)).eval()
    names = [n for n, _ in model.named_parameters()]
    assert not any(n.startswith(("kg_lm.gnn", "kg_lm.fusion", "kg_lm.node_encoder")) for n in names)
    inputs = batch([graph(i) for i in range(4)])
    with_graph = model(**inputs, num_choices=2).logits
    del inputs["graph"]
    assert torch.equal(model(**inputs, num_choices=2).logits, with_graph)
    assert all(is_lm_param(n) == n.startswith("kg_lm.encoder.") for n in names)


def test_multiple_choice_loss_is_cross_entropy_over_choices(mc_model):
    out = mc_model(**batch([graph(i) for i in range(6)]), num_choices=3, labels=torch.tensor([2, 0]))
    assert out.logits.shape == (2, 3)
    assert torch.isclose(out.loss, torch.nn.functional.cross_entropy(out.logits, torch.tensor([2, 0])))


def test_save_pretrained_round_trip(tmp_path, mc_model):
    inputs = batch([graph(i) for i in range(4)])
    mc_model.save_pretrained(tmp_path / "mc")
    assert (tmp_path / "mc" / "model.safetensors").is_file()
    loaded = KGLMForMultipleChoice.from_pretrained(tmp_path / "mc").eval()
    for key in ("use_kg", "fusion_layers", "gnn_dim", "gnn_heads", "node_feature_dim", "num_edge_types", "pooling"):
        assert getattr(loaded.config, key) == getattr(mc_model.config, key)
    assert loaded.config.encoder_config().to_dict() == mc_model.config.encoder_config().to_dict()
    assert torch.equal(loaded(**inputs, num_choices=2).logits, mc_model(**inputs, num_choices=2).logits)


def test_auto_classes_load_saved_kg_lm_models(tmp_path, mc_model):
    """A saved KG-LM loads the way Hugging Face users load models (after importing kg_ml.models.kg_lm)."""
    from transformers import AutoConfig, AutoModel, AutoModelForMultipleChoice, AutoModelForPreTraining

    inputs = batch([graph(i) for i in range(4)])
    mc_model.save_pretrained(tmp_path / "mc")
    assert type(AutoConfig.from_pretrained(tmp_path / "mc")) is KGLMConfig
    mc = AutoModelForMultipleChoice.from_pretrained(tmp_path / "mc").eval()
    assert type(mc) is KGLMForMultipleChoice
    assert torch.equal(mc(**inputs, num_choices=2).logits, mc_model(**inputs, num_choices=2).logits)
    base = AutoModel.from_pretrained(tmp_path / "mc").eval()  # the fused encoder, without the head
    assert type(base) is KGLMModel
    expected = mc_model.kg_lm.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in base.state_dict().items())
    KGLMForPretraining(kg_config()).save_pretrained(tmp_path / "pre")
    assert type(AutoModelForPreTraining.from_pretrained(tmp_path / "pre")) is KGLMForPretraining


def test_pretraining_model_round_trip_and_losses(tmp_path):
    torch.manual_seed(0)
    model = KGLMForPretraining(kg_config(lp_scorer="rotate")).eval()
    inputs = batch([graph(0), graph(1)])
    lp = {"head": torch.tensor([1, 7]), "relation": torch.tensor([2, 3]), "tail": torch.tensor([2, 8]),
          "neg_head": torch.tensor([[1, 3], [9, 7]]), "neg_tail": torch.tensor([[4, 2], [8, 10]]),
          "neg_valid": torch.tensor([[True, True], [True, False]])}
    targets = {"mlm_positions": torch.tensor([1, 13]), "mlm_labels": torch.tensor([7, 8]), "lp": lp}
    out = model(**inputs, **targets)
    assert out.mlm_loss > 0 and out.lp_loss > 0
    model.save_pretrained(tmp_path / "pre")
    again = KGLMForPretraining.from_pretrained(tmp_path / "pre").eval()
    out2 = again(**inputs, **targets)
    assert torch.equal(out.mlm_loss, out2.mlm_loss) and torch.equal(out.lp_loss, out2.lp_loss)
    # the MLM output projection is the input embedding matrix itself (tied by construction)
    assert "mlm.decoder.weight" not in dict(model.named_parameters())


def test_t5_encoder_variant_fuses_and_runs(tmp_path):
    torch.manual_seed(0)
    model = KGLMForMultipleChoice(kg_config(t5_config())).eval()
    assert type(model.kg_lm.encoder).__name__ == "T5EncoderModel"
    assert model.config.resolved_pooling() == "mean"
    assert len(encoder_layers(model.kg_lm.encoder)) == 2
    randomise_fusion(model)
    graphs = [graph(i) for i in range(4)]
    base = model(**batch(graphs), num_choices=4).logits
    assert base.shape == (1, 4) and torch.isfinite(base).all()
    before = _graph_side(model, graphs)
    graphs[0].edge_type = (graphs[0].edge_type + 1) % EDGE_TYPES
    assert (_graph_side(model, graphs) - before).abs().max() > 1e-3
    model.save_pretrained(tmp_path / "t5")
    assert torch.equal(KGLMForMultipleChoice.from_pretrained(tmp_path / "t5").eval()(**batch(graphs), num_choices=4)
                       .logits, model(**batch(graphs), num_choices=4).logits)


@pytest.mark.parametrize("scorer", ["distmult", "transe", "rotate"])
def test_link_scorers_rank_a_consistent_triple_first(scorer):
    torch.manual_seed(0)
    lp = LinkPredictor(8, 3, scorer, gamma=6.0)
    h = torch.randn(8)
    if scorer == "distmult":  # score = <h, r, t>: t aligned with h * r scores highest
        t = h * lp.relation[1]
    elif scorer == "transe":  # h + r = t
        t = h + lp.relation[1]
    else:  # t = h rotated by the relation's phases
        re, im = h.chunk(2)
        c, s = torch.cos(lp.relation[1]), torch.sin(lp.relation[1])
        t = torch.cat([re * c - im * s, re * s + im * c])
    good = lp.score(h, torch.tensor(1), t)
    bad = lp.score(h, torch.tensor(1), torch.randn(8))
    assert good > bad
    if scorer != "distmult":
        assert torch.isclose(good, torch.tensor(6.0), atol=1e-3)


def test_link_loss_ignores_invalid_negatives():
    torch.manual_seed(0)
    lp = LinkPredictor(4, 2)
    nodes = torch.randn(5, 4)
    args = (torch.tensor([0]), torch.tensor([1]), torch.tensor([1]), torch.tensor([[2, 3]]), torch.tensor([[1, 1]]))
    only_first = lp.loss(nodes, *args, torch.tensor([[True, False]]))
    single = lp.loss(nodes, *args[:3], torch.tensor([[2]]), torch.tensor([[1]]), torch.tensor([[True]]))
    assert torch.isclose(only_first, single)
    empty = lp.loss(nodes, *(torch.zeros(0, dtype=torch.long),) * 3, torch.zeros((0, 2), dtype=torch.long),
                    torch.zeros((0, 2), dtype=torch.long), torch.zeros((0, 2), dtype=torch.bool))
    assert empty.item() == 0.0 and empty.requires_grad
