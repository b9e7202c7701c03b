"""`python -m mcpcap`."""

from mcpcap.cli import run

run()
