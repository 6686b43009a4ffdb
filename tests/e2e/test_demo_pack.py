"""The built-in demo pack: deterministic, signed with the demo key, with the policy the product promises."""

import hashlib

from fanremix.cli import main
from fanremix.demo import make_demo_pack
from fanremix.rights.packfile import open_pack


def test_the_demo_pack_is_deterministic(tmp_path) -> None:
    make_demo_pack(tmp_path / "a.fanpack", seconds=4)
    make_demo_pack(tmp_path / "b.fanpack", seconds=4)
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.fanpack", "b.fanpack")]
    assert digest[0] == digest[1]


def test_the_demo_pack_verifies_as_demo_with_its_policy(tmp_path, workspace) -> None:
    manifest = make_demo_pack(tmp_path / "demo.fanpack", seconds=4)
    with open_pack(tmp_path / "demo.fanpack", workspace.keyring()) as pack:
        assert pack.signer.is_demo
        assert pack.manifest == manifest
    assert {s.role for s in manifest.stems} == {"drums", "bass", "keys", "vocals"}
    assert abs(manifest.duration_s - 4) < 1e-3
    policy = manifest.policy
    assert (policy.tempo_ratio.low, policy.tempo_ratio.high) == (0.8, 1.25)
    assert (policy.pitch_semitones.low, policy.pitch_semitones.high) == (-3, 3)
    assert not policy.rule_for("vocals").may_solo
    assert policy.attribution and not policy.distribute_outside_platform


def test_demo_command_and_verify_print_a_readable_summary(tmp_path, capsys) -> None:
    out = tmp_path / "demo.fanpack"
    assert main(["demo", "-o", str(out), "--seconds", "3"]) == 0
    capsys.readouterr()
    assert main(["pack", "verify", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Lanterns Over Glass" in text
    assert "110 BPM, key A minor" in text
    assert "DEMO KEY" in text
    assert "Soloing the vocals." in text
