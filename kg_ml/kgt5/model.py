"""T5 for KGT5, trained from scratch: a `T5Config` from the params and the tokenizer's ids."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

from kg_ml.errors import InputError
from kg_ml.kgt5.config import T5Size


def t5_config(size: T5Size, tokenizer, context_neighbours: int = 0) -> T5Config:
    """T5 (v1.0 layout, tied embeddings as KGT5's T5-small) over ``tokenizer``'s vocabulary;
    ``kgt5_context_neighbours`` (when > 0) records how its inputs are built (`kg_ml.kgt5.context`)."""
    return T5Config(vocab_size=len(tokenizer), d_model=size.d_model, d_ff=size.d_ff, d_kv=size.d_kv,
                    num_heads=size.num_heads, num_layers=size.num_layers,
                    num_decoder_layers=size.num_decoder_layers, dropout_rate=size.dropout_rate,
                    relative_attention_num_buckets=size.relative_attention_num_buckets,
                    relative_attention_max_distance=size.relative_attention_max_distance,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                    decoder_start_token_id=tokenizer.pad_token_id,
                    **({"kgt5_context_neighbours": context_neighbours} if context_neighbours else {}))


def new_t5(size: T5Size, tokenizer, context_neighbours: int = 0) -> T5ForConditionalGeneration:
    """A randomly initialised T5 (seed the RNGs first for reproducible weights)."""
    return T5ForConditionalGeneration(t5_config(size, tokenizer, context_neighbours))


def context_neighbours(model) -> int:
    """The KGT5-context edges per input a model was trained with (0: plain KGT5)."""
    return int(getattr(model.config, "kgt5_context_neighbours", 0))


def load_tokenizer(path: str | Path):
    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise InputError(path, "no tokenizer.json here (run the tokenizer stage first)")
    return AutoTokenizer.from_pretrained(str(path))


def load_t5(model_dir: str | Path) -> tuple[T5ForConditionalGeneration, object]:
    """A saved KGT5 model and the tokenizer saved beside it."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputError(model_dir, "no config.json here (train the model first)")
    return T5ForConditionalGeneration.from_pretrained(str(model_dir)).eval(), load_tokenizer(model_dir)
