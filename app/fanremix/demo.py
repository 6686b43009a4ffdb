"""The built-in demo stem pack: an original song synthesised on the spot, signed with the demo publisher key."""

import tempfile
from pathlib import Path

import soundfile

from .audio.demo_song import render_demo_song
from .domain import policy_templates
from .domain.stem_pack import PackManifest, Rightsholder
from .rights.packfile import PackMetadata, ProgressCallback, StemSource, build_pack
from .workspace import demo_publisher_key

DEMO_SECONDS = 90.0


def demo_pack_id(seconds: float) -> str:
    return "fanremix-demo" if seconds == DEMO_SECONDS else f"fanremix-demo-{seconds:g}s"


def make_demo_pack(
    destination: Path, seconds: float = DEMO_SECONDS, progress: ProgressCallback | None = None
) -> PackManifest:
    """Write the demo .fanpack to `destination`. The same `seconds` always gives the same bytes."""
    song = render_demo_song(seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="fanremix-demo-") as folder:
        sources = []
        for stem in song.stems:
            path = Path(folder) / f"{stem.id}.flac"
            soundfile.write(str(path), stem.audio, song.sample_rate, subtype="PCM_16", format="FLAC")
            sources.append(StemSource(path=path, role=stem.role, name=stem.name, id=stem.id))
        metadata = PackMetadata(
            id=demo_pack_id(seconds),
            title=song.title,
            artists=song.artists,
            bpm=song.bpm,
            key=song.key,
            isrc="ZZ-FRS-26-00001",
            rightsholders=tuple(Rightsholder(name=artist, role="artist") for artist in song.artists),
        )
        return build_pack(sources, metadata, policy_templates.demo(), demo_publisher_key(), destination, progress)
