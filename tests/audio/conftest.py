"""Small generated packs for the audio engine tests: a few seconds of tones and noise, written as float WAV so
that decoding gives back exactly the samples we made."""

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix.domain import policy_templates
from fanremix.domain.policy import Policy
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack
from fanremix.rights.signing import PublisherKey

SAMPLE_RATE = 44100

FFMPEG = shutil.which("ffmpeg")


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg's ebur128 filter reads `path`."""
    command = [FFMPEG, "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=framelog=verbose:peak=true"]
    output = subprocess.run([*command, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = output[output.rindex("Summary:") :]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("True peak:")[1].split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


@dataclass(frozen=True)
class ToyPack:
    path: Path  # the signed .fanpack
    manifest: PackManifest
    stem_paths: dict[str, Path]
    arrays: dict[str, np.ndarray]  # float32 (frames, 2), exactly what decoding gives

    def recipe(self, **kwargs) -> Recipe:
        return Recipe.for_stems(
            self.manifest.id, self.manifest.pack_hash(), [s.id for s in self.manifest.stems], **kwargs
        )


def tone(frequency: float, seconds: float, amplitude: float = 0.25, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = amplitude * np.sin(2 * np.pi * frequency * t + phase)
    return np.stack([mono, mono], axis=1).astype(np.float32)


def program(seconds: float, seed: int = 7) -> np.ndarray:
    """Music-like test material: chords, a bass line and noise hits, with loud and quiet passages."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * SAMPLE_RATE)
    t = np.arange(frames) / SAMPLE_RATE
    chord = sum(np.sin(2 * np.pi * f * t + i) for i, f in enumerate((220.0, 277.2, 329.6, 880.0))) / 4
    bass = np.sin(2 * np.pi * 55.0 * t)
    hits = np.zeros(frames)
    for start in range(0, frames, SAMPLE_RATE // 4):
        length = min(frames - start, 3000)
        hits[start : start + length] = rng.standard_normal(length) * np.exp(-np.arange(length) / 600.0)
    # alternate loud and quiet half-seconds so gates, compressors and limiters all have something to do
    level = np.where((t * 2).astype(int) % 2 == 0, 0.5, 0.01)
    left = level * (0.5 * chord + 0.3 * bass + 0.4 * hits)
    right = level * (0.45 * chord + 0.3 * bass + 0.4 * np.roll(hits, 37))
    return np.stack([left, right], axis=1).astype(np.float32)


PackFactory = Callable[..., ToyPack]


@pytest.fixture
def make_pack(tmp_path: Path, publisher_key: PublisherKey) -> PackFactory:
    """make_pack({"vocals": ("vocals", array), ...}, policy=...) -> ToyPack, signed by a trusted key."""
    counter = iter(range(1000))

    def make(
        stems: dict[str, tuple[str, np.ndarray]],
        policy: Policy | None = None,
        pack_id: str = "toy-pack",
        subtype: str = "FLOAT",
    ) -> ToyPack:
        folder = tmp_path / f"stems-{next(counter)}"
        folder.mkdir()
        sources = []
        for name, (role, audio) in stems.items():
            path = folder / f"{name}.wav"
            soundfile.write(str(path), audio, SAMPLE_RATE, subtype=subtype)
            sources.append(StemSource(path=path, role=role, id=name, name=name.title()))
        metadata = PackMetadata(id=pack_id, title="Toy Song", artists=("Tester",), bpm=120, key="A minor")
        out = folder.with_suffix(".fanpack")
        manifest = build_pack(sources, metadata, policy or policy_templates.open_remix(), publisher_key, out)
        paths = {stem.id: folder / f"{stem.id}.wav" for stem in manifest.stems}
        arrays = {}
        for stem_id, path in paths.items():
            data = soundfile.read(str(path), dtype="float32", always_2d=True)[0]
            arrays[stem_id] = np.ascontiguousarray(np.repeat(data, 2, axis=1) if data.shape[1] == 1 else data)
        return ToyPack(out, manifest, paths, arrays)

    return make


@pytest.fixture
def four_tones(make_pack: PackFactory) -> ToyPack:
    """Two seconds of four steady tones, one per role, under the open policy (wide tempo and key ranges)."""
    return make_pack(
        {
            "vocals": ("vocals", tone(440.0, 2.0, 0.2)),
            "drums": ("drums", program(2.0, seed=1)),
            "bass": ("bass", tone(110.0, 2.0, 0.3, 0.5)),
            "keys": ("keys", tone(261.6, 2.0, 0.2, 1.0)),
        }
    )
