"""Models: the KG-enhanced encoder (`kg_ml.models.kg_lm`) and its parts (`gnn`, `link_prediction`).

Import from the submodules; this package imports nothing itself, so loading one part does not
pull in the others.
"""
