"""Content Credentials: the record model, the manifest built from it, signing into WAV/FLAC/MP3 (sidecar for OGG),
credit tags, reading back, and what tampering does."""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import c2pa
import numpy as np
import pytest
import soundfile
from pedalboard.io import AudioFile

from fanremix.domain import policy_templates
from fanremix.domain.provenance import (
    SOURCE_COMPOSITE_WITH_AI,
    SOURCE_HUMAN_EDITS,
    ProvenanceError,
    ProvenanceRecord,
    RightsTerms,
)
from fanremix.domain.recipe import Effect, Recipe
from fanremix.rights import c2pa as credentials
from fanremix.rights.c2pa import (
    C2paSigningError,
    NoCredentialsError,
    ValidationState,
    build_manifest,
    embed_provenance,
    read_credit_tags,
    read_provenance,
    read_provenance_stream,
    record_from_manifest,
    sidecar_path,
)
from fanremix.rights.identity import CertificateAuthority, FanIdentity, TrustAnchors, create_fan_identity
from fanremix.rights.packfile import OpenedPack, open_pack
from fanremix.workspace import Workspace

FORMATS = ("wav", "flac", "mp3", "ogg")
SAMPLE_RATE = 44100


@pytest.fixture(scope="module")
def test_ca() -> CertificateAuthority:
    return CertificateAuthority.create("Fan Remix Test CA", "Fan Remix tests")


@pytest.fixture
def identity(tmp_path: Path, test_ca: CertificateAuthority) -> FanIdentity:
    return create_fan_identity(tmp_path / "config", "Test Fan", ca=test_ca)


@pytest.fixture
def anchors(test_ca: CertificateAuthority) -> TrustAnchors:
    return TrustAnchors.from_pem(test_ca.certificate_pem, "test CA")


@pytest.fixture
def opened(small_pack: Path, workspace: Workspace) -> Iterator[OpenedPack]:
    with open_pack(small_pack, workspace.keyring()) as pack:
        yield pack


def remix_recipe(pack: OpenedPack) -> Recipe:
    manifest = pack.manifest
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], app_version="0.1.0")
    recipe = recipe.with_stem("vocals", gain_db=-3.5, pan=-0.25, chain=(Effect.of("Reverb", room_size=0.8),))
    recipe = recipe.with_stem("keys", mute=True)
    return recipe.with_chain("master", (Effect.of("Limiter", threshold_db=-1.0, release_ms=100),))


def make_record(pack: OpenedPack, fmt: str, **changes) -> ProvenanceRecord:
    return ProvenanceRecord.for_export(
        pack.manifest,
        changes.pop("recipe", None) or remix_recipe(pack),
        fmt,
        publisher_key_id=pack.signer.key_id,
        publisher_name=pack.signer.name,
        app_name="Fan Remix Studio",
        app_version="0.1.0",
        remixer="Test Fan",
        **changes,
    )


def write_tone(path: Path, fmt: str, seconds: float = 1.0, frequency: float = 440.0) -> Path:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    stereo = np.stack([mono, 0.5 * mono], axis=1)
    if fmt in ("wav", "flac"):
        soundfile.write(str(path), stereo, SAMPLE_RATE, subtype="PCM_16")
    else:
        quality = "V2" if fmt == "mp3" else "192 kbps"
        with AudioFile(str(path), "w", SAMPLE_RATE, 2, quality=quality) as handle:
            handle.write(stereo.T)
    return path


def signed_file(tmp_path: Path, pack: OpenedPack, identity: FanIdentity, fmt: str, **changes) -> Path:
    source = write_tone(tmp_path / f"rendered.{fmt}", fmt)
    destination = tmp_path / "out" / f"remix.{fmt}"
    embed_provenance(source, destination, make_record(pack, fmt, **changes), identity)
    return destination


