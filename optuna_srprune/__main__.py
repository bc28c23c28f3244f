import sys

from optuna_srprune.cli import main

sys.exit(main())
