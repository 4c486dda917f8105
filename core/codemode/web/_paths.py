"""Where the app keeps its database and skills: the user's data directory (platformdirs),
``CODEMODE_DATA_DIR`` when set."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    given = os.environ.get("CODEMODE_DATA_DIR")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("codemode", appauthor=False))
