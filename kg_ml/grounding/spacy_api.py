"""spaCy as grounding imports it: without thinc's optional torch backend.

thinc (spaCy's ML layer) imports torch whenever it is installed, about 1 s per process, and
grounding runs no thinc model: a blank pipeline, the lookup lemmatizer and matchers. So spaCy is
imported while ``torch`` is hidden, unless torch is loaded already; torch imports normally
afterwards (a stage that also runs a transformer is unaffected).
"""

from __future__ import annotations

import sys


def _import_spacy():
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy
        return spacy
    sys.modules["torch"] = None  # `import torch` raises ImportError: thinc sets has_torch = False
    try:
        import spacy
    finally:
        del sys.modules["torch"]
    return spacy


spacy = _import_spacy()

from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

__all__ = ["Doc", "Language", "spacy"]
