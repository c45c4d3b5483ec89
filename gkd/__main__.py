import sys

from gkd.cli import main

sys.exit(main())
