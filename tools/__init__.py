"""Never deployed: the ``./gateway`` command, the local stack, the packager, data builders and checkers.

Nothing in ``chalicelib/`` or ``app.py`` imports this package; the deployment zip holds neither.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project: app.py, chalicelib/, .chalice/
