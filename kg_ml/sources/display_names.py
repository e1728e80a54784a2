"""Unique display names for KG entities, KGT5-style: the name; on a collision the name plus a
short description; if that still collides (or there is no description) the name plus the id."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def short_description(text: str, max_words: int = 10) -> str | None:
    """The first sentence of ``text``, cut to ``max_words`` words (None if empty)."""
    end = _SENTENCE_END.search(text)
    sentence = text[: end.start()] if end else text
    words = sentence.split()[:max_words]
    return " ".join(words) or None


def duplicated(values: pa.Array) -> np.ndarray:
    """Boolean mask: the value occurs more than once (all occurrences marked)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)
    return np.bincount(codes)[codes] > 1


def _compose(names: pa.Array, descs: pa.Array, ids: pa.Array, level: np.ndarray) -> pa.Array:
    """Display names for the given levels; only the (usually few) composed ones are built."""
    out = names
    for lv, suffix in ((1, descs), (2, ids)):
        mask = level == lv
        if mask.any():
            at = pa.array(np.flatnonzero(mask))
            composed = pc.binary_join_element_wise(names.take(at), " (", suffix.take(at), ")", "")
            out = pc.replace_with_mask(out, pa.array(mask), composed)
    return out


def display_names(ids: pa.Array, names: pa.Array, descs: pa.Array) -> tuple[pa.Array, dict[str, int]]:
    """Unique display names and counts of how many needed a description / an id.

    ``descs`` holds the description per entity (null: none). Levels: 0 = name, 1 = name (desc),
    2 = name (id). Entities whose level-1 name still collides move to level 2; a plain name that
    collides with another entity's composed name moves to level 2 too (only when nothing else
    is left to move), so the loop ends with unique names because level-2 names embed unique ids.
    """
    level = np.zeros(len(names), dtype=np.int8)
    clash = duplicated(names)
    level[clash] = 1
    level[clash & descs.is_null().to_numpy(zero_copy_only=False)] = 2
    while True:
        display = _compose(names, descs, ids, level)
        dup = duplicated(display)
        if not dup.any():
            break
        bump = dup & (level == 1)
        if not bump.any():
            bump = dup & (level == 0)
        if not bump.any():  # only (name, id) clashes left: the ids are not unique
            raise ValueError("display names cannot be made unique: duplicate ids")
        level[bump] = 2
    return display, {"display_name_with_description": int((level == 1).sum()),
                     "display_name_with_id": int((level == 2).sum())}
