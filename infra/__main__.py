"""Run the local services command line: `python -m infra --help`."""

import sys

from infra.cli import main

sys.exit(main())
