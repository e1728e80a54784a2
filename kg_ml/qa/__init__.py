"""Extractive question answering (LinkBERT's MRQA HotpotQA recipe) and the params of the
text/KG tasks: features with doc stride, span post-processing, SQuAD/MRQA metrics, baseline.

Modules: `features` (question/context windows with offsets), `postprocess` (n-best spans),
`squad` (official answer normalisation, EM/F1), `baseline` (first entity in the context),
`model` (encoder + span head), `train` / `evaluate` (the stages' work), `config` / `profiles`
(the ``text_kg`` section of params.yaml).
"""
