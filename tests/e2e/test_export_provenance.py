"""End to end: export remixes of the demo pack with Content Credentials through the app's offline renderer, then
verify them as a listener would (`fanremix verify`, with and without the pack)."""

import argparse
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import c2pa
import numpy as np
import pytest
import soundfile
from pedalboard.io import AudioFile

from fanremix.audio.offline import render_to_file
from fanremix.cli_verify import EXIT_AUDIO_MISMATCH, EXIT_GRANT_REFUSED, EXIT_INVALID, add_verify_commands
from fanremix.demo import make_demo_pack
from fanremix.domain.policy import PolicyViolationError
from fanremix.domain.recipe import MASTER, Effect, Recipe
from fanremix.provenance_flow import MATCH_SNR_DB, container_of, export_with_provenance, snr_db, verify_file
from fanremix.rights.c2pa import NoCredentialsError, ValidationState, read_provenance, sidecar_path
from fanremix.rights.grants import Grant, GrantSigner, remember_service_keys
from fanremix.rights.identity import CertificateAuthority, FanIdentity, TrustAnchors, create_fan_identity
from fanremix.rights.packfile import OpenedPack, open_pack
from fanremix.workspace import Workspace
from tests.rights.test_c2pa import flip_audio_byte

DEMO_SECONDS = 4.0


@pytest.fixture(scope="module")
def demo_pack_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.fanpack"
    make_demo_pack(path, seconds=DEMO_SECONDS)
    return path


@pytest.fixture
def pack(demo_pack_file: Path, workspace: Workspace) -> Iterator[OpenedPack]:
    with open_pack(demo_pack_file, workspace.keyring()) as opened:
        yield opened


@pytest.fixture(scope="module")
def test_ca() -> CertificateAuthority:
    return CertificateAuthority.create("Fan Remix E2E Test CA", "Fan Remix tests")


@pytest.fixture
def identity(workspace: Workspace, test_ca: CertificateAuthority) -> FanIdentity:
    return create_fan_identity(workspace.paths.config, "E2E Fan", ca=test_ca)


@pytest.fixture
def anchors(test_ca: CertificateAuthority) -> TrustAnchors:
    return TrustAnchors.from_pem(test_ca.certificate_pem, "test CA")


@pytest.fixture
def anchor_file(tmp_path: Path, test_ca: CertificateAuthority) -> Path:
    path = tmp_path / "test-ca.pem"
    path.write_bytes(test_ca.certificate_pem)
    return path


def recipe_a(pack: OpenedPack) -> Recipe:
    manifest = pack.manifest
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], app_version="0.1.0")
    return recipe.with_stem("drums", gain_db=-4.0).with_stem("keys", pan=-0.5)


def full_recipe(pack: OpenedPack) -> Recipe:
    """Every kind of edit the record has to carry: levels, pan, effects, tempo, key, region, fades, loudness."""
    recipe = recipe_a(pack).with_stem("lead", chain=(Effect.of("Reverb", room_size=0.6, wet_level=0.3),))
    recipe = recipe.with_chain(MASTER, (Effect.of("Compressor", threshold_db=-18.0),))
    return replace(
        recipe,
        tempo_ratio=1.1,
        pitch_semitones=2.0,
        region_start_s=0.5,
        fade_in_s=0.2,
        fade_out_s=0.5,
        loudness_lufs=-16,
    )


def recipe_b(pack: OpenedPack) -> Recipe:
    """Another allowed remix: the bass muted and the lead louder."""
    return recipe_a(pack).with_stem("bass", mute=True).with_stem("lead", gain_db=4.0)


def run_verify(workspace: Workspace, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="fanremix")
    add_verify_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["verify", *argv])
    code = args.handler(args, workspace)
    return code, capsys.readouterr().out


