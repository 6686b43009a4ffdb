"""The whole flow through the `fanremix` command against a real rights service on loopback:
demo pack → recipe → check → grant → render and embed the record → submit → accepted."""

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from fanremix.cli import EXIT_ERROR, build_parser
from fanremix.cli_service import add_service_commands
from fanremix.domain.errors import FanRemixError
from fanremix.domain.recipe import Recipe
from fanremix.local_service import LocalService, register_demo_pack
from fanremix.paths import AppPaths
from fanremix.rights.c2pa import read_provenance
from fanremix.rights.identity import TrustAnchors
from fanremix.rights.packfile import read_manifest_unverified
from fanremix.workspace import Workspace

pytest.importorskip("fanremix.audio.offline", reason="the offline renderer is not in this tree yet")

UNLIMITED = ["--rate-per-minute", "60000", "--rate-burst", "10000", "--auth-rate-per-minute", "60000"]
UNLIMITED += ["--auth-rate-burst", "10000"]
PASSWORD = "a long enough password"


def fanremix(argv: list[str], stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    """The `fanremix` command's parser and handlers, with the service commands added if cli.py has not yet."""
    if monkeypatch is not None and stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "submit" not in commands.choices:
        add_service_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args, Workspace.from_environment())
    except FanRemixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with LocalService.start(tmp_path_factory.mktemp("e2e-service"), service_args=UNLIMITED) as running:
        yield running


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory) -> Path:
    from fanremix.demo import make_demo_pack

    path = tmp_path_factory.mktemp("demo") / "demo.fanpack"
    make_demo_pack(path, seconds=4.0)
    return path


@pytest.fixture(scope="module")
def registered_demo(service, demo_pack, tmp_path_factory) -> Path:
    """The demo pack registered once, by the local publisher account `make run` uses."""
    root = tmp_path_factory.mktemp("publisher")
    publisher = Workspace(AppPaths(config=root / "config", data=root / "data", cache=root / "cache"))
    register_demo_pack(service.url, publisher, demo_pack)
    register_demo_pack(service.url, publisher, demo_pack)  # a second time is harmless (an update)
    return demo_pack


def test_demo_pack_to_accepted_submission_through_the_cli(service, registered_demo, tmp_path, monkeypatch, capsys):
    url = ["--service", service.url]
    assert fanremix(["account", "register", "e2e-fan", "--password-stdin", *url], PASSWORD + "\n", monkeypatch) == 0

    manifest = read_manifest_unverified(registered_demo)
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], tempo_ratio=1.1)
    recipe = recipe.with_stem("drums", gain_db=-3.0)
    recipe_file = tmp_path / "my-remix.json"
    recipe_file.write_text(recipe.to_json())
    capsys.readouterr()
    assert fanremix(["submit", str(recipe_file), "--pack", str(registered_demo), *url]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and "Exported" in out

    exported = tmp_path / "my-remix.wav"
    service_ca = json.loads(_get(service.url + "/v1/keys"))["ca_certificate_pem"].encode()
    report = read_provenance(exported, TrustAnchors.from_pem(service_ca))
    assert report.state.value == "Trusted"
    assert report.record is not None and report.record.recipe.recipe_hash() == recipe.recipe_hash()
    assert report.record.rights.grant["recipe_hash"] == recipe.recipe_hash()
    # the app kept the service's grant keys, so `verify` checks the grant's signature offline
    capsys.readouterr()
    assert fanremix(["verify", str(exported)]) == 0
    grant_id = report.record.rights.grant["id"]
    assert (
        f"grant {grant_id}: genuine: signed by the rights service, for exactly this recipe" in capsys.readouterr().out
    )

    assert fanremix(["submissions", *url]) == 0
    listing = capsys.readouterr().out
    assert "accepted" in listing and manifest.id in listing

    # the same file again: a new submission (a new key), also accepted — and nothing waits in the outbox
    assert fanremix(["submit", str(exported), *url]) == 0
    assert "accepted" in capsys.readouterr().out
    assert fanremix(["outbox"]) == 0
    assert "empty" in capsys.readouterr().out


def test_an_ogg_remix_is_submitted_with_its_sidecar_and_accepted(
    service, registered_demo, tmp_path, monkeypatch, capsys
):
    """OGG cannot hold the record, so it travels in a .c2pa sidecar; the service needs both to accept the remix."""
    url = ["--service", service.url]
    assert fanremix(["account", "register", "e2e-ogg", "--password-stdin", *url], PASSWORD + "\n", monkeypatch) == 0
    manifest = read_manifest_unverified(registered_demo)
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], pitch_semitones=1.0)
    recipe_file = tmp_path / "ogg-remix.json"
    recipe_file.write_text(recipe.to_json())
    capsys.readouterr()
    assert fanremix(["submit", str(recipe_file), "--pack", str(registered_demo), "--format", "ogg", *url]) == 0
    out = capsys.readouterr().out
    assert "accepted" in out, out
    assert (tmp_path / "ogg-remix.ogg").is_file() and (tmp_path / "ogg-remix.c2pa").is_file()


def test_a_recipe_outside_the_policy_gets_no_grant_through_the_cli(
    service, registered_demo, tmp_path, monkeypatch, capsys
):
    url = ["--service", service.url]
    assert fanremix(["account", "register", "e2e-fan-2", "--password-stdin", *url], PASSWORD + "\n", monkeypatch) == 0
    manifest = read_manifest_unverified(registered_demo)
    soloed = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems]).with_stem(
        "lead", solo=True
    )
    recipe_file = tmp_path / "solo.json"
    recipe_file.write_text(soloed.to_json())
    capsys.readouterr()
    assert fanremix(["submit", str(recipe_file), "--pack", str(registered_demo), *url]) == 3
    assert "No grant" in capsys.readouterr().err
    assert not (tmp_path / "solo.wav").exists()  # nothing was rendered without a grant


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_the_local_service_remembers_the_sign_in_across_commands(monkeypatch, capsys) -> None:
    """With no service configured each command starts the built-in one, on a new free port each time; the fan signed
    in by the first command is still signed in for the next."""
    monkeypatch.delenv("FANREMIX_SERVICE_URL", raising=False)
    assert fanremix(["account", "register", "local-fan", "--password-stdin"], PASSWORD + "\n", monkeypatch) == 0
    capsys.readouterr()
    assert fanremix(["account", "whoami"]) == 0
    assert "local-fan" in capsys.readouterr().out
