"""`python -m feeds.bench`: the cold-build benchmark (see feeds.bench.cold), then the
search benchmark on the same sizes (see feeds.bench.search)."""

import sys

from feeds.bench.cold import main
from feeds.bench.search import main as search_main

sys.exit(main() or search_main())
