"""Packages of the optional extras (``pip install 'openlfr[eval]'``), imported only where they are used.

The service and the live pipeline never need them; evaluation, calibration and charts do, and say which extra to
install instead of failing with a bare ImportError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from openlfr.errors import OpenLFRError


class MissingExtraError(OpenLFRError):
    code = "extra_missing"


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """``module`` imported, or MissingExtraError naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".", 1)[0]
        raise MissingExtraError(
            f"{purpose} needs {package}, which comes with the {extra!r} extra: pip install 'openlfr[{extra}]'"
        ) from exc
