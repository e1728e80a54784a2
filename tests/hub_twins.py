"""Tiny random-init twins of hub models, written into a Hugging Face hub cache under the hub name.

A twin has the upstream model's ``model_type`` and tokenizer class, but a few thousand
parameters, so that ``from_pretrained("roberta-large")`` under ``HF_HUB_OFFLINE=1`` runs the real
hub-loading path (``snapshot_download(local_files_only=True)``, the cache layout
``models--org--name/snapshots/<rev>/`` + ``refs/main``) without a download. Tokenizers are built
offline from a small corpus: WordPiece (BERT), byte-level BPE (RoBERTa), Unigram with T5's
``<pad>``/``</s>``/``<unk>`` and 100 extra ids (T5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

# Each known hub model: its model_type (the twin's architecture and tokenizer follow it).
MODEL_TYPES = {
    "bert-base-uncased": "bert",
    "michiyasunaga/BioLinkBERT-large": "bert",
    "michiyasunaga/LinkBERT-base": "bert",
    "michiyasunaga/LinkBERT-large": "bert",
    "roberta-large": "roberta",
    "google/flan-t5-base": "t5",
}
LAYERS = 6  # >= the full profile's kg_lm fusion_layers (5)


def _tokenizer(model_type: str, texts: Sequence[str]):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizer, RobertaTokenizer, T5Tokenizer

    if model_type == "bert":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=800, special_tokens=specials,
                                                                 show_progress=False))
        return BertTokenizer(vocab=tok.get_vocab(), do_lower_case=True)
    if model_type == "roberta":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tok.train_from_iterator(texts, trainers.BpeTrainer(
            vocab_size=800, special_tokens=specials, show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
        import json
        model = json.loads(tok.to_str())["model"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
        return RobertaTokenizer(vocab=model["vocab"], merges=merges)
    if model_type == "t5":
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.train_from_iterator(texts, trainers.UnigramTrainer(
            vocab_size=600, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False))
        import json
        vocab = [tuple(p) for p in json.loads(tok.to_str())["model"]["vocab"]]
        return T5Tokenizer(vocab=vocab, extra_ids=100)
    raise ValueError(f"no twin recipe for model_type {model_type!r}")


def _model(model_type: str, vocab_size: int, tokenizer):
    from transformers import BertConfig, BertForMaskedLM, RobertaConfig, RobertaForMaskedLM, T5Config, \
        T5ForConditionalGeneration

    small = dict(hidden_size=32, num_hidden_layers=LAYERS, num_attention_heads=2, intermediate_size=64)
    if model_type == "bert":
        return BertForMaskedLM(BertConfig(vocab_size=vocab_size, max_position_embeddings=512, **small))
    if model_type == "roberta":
        return RobertaForMaskedLM(RobertaConfig(vocab_size=vocab_size, max_position_embeddings=514,
                                                pad_token_id=tokenizer.pad_token_id,
                                                bos_token_id=tokenizer.bos_token_id,
                                                eos_token_id=tokenizer.eos_token_id, **small))
    return T5ForConditionalGeneration(T5Config(
        vocab_size=vocab_size, d_model=32, d_ff=64, d_kv=16, num_heads=2, num_layers=2, num_decoder_layers=2,
        feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id))


def write_twin(cache: Path, model_id: str, texts: Sequence[str], *, seed: int = 0) -> Path:
    """Write a twin of ``model_id`` into hub cache ``cache`` (``HF_HUB_CACHE``); returns its snapshot."""
    import torch

    model_type = MODEL_TYPES[model_id]
    torch.manual_seed(seed)
    tokenizer = _tokenizer(model_type, texts)
    model = _model(model_type, len(tokenizer), tokenizer)
    rev = hashlib.sha1(model_id.encode()).hexdigest()
    repo = cache / ("models--" + model_id.replace("/", "--"))
    snapshot = repo / "snapshots" / rev
    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(rev)
    return snapshot


def write_twins(cache: Path, model_ids: Iterable[str], texts: Sequence[str]) -> dict[str, Path]:
    """Twins of every model in ``model_ids`` (unknown ids: ValueError naming them)."""
    model_ids = list(model_ids)
    if unknown := [m for m in model_ids if m not in MODEL_TYPES]:
        raise ValueError(f"no twin recipe for {unknown}: add them to tests/hub_twins.py MODEL_TYPES")
    return {m: write_twin(cache, m, texts) for m in model_ids}
