"""python -m cli: the same as the sasaeai console script."""
import sys

from cli import main

sys.exit(main())
