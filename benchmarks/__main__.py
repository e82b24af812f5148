"""``python -m benchmarks``: run the suite and print the table (or ``--json``)."""

import sys

from .suite import main

sys.exit(main())
