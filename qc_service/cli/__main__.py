"""``python -m qc_service.cli``: the same as the ``qc-service`` command."""

from qc_service.cli import main

main()