def audio_span(data: bytes) -> tuple[int, int]:
    """Where the encoded audio lies in a WAV, FLAC, MP3 or OGG file: after the tags and the embedded manifest."""
    if data[:4] == b"RIFF":
        offset = 12
        while offset + 8 <= len(data):
            size = int.from_bytes(data[offset + 4 : offset + 8], "little")
            if data[offset : offset + 4] == b"data":
                return offset + 8, offset + 8 + size
            offset += 8 + size + (size & 1)
        raise AssertionError("no data chunk")
    if data[:4] == b"fLaC":
        offset = 4
        while True:
            last, size = data[offset] & 0x80, int.from_bytes(data[offset + 1 : offset + 4], "big")
            offset += 4 + size
            if last:
                return offset, len(data)
    if data[:3] == b"ID3":
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | byte
        return 10 + size, len(data)
    return 0, len(data)  # OGG: the manifest is in a sidecar


def flip_audio_byte(path: Path) -> None:
    """Invert one byte in the middle of the encoded audio, away from the headers, tags and the manifest."""
    data = bytearray(path.read_bytes())
    start, end = audio_span(bytes(data))
    data[(start + end) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# -- the record model --------------------------------------------------------------------------------------------


def test_record_round_trips_through_its_dict(opened: OpenedPack) -> None:
    record = make_record(opened, "flac", grant={"id": "g-1", "recipe_hash": "abc", "signature": "c2ln"})
    again = ProvenanceRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record
    assert again.recipe_hash() == record.recipe_hash()


def test_record_lists_only_the_audible_stems(opened: OpenedPack) -> None:
    record = make_record(opened, "wav")
    assert [s.stem_id for s in record.stems] == ["vocals", "drums", "bass"]  # keys are muted
    by_id = {s.id: s for s in opened.manifest.stems}
    assert all(s.sha256 == by_id[s.stem_id].sha256 for s in record.stems)


def test_human_edits_are_not_labelled_as_ai(opened: OpenedPack) -> None:
    assert make_record(opened, "wav").digital_source_type == SOURCE_HUMAN_EDITS
    assert make_record(opened, "wav", ai_assisted=True).digital_source_type == SOURCE_COMPOSITE_WITH_AI
    assert "trainedAlgorithmicMedia" not in SOURCE_HUMAN_EDITS


def test_record_refuses_an_unknown_format_and_a_contradicting_source_type(opened: OpenedPack) -> None:
    with pytest.raises(ProvenanceError, match="not an export format"):
        make_record(opened, "m4a")
    data = make_record(opened, "wav").to_dict()
    data["digital_source_type"] = SOURCE_COMPOSITE_WITH_AI
    with pytest.raises(ProvenanceError, match="contradicts"):
        ProvenanceRecord.from_dict(data)


# -- the manifest ------------------------------------------------------------------------------------------------


def test_manifest_opens_the_pack_first_and_carries_the_recipe(opened: OpenedPack) -> None:
    record = make_record(opened, "mp3")
    manifest = build_manifest(record)
    actions = manifest["assertions"][0]["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited", "c2pa.transcoded"]
    assert actions[1]["parameters"]["com.fanremix.recipe"] == record.recipe.to_dict()
    assert actions[1]["digitalSourceType"] == SOURCE_HUMAN_EDITS
    assert actions[2]["parameters"]["com.fanremix.format"] == "mp3"
    parent = [i for i in manifest["ingredients"] if i["relationship"] == "parentOf"]
    assert len(parent) == 1 and parent[0]["metadata"]["com.fanremix.pack"]["hash"] == opened.manifest.pack_hash()
    assert manifest["claim_generator_info"] == [{"name": "Fan Remix Studio", "version": "0.1.0"}]


@pytest.mark.parametrize("allowed", [False, True])
def test_training_and_mining_assertion_follows_the_policy(opened: OpenedPack, allowed: bool) -> None:
    record = make_record(opened, "wav")
    record = ProvenanceRecord.from_dict({**record.to_dict(), "ai_training_allowed": allowed})
    entries = next(a for a in build_manifest(record)["assertions"] if a["label"] == "cawg.training-mining")["data"]
    uses = {entry["use"] for entry in entries["entries"].values()}
    assert uses == {"allowed" if allowed else "notAllowed"}
    assert set(entries["entries"]) >= {"cawg.ai_training", "cawg.ai_generative_training", "cawg.data_mining"}


def test_rights_assertion_states_the_licence(opened: OpenedPack) -> None:
    policy = policy_templates.demo()
    grant = {"id": "grant-7", "recipe_hash": "x", "signature": "base64sig"}
    rights = next(
        a
        for a in build_manifest(make_record(opened, "wav", grant=grant))["assertions"]
        if a["label"] == "com.fanremix.rights"
    )["data"]
    assert rights["policy"] == {"uid": policy.uid, "hash": policy.policy_hash()}
    assert rights["grant"] == grant
    assert rights["attribution"] == policy.attribution
    assert rights["revenue_split"] == [
        {"party": "Rightsholders", "percent": 70.0},
        {"party": "Remixer", "percent": 30.0},
    ]
    assert rights["distribution"] == {"platform": "fanremix", "outside_platform": False}


# -- signing and reading back ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_signed_file_reads_back_trusted_with_the_same_record(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors, fmt: str
) -> None:
    record = make_record(opened, fmt)
    path = signed_file(tmp_path, opened, identity, fmt)

    report = read_provenance(path, anchors)
    assert report.state == ValidationState.TRUSTED, report.reasons
    assert report.reasons == []
    assert report.record == record
    assert report.recipe_hash == record.recipe.recipe_hash()
    assert report.signer is not None and report.signer.common_name == "Test Fan"
    assert report.location == ("sidecar" if fmt == "ogg" else "embedded")
    assert sidecar_path(path).is_file() == (fmt == "ogg")


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_the_anchor_the_file_is_valid_but_untrusted(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, fmt: str
) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    report = read_provenance(path)
    assert report.state == ValidationState.VALID
    assert report.state_words == "Valid but untrusted"
    assert any("signingCredential.untrusted" in reason for reason in report.reasons)
    assert report.record is not None


