"""Where the app keeps its files. Every location can be overridden by an environment variable (tests use these)."""

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_DIR_NAME = "fanremix"


@dataclass(frozen=True)
class AppPaths:
    config: Path  # keys, keyring, settings
    data: Path  # rights service database and uploads, autosaves, outbox
    cache: Path  # waveform peaks, decoded previews

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "AppPaths":
        env = os.environ if environ is None else environ
        return cls(
            config=Path(env.get("FANREMIX_CONFIG_DIR") or platformdirs.user_config_dir(APP_DIR_NAME)),
            data=Path(env.get("FANREMIX_DATA_DIR") or platformdirs.user_data_dir(APP_DIR_NAME)),
            cache=Path(env.get("FANREMIX_CACHE_DIR") or platformdirs.user_cache_dir(APP_DIR_NAME)),
        )

    @property
    def keyring(self) -> Path:
        return self.config / "keyring"

    @property
    def keys(self) -> Path:
        return self.config / "keys"

    @property
    def demo_pack(self) -> Path:
        return self.cache / "demo.fanpack"
