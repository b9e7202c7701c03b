"""`mcpcap schema`: the JSON Schema of every result model, so scripts can validate output."""

from __future__ import annotations

import json
import sys


def result_schemas(modules: list[str] | None = None) -> dict[str, dict]:
    """The shared models' schemas and those of the chosen modules (every registered one for
    None)."""
    from mcpcap.core.models import CaptureSummary, Ranking
    from mcpcap.core.modules.kinds import KindCatalog, RecordPage
    from mcpcap.core.modules.registry import load_modules

    models: dict[str, type] = {
        "CaptureSummary": CaptureSummary,
        "Ranking": Ranking,
        "RecordPage": RecordPage,
        "KindCatalog": KindCatalog,
    }
    for module in load_modules(modules):
        for model in module.result_models():
            models[model.__name__] = model
    return {name: model.model_json_schema() for name, model in models.items()}


def run_schema(modules: str | None = None) -> int:
    """`--modules dns,ntp`: as for every command, an unknown name is an error listing them."""
    from mcpcap import __version__
    from mcpcap.core.models import SCHEMA_VERSION

    chosen = [name.strip() for name in modules.split(",") if name.strip()] if modules else None

    document = {
        "mcpcap": __version__,
        "schema_version": SCHEMA_VERSION,
        "models": result_schemas(chosen),
    }
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0