def test_another_ca_as_anchor_does_not_make_it_trusted(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity
) -> None:
    stranger = CertificateAuthority.create("Some Other CA", "Elsewhere")
    report = read_provenance(
        signed_file(tmp_path, opened, identity, "flac"), TrustAnchors.from_pem(stranger.certificate_pem)
    )
    assert report.state == ValidationState.VALID


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_c2pa_reader_itself_sees_the_pack_ingredient_and_recipe(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, fmt: str
) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    with c2pa.Reader(str(path)) as reader:
        manifest = reader.get_active_manifest()
    parent = next(i for i in manifest["ingredients"] if i["relationship"] == "parentOf")
    assert opened.manifest.id in parent["title"]
    assert opened.manifest.pack_hash() in parent["instance_id"]
    assert parent["metadata"]["com.fanremix.pack"]["hash"] == opened.manifest.pack_hash()
    components = [i for i in manifest["ingredients"] if i["relationship"] == "componentOf"]
    assert [c["metadata"]["com.fanremix.stem"]["id"] for c in components] == ["vocals", "drums", "bass"]
    recipe = Recipe.from_dict(
        next(a for a in manifest["assertions"][0]["data"]["actions"] if a["action"] == "c2pa.edited")["parameters"][
            "com.fanremix.recipe"
        ]
    )
    assert recipe.recipe_hash() == remix_recipe(opened).recipe_hash()


def test_grant_and_ai_flag_survive_the_round_trip(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors
) -> None:
    grant = {"id": "grant-1", "recipe_hash": remix_recipe(opened).recipe_hash(), "signature": "AAAA", "n": 3}
    path = signed_file(tmp_path, opened, identity, "wav", grant=grant, ai_assisted=True)
    record = read_provenance(path, anchors).record
    assert record is not None
    assert record.rights.grant == grant
    assert record.ai_assisted and record.digital_source_type == SOURCE_COMPOSITE_WITH_AI


