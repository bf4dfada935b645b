"""`python -m bench [--sizes 100000,1000000] [--databases sqlite,postgresql] [--pg-url URL]`."""
import sys

from bench.sweep import main

sys.exit(main())
