"""Files shipped with the app (resources/ beside the source tree, or inside a PyInstaller bundle)."""

import os
import sys
from pathlib import Path

DEMO_PUBLISHER_KEY = "keys/demo-publisher.pem"


def resources_dir() -> Path:
    override = os.environ.get("FANREMIX_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource(relative: str) -> Path:
    return resources_dir() / relative
