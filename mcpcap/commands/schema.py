"""`mcpcap schema`: the JSON Schema of every result model, so scripts can validate output."""

from __future__ import annotations

import json
import sys


def result_schemas() -> dict[str, dict]:
    from mcpcap.core.models import CaptureSummary, Ranking
    from mcpcap.core.modules.kinds import KindCatalog, RecordPage
    from mcpcap.core.modules.registry import load_modules

    models: dict[str, type] = {
        "CaptureSummary": CaptureSummary,
        "Ranking": Ranking,
        "RecordPage": RecordPage,
        "KindCatalog": KindCatalog,
    }
    for module in load_modules(None):
        for model in module.result_models():
            models[model.__name__] = model
    return {name: model.model_json_schema() for name, model in models.items()}


def run_schema() -> int:
    from mcpcap import __version__
    from mcpcap.core.models import SCHEMA_VERSION

    document = {
        "mcpcap": __version__,
        "schema_version": SCHEMA_VERSION,
        "models": result_schemas(),
    }
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0
