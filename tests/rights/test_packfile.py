"""Opening stem packs as untrusted input: every refusal is its own typed error, and nothing is left behind."""

import json
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix.domain import policy_templates
from fanremix.domain.errors import (
    ArchiveTooLargeError,
    BadSignatureError,
    CorruptArchiveError,
    HashMismatchError,
    MissingFileError,
    PackSchemaError,
    StemFormatError,
    UnexpectedFileError,
    UnsafeArchiveError,
    UnsignedPackError,
    UntrustedKeyError,
)
from fanremix.domain.stem_pack import PackManifest
from fanremix.rights import packfile
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack, open_pack
from fanremix.rights.signing import PublisherKey


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(path: Path, files: dict[str, bytes], out: Path | None = None, compression=zipfile.ZIP_STORED) -> Path:
    out = out or path.with_name("crafted.fanpack")
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


@pytest.fixture
def temp_root(tmp_path: Path) -> Path:
    """A private temp folder for extraction, so the test can check nothing is left in it."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def test_a_good_pack_opens_and_its_temp_files_go_on_close(small_pack, workspace, temp_root) -> None:
    pack = open_pack(small_pack, workspace.keyring(), workdir=temp_root)
    assert [s.role for s in pack.manifest.stems] == ["vocals", "drums", "bass", "keys"]
    assert pack.signer.name == "Test Publisher"
    assert all(p.is_file() for p in pack.stem_paths.values())
    pack.close()
    assert list(temp_root.iterdir()) == []


def test_manifest_round_trips(small_pack) -> None:
    manifest = PackManifest.from_json(members(small_pack)["pack.json"])
    assert PackManifest.from_json(manifest.to_json()) == manifest
    assert manifest.pack_hash() == PackManifest.from_dict(json.loads(manifest.to_json())).pack_hash()


def test_an_unpacked_folder_is_accepted(small_pack, workspace, tmp_path) -> None:
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(small_pack) as archive:
        archive.extractall(folder)
    with open_pack(folder, workspace.keyring()) as pack:
        assert pack.root == folder


def test_building_twice_gives_identical_bytes(tmp_path, publisher_key) -> None:
    from tests.conftest import write_tone_stems

    write_tone_stems(tmp_path / "s", {"a": 100.0, "b": 200.0})
    sources = [StemSource(tmp_path / "s" / "a.wav", "bass"), StemSource(tmp_path / "s" / "b.wav", "keys")]
    meta = PackMetadata(id="x", title="X", artists=("Y",), bpm=100, key="C major")
    build_pack(sources, meta, policy_templates.open_remix(), publisher_key, tmp_path / "1.fanpack")
    build_pack(sources, meta, policy_templates.open_remix(), publisher_key, tmp_path / "2.fanpack")
    assert (tmp_path / "1.fanpack").read_bytes() == (tmp_path / "2.fanpack").read_bytes()


# -- tampering -------------------------------------------------------------------------------------------------


def test_one_changed_byte_in_a_stem_is_refused(small_pack, workspace, temp_root) -> None:
    files = members(small_pack)
    data = bytearray(files["vocals.wav"])
    data[len(data) // 2] ^= 0x01
    files["vocals.wav"] = bytes(data)
    with pytest.raises(HashMismatchError, match=r"vocals\.wav: its content does not match"):
        open_pack(rezip(small_pack, files), workspace.keyring(), workdir=temp_root)
    assert list(temp_root.iterdir()) == []


def test_one_changed_byte_in_pack_json_is_refused(small_pack, workspace, temp_root) -> None:
    files = members(small_pack)
    files["pack.json"] = files["pack.json"].replace(b'"Test Song"', b'"Test Sonh"')
    with pytest.raises(BadSignatureError, match="changed after key"):
        open_pack(rezip(small_pack, files), workspace.keyring(), workdir=temp_root)
    assert list(temp_root.iterdir()) == []


def test_a_valid_signature_over_mismatched_content_is_refused(small_pack, workspace, publisher_key, tmp_path) -> None:
    """Re-signing a manifest whose declared frames do not match the audio is still caught."""
    files = members(small_pack)
    manifest = PackManifest.from_json(files["pack.json"])
    stems = tuple(
        s.__class__(**{**s.__dict__, "frames": s.frames - 10}) if s.id == "bass" else s for s in manifest.stems
    )
    resigned = publisher_key.sign(manifest.__class__(**{**manifest.__dict__, "stems": stems, "signature": None}))
    files["pack.json"] = resigned.to_json().encode()
    with pytest.raises(StemFormatError, match=r"bass\.wav: holds 2 channel\(s\) and 44100 frames"):
        open_pack(rezip(small_pack, files), workspace.keyring())


def test_unknown_signer_is_refused(small_pack, tmp_path, monkeypatch) -> None:
    from fanremix.workspace import Workspace

    monkeypatch.setenv("FANREMIX_CONFIG_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(UntrustedKeyError, match="does not trust"):
        open_pack(small_pack, Workspace.from_environment().keyring())


def test_unsigned_pack_is_refused(small_pack, workspace) -> None:
    files = members(small_pack)
    data = json.loads(files["pack.json"])
    del data["signature"]
    files["pack.json"] = json.dumps(data).encode()
    with pytest.raises(UnsignedPackError):
        open_pack(rezip(small_pack, files), workspace.keyring())


def test_missing_and_extra_files_are_refused(small_pack, workspace) -> None:
    files = members(small_pack)
    without = {k: v for k, v in files.items() if k != "bass.wav"}
    with pytest.raises(MissingFileError, match=r"bass\.wav"):
        open_pack(rezip(small_pack, without), workspace.keyring())
    with pytest.raises(UnexpectedFileError, match=r"notes\.txt"):
        open_pack(rezip(small_pack, {**files, "notes.txt": b"hi"}), workspace.keyring())
    with pytest.raises(MissingFileError, match=r"no pack\.json"):
        open_pack(rezip(small_pack, {k: v for k, v in files.items() if k != "pack.json"}), workspace.keyring())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"format": 1, "id": "x"}).encode(), "'stems' must be a list"),
        (json.dumps({"format": 7}).encode(), "format 7"),
        (json.dumps([1, 2]).encode(), "JSON object"),
    ],
)
def test_bad_manifest_json_is_a_schema_error(small_pack, workspace, damage, message) -> None:
    files = members(small_pack)
    files["pack.json"] = damage
    with pytest.raises(PackSchemaError, match=message):
        open_pack(rezip(small_pack, files), workspace.keyring())


# -- unsafe archives ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [("/etc/passwd", "absolute path"), ("../evil.wav", "'..'"), ("a/../../x", "'..'"), ("C:/x.wav", "absolute"),
     ("dir\\x.wav", "backslashes")],
)  # fmt: skip
def test_unsafe_member_names_are_refused(small_pack, workspace, name, problem) -> None:
    files = {**members(small_pack), name: b"x"}
    with pytest.raises(UnsafeArchiveError, match=problem):
        open_pack(rezip(small_pack, files), workspace.keyring())


def test_symlink_members_are_refused(small_pack, workspace) -> None:
    out = small_pack.with_name("link.fanpack")
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members(small_pack).items():
            archive.writestr(name, data)
        link = zipfile.ZipInfo("extra.wav")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        open_pack(out, workspace.keyring())


def test_symlink_in_a_folder_pack_is_refused(small_pack, workspace, tmp_path) -> None:
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(small_pack) as archive:
        archive.extractall(folder)
    (folder / "bass.wav").unlink()
    (folder / "bass.wav").symlink_to(folder / "keys.wav")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        open_pack(folder, workspace.keyring())


def test_duplicate_names_are_refused(small_pack, workspace) -> None:
    out = small_pack.with_name("dup.fanpack")
    files = members(small_pack)
    with pytest.warns(UserWarning), zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("bass.wav", b"second copy")
    with pytest.raises(UnsafeArchiveError, match="more than once"):
        open_pack(out, workspace.keyring())


def test_high_compression_ratio_is_refused(small_pack, workspace, temp_root) -> None:
    files = {**members(small_pack), "bomb.wav": bytes(50 << 20)}
    out = rezip(small_pack, files, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ArchiveTooLargeError, match="zip bomb"):
        open_pack(out, workspace.keyring(), workdir=temp_root)
    assert list(temp_root.iterdir()) == []


def test_a_member_larger_than_its_header_is_caught(small_pack, workspace, monkeypatch) -> None:
    monkeypatch.setattr(packfile, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(ArchiveTooLargeError, match=r"pack\.json"):
        open_pack(small_pack, workspace.keyring())


def test_oversized_members_are_refused_from_their_headers(small_pack, workspace, monkeypatch) -> None:
    monkeypatch.setattr(packfile, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(ArchiveTooLargeError, match="unpacks to"):
        open_pack(small_pack, workspace.keyring())


def test_not_a_zip_is_refused(tmp_path, workspace) -> None:
    bogus = tmp_path / "bogus.fanpack"
    bogus.write_bytes(b"RIFF....not a zip")
    with pytest.raises(CorruptArchiveError, match="not a readable"):
        open_pack(bogus, workspace.keyring())


def test_crc_damage_is_refused(small_pack, workspace, temp_root) -> None:
    data = bytearray(small_pack.read_bytes())
    offset = data.find(b"data", data.find(b"vocals.wav"))  # inside the stored WAV's bytes
    data[offset + 200] ^= 0xFF
    damaged = small_pack.with_name("crc.fanpack")
    damaged.write_bytes(bytes(data))
    with pytest.raises((CorruptArchiveError, HashMismatchError)):
        open_pack(damaged, workspace.keyring(), workdir=temp_root)
    assert list(temp_root.iterdir()) == []


# -- stem formats ------------------------------------------------------------------------------------------------


def test_stems_of_different_lengths_are_refused_when_building(tmp_path, publisher_key) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    soundfile.write(str(folder / "a.wav"), np.zeros((44100, 2)), 44100)
    soundfile.write(str(folder / "b.wav"), np.zeros((44100 + 4410, 2)), 44100)
    meta = PackMetadata(id="x", title="X", artists=("Y",), bpm=100, key="C major")
    sources = [StemSource(folder / "a.wav", "bass"), StemSource(folder / "b.wav", "keys")]
    with pytest.raises(StemFormatError, match=r"0\.100 s shorter"):
        build_pack(sources, meta, policy_templates.demo(), publisher_key, tmp_path / "x.fanpack")
    assert not (tmp_path / "x.fanpack").exists()


def _pack_with_bass_lengthened(small_pack: Path, publisher_key: PublisherKey, extra_frames: int) -> Path:
    """The small pack with its bass stem `extra_frames` longer than the others, honestly hashed and re-signed: only
    the length check stands between it and the app."""
    import hashlib
    import io

    files = members(small_pack)
    manifest = PackManifest.from_json(files["pack.json"])
    audio, rate = soundfile.read(io.BytesIO(files["bass.wav"]))
    longer = io.BytesIO()
    soundfile.write(longer, np.concatenate([audio, np.zeros((extra_frames, 2))]), rate, format="WAV")
    files["bass.wav"] = longer.getvalue()
    stems = tuple(
        s.__class__(
            **{**s.__dict__, "frames": s.frames + extra_frames, "sha256": hashlib.sha256(longer.getvalue()).hexdigest()}
        )
        if s.id == "bass"
        else s
        for s in manifest.stems
    )
    resigned = publisher_key.sign(manifest.__class__(**{**manifest.__dict__, "stems": stems, "signature": None}))
    files["pack.json"] = resigned.to_json().encode()
    return rezip(small_pack, files)


def test_a_signed_pack_whose_stems_differ_in_length_is_refused(small_pack, workspace, publisher_key, temp_root) -> None:
    crafted = _pack_with_bass_lengthened(small_pack, publisher_key, 4410)  # 100 ms, beyond the 50 ms tolerance
    with pytest.raises(StemFormatError, match=r"vocals\.wav is 0\.100 s shorter than bass\.wav;.*within 50 ms"):
        open_pack(crafted, workspace.keyring(), workdir=temp_root)
    assert list(temp_root.iterdir()) == []


def test_stems_within_the_length_tolerance_open(small_pack, workspace, publisher_key) -> None:
    crafted = _pack_with_bass_lengthened(small_pack, publisher_key, 1323)  # 30 ms
    with open_pack(crafted, workspace.keyring()) as pack:
        assert {s.id: s.frames for s in pack.manifest.stems}["bass"] == 44100 + 1323


def test_the_isrc_is_kept_in_its_12_character_form(tmp_path, publisher_key, workspace) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    soundfile.write(str(folder / "a.wav"), np.zeros((44100, 2)), 44100)
    meta = PackMetadata(id="x", title="X", artists=("Y",), bpm=100, key="C major", isrc="gb-xyz-26-00001")
    build_pack(
        [StemSource(folder / "a.wav", "bass")], meta, policy_templates.demo(), publisher_key, tmp_path / "x.fanpack"
    )
    assert json.loads(members(tmp_path / "x.fanpack")["pack.json"])["isrc"] == "GBXYZ2600001"


def test_stems_of_different_rates_are_refused_when_building(tmp_path, publisher_key) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    soundfile.write(str(folder / "a.wav"), np.zeros((44100, 2)), 44100)
    soundfile.write(str(folder / "b.wav"), np.zeros((48000, 2)), 48000)
    meta = PackMetadata(id="x", title="X", artists=("Y",), bpm=100, key="C major")
    sources = [StemSource(folder / "a.wav", "bass"), StemSource(folder / "b.wav", "keys")]
    with pytest.raises(StemFormatError, match="different sample rates"):
        build_pack(sources, meta, policy_templates.demo(), publisher_key, tmp_path / "x.fanpack")


def test_a_stem_that_is_not_audio_is_refused(small_pack, workspace, publisher_key) -> None:
    files = members(small_pack)
    manifest = PackManifest.from_json(files["pack.json"])
    garbage = b"this is not audio" * 10
    import hashlib

    stems = tuple(
        s.__class__(**{**s.__dict__, "sha256": hashlib.sha256(garbage).hexdigest()}) if s.id == "keys" else s
        for s in manifest.stems
    )
    resigned = publisher_key.sign(manifest.__class__(**{**manifest.__dict__, "stems": stems, "signature": None}))
    files["pack.json"] = resigned.to_json().encode()
    files["keys.wav"] = garbage
    with pytest.raises(StemFormatError, match=r"keys\.wav: cannot be read as audio"):
        open_pack(rezip(small_pack, files), workspace.keyring())


def test_temp_dirs_are_not_leaked_into_the_system_temp(small_pack, workspace) -> None:
    before = set(Path(tempfile.gettempdir()).glob("fanremix-pack-*"))
    files = members(small_pack)
    files["pack.json"] = b"{}"
    with pytest.raises(PackSchemaError):
        open_pack(rezip(small_pack, files), workspace.keyring())
    assert set(Path(tempfile.gettempdir()).glob("fanremix-pack-*")) == before


def test_key_files_are_private_and_passphrases_work(tmp_path) -> None:
    key = PublisherKey.generate()
    public = key.save(tmp_path / "k.pem", passphrase=b"secret")
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    assert public.name == "k.pem.pub"
    assert PublisherKey.load(tmp_path / "k.pem", b"secret").key_id == key.key_id
    from fanremix.domain.errors import KeyringError

    with pytest.raises(KeyringError, match="passphrase"):
        PublisherKey.load(tmp_path / "k.pem")
