"""kg-ml: a reproducible pipeline for knowledge-graph-enhanced language models."""

import os as _os

__version__ = "0.1.0"

# Test instrumentation: the e2e test checks each stage's deps against the modules it imported.
if _os.environ.get("KG_ML_IMPORT_LOG"):
    from kg_ml.import_log import record_at_exit

    record_at_exit(_os.environ["KG_ML_IMPORT_LOG"])
