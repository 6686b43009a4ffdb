"""Decoding stems into the engine's working format."""

from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix.audio.errors import StemDecodeError
from fanremix.audio.stems import as_stereo, decode_stem, decode_stems
from tests.audio.conftest import SAMPLE_RATE, PackFactory, tone


def test_mono_stems_become_two_equal_channels_and_short_stems_are_padded(make_pack: PackFactory) -> None:
    mono = tone(330.0, 1.0, 0.3)[:, :1]
    short = tone(220.0, 1.0, 0.3)[: SAMPLE_RATE - 1000]  # 23 ms short: within the pack's tolerance
    pack = make_pack({"mono": ("keys", mono), "short": ("bass", short)})
    stems = decode_stems(pack.manifest, pack.stem_paths)
    assert stems["mono"].shape == stems["short"].shape == (SAMPLE_RATE, 2)
    assert stems["mono"].dtype == np.float32 and stems["mono"].flags.c_contiguous
    assert np.array_equal(stems["mono"][:, 0], mono[:, 0]) and np.array_equal(stems["mono"][:, 1], mono[:, 0])
    assert np.array_equal(stems["short"][: len(short)], short)
    assert not stems["short"][len(short) :].any()
    assert np.array_equal(decode_stems(pack.manifest, pack.stem_paths, workers=1)["mono"], stems["mono"])


def test_decoding_refuses_missing_wrong_rate_and_truncated_files(make_pack: PackFactory, tmp_path: Path) -> None:
    pack = make_pack({"lead": ("vocals", tone(440.0, 1.0))})
    with pytest.raises(StemDecodeError, match="No audio file was given for the stem"):
        decode_stems(pack.manifest, {})
    other_rate = tmp_path / "lead-48k.wav"
    soundfile.write(str(other_rate), tone(440.0, 1.0), 48_000)
    with pytest.raises(StemDecodeError, match=r"48000 Hz.*44100 Hz"):
        decode_stem(other_rate, SAMPLE_RATE, SAMPLE_RATE)
    garbage = tmp_path / "lead.wav"
    garbage.write_bytes(b"RIFF" + b"\0" * 100)
    with pytest.raises(StemDecodeError, match="cannot be decoded"):
        decode_stem(garbage, SAMPLE_RATE, SAMPLE_RATE)


def test_arrays_in_memory_are_brought_to_the_working_format() -> None:
    mono64 = np.linspace(-1, 1, 100)
    out = as_stereo(mono64, frames=120)
    assert out.shape == (120, 2) and out.dtype == np.float32
    assert np.array_equal(out[:100, 1], mono64.astype(np.float32)) and not out[100:].any()
    ready = np.zeros((50, 2), dtype=np.float32)
    assert as_stereo(ready) is ready  # nothing to do, nothing copied
    with pytest.raises(StemDecodeError, match="shape"):
        as_stereo(np.zeros((10, 3)))
