"""What the CLI and the GUI share: the user's folders, the keyring with the built-in demo key, the demo pack."""

from dataclasses import dataclass
from pathlib import Path

from .paths import AppPaths
from .resources import DEMO_PUBLISHER_KEY, resource
from .rights.keyring import TRUST_DEMO, Keyring, TrustedKey
from .rights.signing import PublisherKey


def demo_publisher_key() -> PublisherKey:
    return PublisherKey.load(resource(DEMO_PUBLISHER_KEY))


@dataclass(frozen=True)
class Workspace:
    paths: AppPaths

    @classmethod
    def from_environment(cls) -> "Workspace":
        return cls(AppPaths.from_environment())

    def keyring(self) -> Keyring:
        demo = demo_publisher_key()
        builtin = TrustedKey(
            key_id=demo.key_id,
            public_key=demo.public_key,
            name="Fan Remix Studio demo publisher",
            source="built into the app (demo only: its private key is public)",
            trust=TRUST_DEMO,
        )
        return Keyring(self.paths.keyring, builtin=[builtin])

    def default_key_path(self) -> Path:
        return self.paths.keys / "publisher.pem"
