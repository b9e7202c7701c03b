"""The Textual face of mcpcap: `mcpcap tui` (see `mcpcap.tui.app.run_tui`)."""
