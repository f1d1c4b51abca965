"""python -m callhub.cli"""

import sys

from callhub.cli import main

sys.exit(main())
