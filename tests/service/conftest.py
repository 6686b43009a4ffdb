"""A real rights service on a free loopback port, and helpers that act as publishers and fans over real HTTP."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import soundfile
from cryptography.hazmat.primitives.asymmetric import ec
from urllib3.util.retry import Retry

from fanremix.domain import policy_templates
from fanremix.domain.policy import Policy
from fanremix.domain.recipe import Recipe
from fanremix.local_service import LocalService
from fanremix.provenance_flow import export_with_provenance
from fanremix.rights.client import RightsClient
from fanremix.rights.identity import FanIdentity, load_certificates, make_csr
from fanremix.rights.packfile import OpenedPack, PackMetadata, StemSource, build_pack, open_pack
from fanremix.rights.signing import PublisherKey, public_key_pem
from fanremix.workspace import Workspace
from tests.conftest import write_tone_stems

PASSWORD = "correct horse battery staple"
_names = itertools.count(1)
# Every test signs up from 127.0.0.1; the per-address sign-in limit would otherwise make them wait for each other.
UNLIMITED = ("--rate-per-minute", "60000", "--rate-burst", "10000", "--auth-rate-per-minute", "60000")
UNLIMITED += ("--auth-rate-burst", "10000")


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """One service for the whole session; every test makes its own accounts, so tests do not see each other."""
    with LocalService.start(tmp_path_factory.mktemp("service"), service_args=UNLIMITED) as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def client_for(service: LocalService, **kwargs) -> RightsClient:
    kwargs.setdefault("retry", Retry(total=2, backoff_factor=0.05, status_forcelist=(), allowed_methods=None))
    return RightsClient(service.url, **kwargs)


def fan_client(service: LocalService, name: str | None = None) -> RightsClient:
    client = client_for(service)
    client.register(name or unique("fan"), PASSWORD)
    return client


def fan_identity(client: RightsClient) -> FanIdentity:
    """A signing key certified by the service's CA, as the app gets one after signing in."""
    key = ec.generate_private_key(ec.SECP256R1())
    issued = client.request_certificate(make_csr(key, client.me().name))
    return FanIdentity(key=key, chain=tuple(load_certificates(issued.chain_pem, "issued chain")))


def mix_render(opened: OpenedPack, recipe: Recipe, destination: Path, fmt: str) -> None:
    """A stand-in renderer for service tests: the audible stems, gained and summed, as 16-bit WAV."""
    total = None
    rate = opened.manifest.sample_rate
    for stem_id in recipe.audible_stem_ids():
        audio, rate = soundfile.read(str(opened.stem_path(stem_id)), dtype="float64", always_2d=True)
        audio = audio * 10 ** (recipe.stem(stem_id).gain_db / 20)
        total = audio if total is None else total + audio
    assert total is not None
    soundfile.write(str(destination), np.clip(total * 0.5, -1, 1), rate, subtype="PCM_16", format=fmt.upper())


@dataclass
class PublishedPack:
    path: Path
    opened: OpenedPack
    publisher: RightsClient
    key: PublisherKey

    @property
    def manifest(self):
        return self.opened.manifest

    def recipe(self, **changes) -> Recipe:
        recipe = Recipe.for_stems(self.manifest.id, self.manifest.pack_hash(), [s.id for s in self.manifest.stems])
        for stem_id, gain in changes.pop("gains", {}).items():
            recipe = recipe.with_stem(stem_id, gain_db=gain)
        return replace(recipe, **changes)


def build_unique_pack(folder: Path, key: PublisherKey, policy: Policy | None = None, seconds: float = 1.0) -> Path:
    """A signed pack of four tone stems with a pack id no other test uses."""
    tones = {"vocals": 440.0, "drums": 110.0, "bass": 55.0, "keys": 261.6}
    write_tone_stems(folder / "stems", tones, seconds=seconds)
    sources = [StemSource(path=folder / "stems" / f"{n}.wav", role=n) for n in ("vocals", "drums", "bass", "keys")]
    metadata = PackMetadata(id=unique("pack"), title="Test Song", artists=("Tester",), bpm=120, key="A minor")
    out = folder / "test.fanpack"
    build_pack(sources, metadata, policy or policy_templates.demo(), key, out)
    return out


@pytest.fixture
def published(service: LocalService, tmp_path: Path, publisher_key: PublisherKey, workspace: Workspace):
    """A pack registered by a new publisher account under the demo policy."""
    path = build_unique_pack(tmp_path, publisher_key)
    publisher = client_for(service)
    publisher.register(unique("label"), PASSWORD, role="publisher")
    opened = open_pack(path, workspace.keyring())
    publisher.register_pack(opened.manifest, public_key_pem(publisher_key.public_key))
    yield PublishedPack(path=path, opened=opened, publisher=publisher, key=publisher_key)
    opened.close()
    publisher.close()


def export(published: PublishedPack, recipe: Recipe, identity: FanIdentity, grant, destination: Path) -> Path:
    return export_with_provenance(published.opened, recipe, destination, "wav", identity, grant, render=mix_render).path
