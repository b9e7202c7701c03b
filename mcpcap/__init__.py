"""mcpcap: one analysis core for packet captures, three faces (TUI, MCP server, CLI).

Kept import-free on purpose: `mcpcap --help` must start fast.
"""

__version__ = "0.1.0"
