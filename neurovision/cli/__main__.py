"""``python -m neurovision.cli`` (what ``torchrun ... -m neurovision.cli`` runs): the command line."""
import sys

from .main import main

sys.exit(main())
