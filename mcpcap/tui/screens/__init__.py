"""The TUI's screens: the main screen, the help screen and the error modal."""