# -- export and read back ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_export_from_the_demo_pack_reads_back_with_its_record(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    anchors: TrustAnchors,
    fmt: str,
) -> None:
    recipe = full_recipe(pack)
    result = export_with_provenance(pack, recipe, tmp_path / f"remix.{fmt}", fmt, identity)

    trusted = read_provenance(result.path, anchors)
    assert trusted.state == ValidationState.TRUSTED, trusted.reasons
    assert read_provenance(result.path).state == ValidationState.VALID
    assert trusted.record is not None
    assert trusted.record.recipe.recipe_hash() == recipe.recipe_hash()
    assert trusted.record.remixer == "E2E Fan"
    assert trusted.record.pack.publisher_key_id == pack.signer.key_id

    with c2pa.Reader(str(result.path)) as reader:  # the reference reader, not our parser
        manifest = reader.get_active_manifest()
        assert reader.get_validation_state() in ("Valid", "Trusted")
    parent = next(i for i in manifest["ingredients"] if i["relationship"] == "parentOf")
    assert pack.manifest.id in parent["title"]
    assert parent["metadata"]["com.fanremix.pack"]["hash"] == pack.manifest.pack_hash()
    assert parent["metadata"]["com.fanremix.pack"]["isrc"] == pack.manifest.isrc
    stems = {
        i["metadata"]["com.fanremix.stem"]["id"] for i in manifest["ingredients"] if i["relationship"] == "componentOf"
    }
    assert stems == set(recipe.audible_stem_ids())

    audio, rate = soundfile.read(str(result.path), always_2d=True)
    assert rate == pack.manifest.sample_rate and audio.shape[1] == 2 and len(audio) > rate
    with AudioFile(str(result.path)) as handle:
        assert handle.frames > rate
    if shutil.which("ffprobe"):
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(result.path), "-f", "null", "-"], check=True)
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=channels", "-of", "json", str(result.path)],
            check=True,
            capture_output=True,
            text=True,
        )
        assert json.loads(probe.stdout)["streams"][0]["channels"] == 2


def test_export_refuses_a_recipe_the_policy_forbids(tmp_path: Path, pack: OpenedPack, identity: FanIdentity) -> None:
    soloed = recipe_a(pack).with_stem("lead", solo=True)  # the demo policy forbids soloing the vocals
    with pytest.raises(PolicyViolationError):
        export_with_provenance(pack, soloed, tmp_path / "remix.wav", "wav", identity)
    assert list(tmp_path.iterdir()) == []


