"""`python -m mcpcap`."""

import sys

from mcpcap.cli import main

sys.exit(main())
