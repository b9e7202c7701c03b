"""The MCP face: `build_server(workspace, settings)` and `run_server(settings, args)`.

Nothing is imported here, so `mcpcap serve` loads the SDK and the core only when it runs.
"""
