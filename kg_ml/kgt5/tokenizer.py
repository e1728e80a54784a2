"""A KGT5 tokenizer trained on the verbalised KG with the ``tokenizers`` library: BPE (KGT5's
choice) or Unigram over Metaspace pieces, with byte fallback (no string is unknown), the query
prefixes and the `` | `` separator (and for KGT5 the edge marks of KGT5-context) as single
tokens, ``</s>`` appended, saved as a Hugging Face fast tokenizer directory
(`AutoTokenizer.from_pretrained` loads it).

``split_by_whitespace`` (SentencePiece's option, on in KGT5) splits pieces at spaces; off, merges
may span words, so with a large enough vocabulary a whole entity name becomes one token. Because
the prefixes and the separator are added tokens, a whole query tokenises exactly as its parts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from kg_ml.kgt5.config import TokenizerParams
from kg_ml.kgt5.verbalize import IN_EDGE, OUT_EDGE, PREFIXES, SEPARATOR_TOKEN

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"  # ids 0, 1, 2 as in T5
BYTES = [f"<0x{b:02X}>" for b in range(256)]
KGT5_TOKENS = (*PREFIXES, SEPARATOR_TOKEN, OUT_EDGE, IN_EDGE)  # added tokens of KGT5's tokenizer


def _with_byte_fallback(tok: Tokenizer) -> Tokenizer:
    """Add the 256 byte pieces as ordinary vocabulary (after the trained pieces) and enable byte
    fallback; trainers cannot seed a vocabulary with non-special tokens, so this edits the JSON."""
    data = json.loads(tok.to_str())
    model = data["model"]
    if model["type"] == "BPE":
        vocab = model["vocab"]
        for piece in BYTES:
            vocab.setdefault(piece, len(vocab))
    else:  # Unigram: [piece, log-prob] pairs; bytes rank below every trained piece
        floor = min(score for _, score in model["vocab"]) - 1.0
        known = {piece for piece, _ in model["vocab"]}
        model["vocab"] += [[piece, floor] for piece in BYTES if piece not in known]
    model["byte_fallback"] = True
    return Tokenizer.from_str(json.dumps(data))


def train_tokenizer(texts: Iterable[str], params: TokenizerParams, *, show_progress: bool = False,
                    added: Sequence[str] = (*PREFIXES, SEPARATOR_TOKEN)) -> PreTrainedTokenizerFast:
    """Train on ``texts``; the vocabulary has ``params.vocab_size`` entries including bytes, specials
    and the ``added`` tokens (KGT5's stage adds `KGT5_TOKENS`, the edge marks of KGT5-context too)."""
    specials = [PAD, EOS, UNK]
    size = params.vocab_size - len(BYTES) - len(added)
    if params.kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token=UNK, fuse_unk=True))
        trainer = trainers.BpeTrainer(vocab_size=size, min_frequency=params.min_frequency,
                                      special_tokens=specials, show_progress=show_progress)
    else:
        tok = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=size, special_tokens=specials, unk_token=UNK,
                                          show_progress=show_progress)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                 split=params.split_by_whitespace)
    tok.train_from_iterator(texts, trainer)
    tok = _with_byte_fallback(tok)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_tokens([AddedToken(p, single_word=False, normalized=False) for p in added])
    tok.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, tok.token_to_id(EOS))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK,
                                   model_max_length=1024, padding_side="right")
