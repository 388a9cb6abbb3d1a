"""``python -m deepgrad.playground``: start the playground server."""

import sys

from deepgrad.playground import main

sys.exit(main())
