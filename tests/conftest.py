"""Shared fixtures. Every test gets its own config/data/cache folders and its own OS keyring; Qt runs offscreen."""

import os
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import numpy as np
import pytest
import soundfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Processes the tests start (the app, the CLI, crash tests) never use the keyring of the person running the suite:
# with keyring's "fail" backend they keep API tokens in a file in their test's own config folder.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from fanremix.domain import policy_templates
from fanremix.paths import AppPaths
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack
from fanremix.rights.signing import PublisherKey
from fanremix.workspace import Workspace

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    root = tmp_path_factory.mktemp("user")
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"FANREMIX_{name}_DIR", str(root / name.lower()))
    return AppPaths.from_environment()


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keyring that lives in memory: what `TokenStore` finds on a desktop with a keyring."""

    priority = 1  # usable (TokenStore falls back to its file only below 1)

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


# keyring registers every backend class it sees as a candidate for its automatic choice; this one is only ever
# installed on purpose, by `isolated_keyring`.
keyring.backend.KeyringBackend._classes.discard(MemoryKeyring)


@pytest.fixture(autouse=True)
def isolated_keyring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """Every test gets its own OS keyring. The keyring is per user, not per config folder, so without this an API
    token one test stores (filed under the service's URL, and session-scoped services keep their URL) would sign in
    the app of every later test, and the tests would write to the real keyring of whoever runs them. Within one test
    it behaves as the real one: every window and client of that test finds the sign-in it remembered."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    return backend


@pytest.fixture
def workspace(isolated_user_dirs: AppPaths) -> Workspace:
    return Workspace(isolated_user_dirs)


@pytest.fixture
def publisher_key(workspace: Workspace) -> PublisherKey:
    """A publisher key trusted on this (test) machine."""
    key = PublisherKey.generate()
    workspace.keyring().trust(key.public_key, name="Test Publisher", source="test fixture")
    return key


def write_tone_stems(folder: Path, specs: dict[str, float], seconds: float = 1.0, sample_rate: int = 44100) -> None:
    """One stereo sine stem per name, at the given frequency, as 24-bit WAV."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    for index, (name, frequency) in enumerate(specs.items()):
        mono = 0.25 * np.sin(2 * np.pi * frequency * t + index)
        soundfile.write(str(folder / f"{name}.wav"), np.stack([mono, mono], axis=1), sample_rate, subtype="PCM_24")


@pytest.fixture
def small_pack(tmp_path: Path, publisher_key: PublisherKey) -> Path:
    """A signed 1-second pack with four tone stems (vocals, drums, bass, keys) under the demo policy."""
    stems_dir = tmp_path / "stems"
    write_tone_stems(stems_dir, {"vocals": 440.0, "drums": 110.0, "bass": 55.0, "keys": 261.6})
    sources = [StemSource(path=stems_dir / f"{name}.wav", role=name) for name in ("vocals", "drums", "bass", "keys")]
    metadata = PackMetadata(id="test-pack", title="Test Song", artists=("Tester",), bpm=120, key="A minor")
    out = tmp_path / "test.fanpack"
    build_pack(sources, metadata, policy_templates.demo(), publisher_key, out)
    return out
