"""The headless analysis core. Never imports textual, rich or mcp (a test checks)."""

SCHEMA_VERSION = "1.0"  # of every result document; models.py re-exports it
