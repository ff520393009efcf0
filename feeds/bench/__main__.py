"""`python -m feeds.bench`: the cold-build benchmark (see feeds.bench.cold)."""

import sys

from feeds.bench.cold import main

sys.exit(main())
