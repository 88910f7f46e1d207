import sys

from tools.fault_drill.cli import main

sys.exit(main())
