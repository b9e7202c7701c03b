"""The headless analysis core. Never imports textual, rich or mcp (a test checks)."""
