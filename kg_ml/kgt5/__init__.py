"""KGT5: knowledge-graph completion as sequence to sequence, and KGQA on top of it.

Modules: `verbalize` (triples -> ``predict tail: <head> | <relation>`` pairs, entity strings),
`tokenizer` (a BPE/Unigram tokenizer trained on the verbalised KG), `model` (T5 from a config),
`data` (tokenised pairs and batches), `generate` (sampling, summed log-prob scoring, greedy),
`ranking` (filtered ranking with ties, hits@k / MRR), `baseline` (most frequent answer per
relation), `kgqa` (question sets mapped onto the KG's entities), `train` / `evaluate` (the
stages' work), `config` (params).
"""
