"""Entry point for `python -m recommender`."""

import sys

from .cli import main

sys.exit(main())