@pytest.mark.parametrize("fmt", FORMATS)
def test_credits_are_in_the_ordinary_tags(tmp_path: Path, opened: OpenedPack, identity: FanIdentity, fmt: str) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    tags = read_credit_tags(path)
    assert tags["TITLE"] == "Test Song (fan remix)"
    assert tags["ARTIST"] == "Tester"
    assert tags["REMIXER"] == "Test Fan"
    assert "Remix of “Test Song” by Tester" in tags["COMMENT"]
    assert tags["FANREMIX_RECIPE_SHA256"] == remix_recipe(opened).recipe_hash()


@pytest.mark.parametrize("fmt", FORMATS)
def test_common_decoders_still_read_every_signed_file(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, fmt: str
) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    info = soundfile.info(str(path))
    assert info.samplerate == SAMPLE_RATE and info.channels == 2
    audio, _ = soundfile.read(str(path))
    assert abs(len(audio) - SAMPLE_RATE) < 2048
    with AudioFile(str(path)) as handle:
        assert handle.samplerate == SAMPLE_RATE and handle.num_channels == 2
        assert handle.read(handle.frames).shape[1] >= SAMPLE_RATE - 2048
    if shutil.which("ffmpeg"):
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"], check=True, capture_output=True)
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        assert float(json.loads(probe.stdout)["format"]["duration"]) == pytest.approx(1.0, abs=0.1)


def test_signing_does_not_touch_the_source(tmp_path: Path, opened: OpenedPack, identity: FanIdentity) -> None:
    source = write_tone(tmp_path / "rendered.flac", "flac")
    before = source.read_bytes()
    embed_provenance(source, tmp_path / "remix.flac", make_record(opened, "flac"), identity)
    assert source.read_bytes() == before


# -- tampering ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_changed_audio_bytes_make_the_record_invalid(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors, fmt: str
) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    flip_audio_byte(path)
    report = read_provenance(path, anchors)
    assert report.state == ValidationState.INVALID
    codes = [entry.code for entry in report.failures]
    assert "assertion.dataHash.mismatch" in codes
    assert any("audio was changed after it was signed" in reason for reason in report.reasons)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_edited_manifest_is_invalid(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors, fmt: str
) -> None:
    path = signed_file(tmp_path, opened, identity, fmt)
    holder = sidecar_path(path) if fmt == "ogg" else path
    data = holder.read_bytes()
    assert data.count(b"Test Fan") >= 1
    holder.write_bytes(data.replace(b"Test Fan", b"Evil Fan"))  # claim someone else made it
    report = read_provenance(path, anchors)
    assert report.state == ValidationState.INVALID
    codes = {entry.code for entry in report.failures}
    assert codes & {"claimSignature.mismatch", "assertion.hashedURI.mismatch"}
    assert any("edited after signing" in reason for reason in report.reasons)


@pytest.mark.parametrize("fmt", FORMATS)
def test_editing_a_tag_after_signing_makes_the_record_invalid(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors, fmt: str
) -> None:
    import mutagen
    from mutagen import id3

    path = signed_file(tmp_path, opened, identity, fmt)
    audio = mutagen.File(path)
    if fmt in ("flac", "ogg"):
        audio["TITLE"] = ["My own song now"]
    else:
        audio.tags.add(id3.TIT2(encoding=id3.Encoding.UTF8, text=["My own song now"]))
    audio.save()
    report = read_provenance(path, anchors)
    assert report.state == ValidationState.INVALID
    assert "assertion.dataHash.mismatch" in [entry.code for entry in report.failures]


def test_a_damaged_sidecar_is_invalid_not_a_crash(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors
) -> None:
    path = signed_file(tmp_path, opened, identity, "ogg")
    sidecar = sidecar_path(path)
    sidecar.write_bytes(sidecar.read_bytes()[:200])
    report = read_provenance(path, anchors)
    assert report.state == ValidationState.INVALID
    assert report.reasons


