"""Command implementations behind `mcpcap.cli` (imported lazily)."""
