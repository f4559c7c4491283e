"""``python -m officina``: the same as the ``officina`` command."""

from officina.cli import main

main()