def test_a_plain_file_has_no_credentials(tmp_path: Path) -> None:
    for fmt in FORMATS:
        with pytest.raises(NoCredentialsError, match="no Content Credentials"):
            read_provenance(write_tone(tmp_path / f"plain.{fmt}", fmt))


def test_reading_from_a_stream_with_a_sidecar(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, anchors: TrustAnchors
) -> None:
    path = signed_file(tmp_path, opened, identity, "ogg")
    with path.open("rb") as stream:
        report = read_provenance_stream(stream, "ogg", anchors, sidecar_bytes=sidecar_path(path).read_bytes())
    assert report.state == ValidationState.TRUSTED
    with path.open("rb") as stream, pytest.raises(NoCredentialsError):
        read_provenance_stream(stream, "ogg", anchors)


def test_another_apps_credentials_validate_but_are_not_read_as_our_record(
    tmp_path: Path, identity: FanIdentity, anchors: TrustAnchors
) -> None:
    source = write_tone(tmp_path / "plain.wav", "wav")
    definition = {
        "claim_generator_info": [{"name": "Some other editor", "version": "1.0"}],
        "title": "Someone else's file",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            }
        ],
    }
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.private_key_pem(), None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(definition)) as builder:
        builder.sign_file(str(source), str(tmp_path / "other.wav"), signer)
    report = read_provenance(tmp_path / "other.wav", anchors)
    assert report.state == ValidationState.TRUSTED
    assert report.record is None
    assert "not written by Fan Remix Studio" in (report.record_error or "")


def test_foreign_manifest_is_reported_not_parsed(opened: OpenedPack) -> None:
    with pytest.raises(ProvenanceError, match="parent ingredient"):
        record_from_manifest({"claim_generator_info": [{"name": "Other app"}], "ingredients": [], "assertions": []})


# -- atomic writes -----------------------------------------------------------------------------------------------


def test_failed_signing_leaves_nothing_at_the_destination(
    tmp_path: Path, opened: OpenedPack, identity: FanIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "remix.ogg"
    existing.write_bytes(b"the previous export")

    def broken_sign(*args, **kwargs):
        raise c2pa.C2paError("simulated failure")

    monkeypatch.setattr(c2pa.Builder, "sign", broken_sign)
    for fmt in ("wav", "ogg"):
        with pytest.raises(C2paSigningError, match="simulated failure"):
            embed_provenance(
                write_tone(tmp_path / f"r.{fmt}", fmt), out / f"remix.{fmt}", make_record(opened, fmt), identity
            )
    assert sorted(os.listdir(out)) == ["remix.ogg"]  # no temp files, no sidecar, no new wav
    assert existing.read_bytes() == b"the previous export"


def test_destination_must_match_the_record_format(tmp_path: Path, opened: OpenedPack, identity: FanIdentity) -> None:
    with pytest.raises(C2paSigningError, match=r"\.mp3"):
        embed_provenance(
            write_tone(tmp_path / "r.wav", "wav"), tmp_path / "remix.wav", make_record(opened, "mp3"), identity
        )


def test_status_codes_have_words() -> None:
    for code in ("assertion.dataHash.mismatch", "claimSignature.mismatch", "signingCredential.untrusted"):
        assert credentials.STATUS_MEANINGS[code].endswith(")") or credentials.STATUS_MEANINGS[code].endswith(".")


@pytest.mark.parametrize("percent", [float("nan"), float("-inf")])
def test_a_rights_assertion_with_a_non_finite_revenue_share_is_refused(percent) -> None:
    terms = {
        "policy": {"uid": "urn:policy:1", "hash": "ab" * 32},
        "grant": None,
        "attribution": "Remix of Song",
        "revenue_split": [{"party": "Label", "percent": percent}],
        "distribution": {"platform": "fanremix", "outside_platform": False},
        "commercial_use": False,
    }
    with pytest.raises(ProvenanceError, match="finite number"):
        RightsTerms.from_dict(terms)
    terms["revenue_split"][0]["percent"] = 100  # the same terms with a real share are read
    assert RightsTerms.from_dict(terms).revenue_split[0].percent == 100