# -- verify --pack -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac", "flac16", "mp3"])
def test_verify_with_the_pack_reports_a_match(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    anchors: TrustAnchors,
    fmt: str,
) -> None:
    suffix = container_of(fmt)
    path = export_with_provenance(pack, full_recipe(pack), tmp_path / f"remix.{suffix}", fmt, identity).path
    result = verify_file(path, anchors, pack)
    assert result.comparison is not None and result.comparison.rendered
    assert result.comparison.matches, result.comparison
    assert result.comparison.snr_db >= MATCH_SNR_DB[suffix]


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_verify_with_the_pack_catches_audio_that_is_not_the_recorded_recipe(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    anchors: TrustAnchors,
    workspace: Workspace,
    demo_pack_file: Path,
    anchor_file: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    """Someone re-signs a render of recipe B with a record that claims recipe A: the signature is fine, the audio
    is not what the record says."""

    def render_b_instead(opened: OpenedPack, recipe: Recipe, destination: Path, out_fmt: str) -> Any:
        return render_to_file(opened.manifest, opened.stem_paths, recipe_b(opened), destination)

    path = export_with_provenance(
        pack, recipe_a(pack), tmp_path / f"swapped.{fmt}", fmt, identity, render=render_b_instead
    ).path
    result = verify_file(path, anchors, pack)
    assert result.report.state == ValidationState.TRUSTED
    assert result.comparison is not None and not result.comparison.matches
    assert result.comparison.snr_db < MATCH_SNR_DB[fmt]

    code, out = run_verify(workspace, str(path), "--pack", str(demo_pack_file), capsys=capsys)
    assert code == EXIT_AUDIO_MISMATCH
    assert "Audio check:   MISMATCH" in out


def test_verify_with_another_pack_does_not_render(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    small_pack: Path,
    workspace: Workspace,
) -> None:
    path = export_with_provenance(pack, recipe_a(pack), tmp_path / "remix.flac", "flac", identity).path
    with open_pack(small_pack, workspace.keyring()) as other:
        result = verify_file(path, None, other)
    assert result.comparison is not None
    assert not result.comparison.rendered and not result.comparison.matches
    assert "not the one the record names" in result.comparison.note


def test_snr_aligns_a_delayed_copy() -> None:
    rng = np.random.default_rng(1)
    reference = rng.standard_normal((20000, 2)) * 0.1
    delayed = np.concatenate([np.zeros((1105, 2)), reference])
    snr, offset, _ = snr_db(reference, delayed)
    assert offset == 1105 and snr > 100
    snr_other, _, _ = snr_db(reference, rng.standard_normal((20000, 2)) * 0.1)
    assert snr_other < 3


# -- the command -------------------------------------------------------------------------------------------------


def test_verify_command_explains_a_trusted_file(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    workspace: Workspace,
    anchor_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grant = issue_grant(SERVICE, pack, recipe_a(pack))
    path = export_with_provenance(pack, recipe_a(pack), tmp_path / "remix.flac", "flac", identity, grant=grant).path
    remember_service_keys(workspace.paths.config, SERVICE.key_set(), "the test service")
    code, out = run_verify(workspace, str(path), "--trust-anchor", str(anchor_file), capsys=capsys)
    assert code == 0
    for expected in (
        "Validation:    Trusted",
        "Signed by:     E2E Fan",
        f"Source pack:   “{pack.manifest.title}”",
        pack.manifest.pack_hash(),
        f"published by {pack.signer.name}",
        "What was done:",
        "Drums −4 dB".replace("−", "-"),
        "Licence:       policy urn:fanremix:policy:demo",
        "revenue split: Rightsholders 70%, Remixer 30%",
        f"Grant:         grant {grant['id']}: genuine: signed by the rights service, for exactly this recipe",
        "AI:            No generative AI",
        "humanEdits",
        "AI training and data mining on this file: not allowed",
    ):
        assert expected in out, expected

    code, out = run_verify(workspace, str(path), capsys=capsys)
    assert code == 0
    assert "Validation:    Valid but untrusted" in out
    assert "signingCredential.untrusted" in out


SERVICE = GrantSigner.generate()  # a rights service's grant key


def issue_grant(signer: GrantSigner, pack: OpenedPack, recipe: Recipe, **kwargs: Any) -> dict[str, Any]:
    grant = Grant.for_recipe(
        fan_id="acc_1", fan_name="E2E Fan", recipe=recipe, policy=pack.manifest.policy,
        pack_hash=pack.manifest.pack_hash(), **kwargs,
    )  # fmt: skip
    return signer.sign(grant)


def forged(grant: dict[str, Any]) -> dict[str, Any]:
    """The grant with its revenue split changed after the service signed it."""
    duties = {**grant["duties"], "revenue_split": [{"party": "Remixer", "percent": 100}]}
    return {**grant, "duties": duties}


@pytest.mark.parametrize(
    ("case", "status", "words", "exit_code"),
    [
        ("genuine", "genuine", "genuine: signed by the rights service, for exactly this recipe", 0),
        ("forged", "forged", "FORGED: The grant's signature does not match its content", EXIT_GRANT_REFUSED),
        ("other recipe", "other_recipe", "REFUSED: genuine, but it does not cover this file", EXIT_GRANT_REFUSED),
        ("expired", "expired", "genuine and for this recipe, but EXPIRED: The grant expired on", 0),
        ("another service", "unknown_key", "NOT CHECKED: it is signed by key", 0),
    ],
)
def test_verify_checks_the_grant_in_the_record(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
    case: str,
    status: str,
    words: str,
    exit_code: int,
) -> None:
    """The grant's signature is checked offline against the keys of the rights services known here: those the app
    kept when it got a grant, and any given with --service-keys (the body of the service's GET /v1/keys)."""
    recipe = recipe_a(pack)
    grant = {
        "genuine": lambda: issue_grant(SERVICE, pack, recipe),
        "forged": lambda: forged(issue_grant(SERVICE, pack, recipe)),
        "other recipe": lambda: issue_grant(SERVICE, pack, recipe_b(pack)),
        "expired": lambda: issue_grant(
            SERVICE, pack, recipe, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=40), lifetime=dt.timedelta(days=30)
        ),
        "another service": lambda: issue_grant(GrantSigner.generate(), pack, recipe),
    }[case]()
    path = export_with_provenance(pack, recipe, tmp_path / "remix.flac", "flac", identity, grant=grant).path
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"grant_keys": SERVICE.key_set().to_published()}))

    code, out = run_verify(workspace, str(path), "--service-keys", str(keys_file), capsys=capsys)
    assert f"Grant:         grant {grant['id']}: {words}" in out
    assert code == exit_code
    code, out = run_verify(workspace, str(path), "--service-keys", str(keys_file), "--json", capsys=capsys)
    assert json.loads(out)["grant_check"]["status"] == status
    if case == "genuine":  # without the service's keys the grant cannot be checked, and verify says so
        code, out = run_verify(workspace, str(path), capsys=capsys)
        assert code == 0 and "NOT CHECKED" in out


