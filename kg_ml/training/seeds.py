"""Stable seeds derived from names and positions (torch-free, for config-time code too)."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed that is a stable function of ``parts`` (unlike ``hash``, same in every process)."""
    digest = hashlib.blake2b(",".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1
