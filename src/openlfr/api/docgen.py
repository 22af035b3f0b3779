"""``python -m openlfr.api.docgen``: print the permission matrix table that docs/API.md embeds."""

from __future__ import annotations

import sys

from sqlalchemy.orm import sessionmaker

from openlfr.api.app import create_app
from openlfr.api.permissions import matrix_markdown
from openlfr.api.services import Services
from openlfr.config.api import ApiConfig
from openlfr.config.models import Settings


def main() -> int:
    # Building the app touches no database: an unbound session factory is enough to list the routes.
    settings = Settings(api=ApiConfig(environment="development", session_secret=None))
    sys.stdout.write(matrix_markdown(create_app(settings, Services(sessions=sessionmaker()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
