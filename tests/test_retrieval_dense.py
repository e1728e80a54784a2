"""Dense FAISS index: exact and ANN kinds, padding, memory-mapped save/load round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kg_ml.retrieval.config import DenseParams
from kg_ml.retrieval.dense import DenseIndex, index_kind


def _vectors(n: int = 400, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_index_returns_true_inner_product_order() -> None:
    x = _vectors()
    q = _vectors(5, seed=1)
    rows, scores = DenseIndex.build(x, DenseParams()).search(q, 10)
    want = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(rows, want)
    np.testing.assert_allclose(scores, np.take_along_axis(q @ x.T, want, 1), rtol=1e-5)


def test_kind_switches_to_ann_past_exact_max() -> None:
    assert index_kind(100, DenseParams(exact_max=100)) == "flat"
    assert index_kind(101, DenseParams(exact_max=100)) == "ivf"
    assert index_kind(101, DenseParams(exact_max=100, ann="hnsw")) == "hnsw"


@pytest.mark.parametrize("ann", ["ivf", "hnsw"])
def test_ann_index_finds_stored_vectors_and_round_trips(tmp_path, ann: str) -> None:
    x = _vectors()
    params = DenseParams(exact_max=10, ann=ann, ivf={"nlist": 8, "nprobe": 8, "train_size": 400})
    index = DenseIndex.build(x, params, encoder={"ref": "r", "max_length": 8, "precision": "fp32"})
    rows, _ = index.search(x[:20], 1)
    assert rows[:, 0].tolist() == list(range(20))  # nprobe = nlist: every list is searched
    index.save(tmp_path)
    assert json.loads((tmp_path / "meta.json").read_text())["kind"] == ann
    loaded = DenseIndex.load(tmp_path, mmap=True)
    for got, want in zip(loaded.search(x[:20], 5), index.search(x[:20], 5)):
        np.testing.assert_array_equal(got, want)


def test_flat_save_load_mmap_is_identical_and_pads_past_the_corpus(tmp_path) -> None:
    x = _vectors(6)
    DenseIndex.build(x, DenseParams()).save(tmp_path)
    rows, scores = DenseIndex.load(tmp_path, mmap=True).search(x[:2], 8)
    assert rows[:, 0].tolist() == [0, 1]
    assert (rows[:, 6:] == -1).all() and np.isneginf(scores[:, 6:]).all()


def test_missing_index_is_a_one_line_input_error(tmp_path) -> None:
    from kg_ml.errors import InputError

    with pytest.raises(InputError, match="run index_kb first"):
        DenseIndex.load(tmp_path)


def test_ivfpq_is_compressed_round_trips_memory_mapped_and_finds_neighbours(tmp_path) -> None:
    x = _vectors()
    params = DenseParams(exact_max=10, ann="ivfpq", ivf={"nlist": 4, "nprobe": 4, "train_size": 400},
                         pq={"m": 4, "nbits": 6})
    index = DenseIndex.build(x, params)
    assert index.meta["kind"] == "ivfpq" and index.num_docs == len(x)
    exact = DenseIndex.build(x, DenseParams())
    got, want = index.search(x[:50], 10)[0], exact.search(x[:50], 10)[0]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got.tolist(), want.tolist())])
    assert recall > 0.3, recall
    index.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, mmap=True)
    for a, b in zip(loaded.search(x[:20], 5), index.search(x[:20], 5)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="does not divide"):
        DenseIndex.build(x, DenseParams(exact_max=10, ann="ivfpq", pq={"m": 5}))
