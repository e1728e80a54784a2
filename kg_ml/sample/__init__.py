"""The bundled sample world: one coherent synthetic world written in the real upstream formats.

``generate(out, seed)`` writes HotpotQA (MRQA), Wikidata5M, KGQA, MedQA, ConceptNet, a UMLS-style
medical KG, a DPR passage file, KARD teacher rationales and gold annotations; ``python -m
kg_ml.sample`` is the command line.
"""

from kg_ml.sample.generate import generate

__all__ = ["generate"]
