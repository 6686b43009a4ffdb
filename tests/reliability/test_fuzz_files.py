"""Fuzzing untrusted files on disk: the pack loader (zip structure, and stem audio headers under a valid signature,
as a trusted publisher who lies could ship them) and the C2PA reader behind `fanremix verify`."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fanremix.audio.stems import decode_stems
from fanremix.cli_verify import describe
from fanremix.domain.errors import FanRemixError
from fanremix.domain.recipe import Recipe
from fanremix.provenance_flow import verify_file
from fanremix.rights.c2pa import embed_provenance
from fanremix.rights.identity import CertificateAuthority, TrustAnchors, create_fan_identity
from fanremix.rights.keyring import Keyring
from fanremix.rights.packfile import open_pack

from .fuzzing import fuzz_settings, mutated_bytes, only_typed_errors
from .hostile import Forge, flac_bytes, tone, wav_bytes
from .test_fuzz_parsers import KEY, MANIFEST, RECORD

FUZZ_DIR_NAME = "fuzz-files"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp(FUZZ_DIR_NAME)


@pytest.fixture(scope="module")
def keyring(folder: Path) -> Keyring:
    ring = Keyring(folder / "keyring")
    ring.trust(KEY.public_key, name="Fuzz Publisher", source="fuzz test")
    return ring


@pytest.fixture(scope="module")
def forge(folder: Path) -> Forge:
    return Forge(key=KEY, folder=folder)


def _good_pack_bytes(forge: Forge) -> bytes:
    files = forge.signed_with({"drums.wav": wav_bytes(tone(frames=2048)), "bass.flac": flac_bytes(tone(frames=2048))})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED if name == "pack.json" else zipfile.ZIP_STORED)
    return buffer.getvalue()


def _open_and_decode(path: Path, keyring: Keyring, workdir: Path) -> None:
    with open_pack(path, keyring, workdir=workdir) as opened:
        decode_stems(opened.manifest, opened.stem_paths, workers=1)


GOOD_PACK: dict[str, bytes] = {}


def good_pack(forge: Forge) -> bytes:
    if "pack" not in GOOD_PACK:
        GOOD_PACK["pack"] = _good_pack_bytes(forge)
    return GOOD_PACK["pack"]


@st.composite
def mutated_pack(draw: st.DrawFn, forge_folder: Path) -> bytes:
    data = good_pack(Forge(key=KEY, folder=forge_folder))
    central = data.find(b"PK\x01\x02")
    focus = draw(st.sampled_from([None, (central, len(data)), (0, 64), (central - 200, central)]))
    return draw(mutated_bytes(data, focus))


def test_zip_structure(folder, keyring) -> None:
    """Mutations of a real signed .fanpack's bytes, biased to the headers and the central directory."""
    workdir = folder / "extract-zip"
    workdir.mkdir(exist_ok=True)
    path = folder / "mutated.fanpack"

    @given(mutated_pack(folder))
    @fuzz_settings(400)
    def run(data: bytes) -> None:
        path.write_bytes(data)
        only_typed_errors("fanpack zip structure", lambda: _open_and_decode(path, keyring, workdir))
        assert list(workdir.iterdir()) == [], "a refused pack left its temp files behind"

    run()


@st.composite
def lying_stem(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["wav", "flac", "wav-float"]))
    audio = tone(frames=2048, channels=draw(st.sampled_from([1, 2])))
    if kind == "flac":
        data = flac_bytes(audio)
    else:
        data = wav_bytes(audio.astype(np.float32), subtype="FLOAT" if kind == "wav-float" else "PCM_16")
    header = (0, 96) if kind != "flac" else (0, 64)
    focus = draw(st.sampled_from([header, header, None]))
    return ("bass.flac" if kind == "flac" else "bass.wav"), draw(mutated_bytes(data, focus))


def test_stem_headers_under_a_valid_signature(folder, keyring, forge) -> None:
    """Damaged WAV/FLAC headers that a trusted publisher signed anyway (pack.json states whatever the damaged
    header says, so the hash and header checks pass and the decoder meets the damage)."""
    workdir = folder / "extract-stems"
    workdir.mkdir(exist_ok=True)
    path = folder / "stem.fanpack"
    drums = wav_bytes(tone(frames=2048))

    @given(lying_stem())
    @fuzz_settings(400)
    def run(stem: tuple[str, bytes]) -> None:
        name, data = stem
        try:
            files = forge.signed_with({"drums.wav": drums, name: data})
        except FanRemixError:  # the lie is caught while building the manifest (e.g. 0 frames): nothing to open
            return
        forge.zip(path.name, files)
        only_typed_errors("stem audio headers", lambda: _open_and_decode(path, keyring, workdir))
        assert list(workdir.iterdir()) == []

    run()


# -- C2PA ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_wav(folder: Path) -> tuple[bytes, TrustAnchors]:
    ca = CertificateAuthority.create("Fuzz CA", "Fan Remix fuzzing")
    identity = create_fan_identity(folder / "identity", "Ada", ca=ca)
    rendered = folder / "rendered.wav"
    rendered.write_bytes(wav_bytes(tone(frames=8820)))
    destination = folder / "signed.wav"
    embed_provenance(rendered, destination, RECORD, identity)
    return destination.read_bytes(), TrustAnchors.from_pem(ca.certificate_pem, "fuzz CA")


def test_c2pa_reader(folder, signed_wav) -> None:
    """`fanremix verify`'s reading path on mutated signed WAVs, biased to the embedded manifest store."""
    data, anchors = signed_wav
    store = data.find(b"C2PA")
    store = store if store >= 0 else data.find(b"jumb")
    assert store > 0, "the signed WAV holds no manifest store"
    path = folder / "mutated.wav"

    @given(
        st.sampled_from([(store - 8, store + 4096), (store, len(data)), None]).flatmap(lambda f: mutated_bytes(data, f))
    )
    @fuzz_settings(150)
    def run(mutated: bytes) -> None:
        path.write_bytes(mutated)

        def verify() -> None:  # what `fanremix verify` does: read, validate, then print as text or JSON
            result = verify_file(path, anchors)
            json.dumps(result.to_dict())
            describe(result)

        only_typed_errors("C2PA reader (verify)", verify)

    run()


def test_the_unmutated_files_are_accepted(folder, keyring, forge, signed_wav) -> None:
    path = folder / "good.fanpack"
    path.write_bytes(good_pack(forge))
    workdir = folder / "extract-good"
    workdir.mkdir(exist_ok=True)
    _open_and_decode(path, keyring, workdir)
    data, anchors = signed_wav
    (folder / "good.wav").write_bytes(data)
    report = verify_file(folder / "good.wav", anchors).report
    assert (
        report.record is not None
        and report.record.recipe_hash() == Recipe.from_dict(RECORD.recipe.to_dict()).recipe_hash()
    )
    assert MANIFEST.id == RECORD.pack.pack_id