def test_verify_command_fails_for_an_altered_file(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    workspace: Workspace,
    anchor_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = export_with_provenance(pack, recipe_a(pack), tmp_path / "remix.wav", "wav", identity).path
    flip_audio_byte(path)
    code, out = run_verify(workspace, str(path), "--trust-anchor", str(anchor_file), capsys=capsys)
    assert code == EXIT_INVALID
    assert "Validation:    Invalid" in out
    assert "audio was changed after it was signed" in out and "assertion.dataHash.mismatch" in out

    code, out = run_verify(workspace, str(path), "--json", capsys=capsys)
    assert code == EXIT_INVALID
    data = json.loads(out)
    assert data["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in [f["code"] for f in data["failures"]]


def test_ogg_export_has_a_sidecar_that_verify_reads(
    tmp_path: Path,
    pack: OpenedPack,
    identity: FanIdentity,
    workspace: Workspace,
    anchor_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = export_with_provenance(pack, recipe_a(pack), tmp_path / "remix.ogg", "ogg", identity)
    assert result.sidecar == sidecar_path(result.path) == tmp_path / "remix.c2pa"
    assert result.sidecar.is_file()
    code, out = run_verify(workspace, str(result.path), "--trust-anchor", str(anchor_file), "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["state"] == "Trusted" and data["location"] == "sidecar"
    assert data["recipe_hash"] == recipe_a(pack).recipe_hash()
    audio, _ = soundfile.read(str(result.path))
    assert len(audio) > pack.manifest.sample_rate

    # an unsigned WAV of the same name shares that sidecar's name; it is not the WAV's record
    plain = tmp_path / "remix.wav"
    soundfile.write(str(plain), np.zeros((4410, 2), dtype=np.float32), 44100)
    with pytest.raises(NoCredentialsError, match=r"remix\.wav carries no Content Credentials"):
        read_provenance(plain)


def test_verify_command_on_a_file_without_credentials_raises_a_typed_error(
    tmp_path: Path, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.wav"
    soundfile.write(str(plain), np.zeros((4410, 2), dtype=np.float32), 44100)
    with pytest.raises(NoCredentialsError, match="no Content Credentials"):
        run_verify(workspace, str(plain), capsys=capsys)


def test_awkward_floats_in_the_recipe_survive_the_manifest(
    tmp_path: Path, pack: OpenedPack, identity: FanIdentity, anchors: TrustAnchors
) -> None:
    """Regression: gains like -0.15000000000000002 came back from the manifest rounded, so the hash broke."""
    recipe = recipe_a(pack)
    for index, stem in enumerate(pack.manifest.stems):
        recipe = recipe.with_stem(stem.id, gain_db=-0.05 * (index + 3), pan=0.1 * (index + 1) - 0.3)
    result = export_with_provenance(pack, recipe, tmp_path / "remix.wav", "wav", identity)
    report = read_provenance(result.path, anchors)
    assert report.state == ValidationState.TRUSTED, report.reasons
    assert report.record is not None and report.record.recipe == recipe
    assert report.recipe_hash == recipe.recipe_hash()
