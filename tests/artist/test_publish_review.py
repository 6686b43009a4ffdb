"""Publish, then review a fan's submission against the real rights service on loopback; and the same from the CLI."""

import argparse
import io
import sys
import threading
from pathlib import Path

import pytest

from fanremix.artist import POLICY_UPDATE_NOTE, BuildStem, build_artist_pack, load_or_create_publisher_key, scan_folder
from fanremix.cli import EXIT_ERROR, build_parser
from fanremix.cli_artist import add_artist_commands
from fanremix.domain import policy_templates
from fanremix.domain.errors import FanRemixError
from fanremix.domain.recipe import Recipe
from fanremix.rights.client import RightsClient, UnauthorisedError
from fanremix.rights.outbox import Outbox
from fanremix.rights.packfile import PackMetadata
from fanremix.submit_flow import submit_recipe
from fanremix.workspace import Workspace

from .conftest import PASSWORD, TIMEOUT_MS, save_artifact, wait_or_fail

_names = iter(range(1, 1000))


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def service_env(service, monkeypatch):
    """The app's service setting points at the test's rights service (set before any window exists)."""
    monkeypatch.setenv("FANREMIX_SERVICE_URL", service.url)
    return service


def build_tone_pack(workspace: Workspace, folder: Path, destination: Path, pack_id: str) -> Path:
    key, _created = load_or_create_publisher_key(workspace, "The Owls")
    metadata = PackMetadata(id=pack_id, title="Night Drive", artists=("The Owls",), bpm=120, key="A major")
    stems = [BuildStem.guessed(f) for f in scan_folder(folder)]
    return build_artist_pack(stems, metadata, policy_templates.demo(), key, destination, workspace.keyring()).path


def open_on_review_page(qtbot, window, workspace: Workspace, folder: Path, tmp_path: Path, name: str) -> Path:
    """Build a pack from `folder`, open it in the artist window and show the publish-and-review page."""
    pack_path = build_tone_pack(workspace, folder, tmp_path / f"{name}.fanpack", unique(name))
    with qtbot.waitSignal(window.pack_loaded, timeout=TIMEOUT_MS):
        window.open_pack_file(pack_path)
    window.show_page(3)
    return pack_path


def fan_submits(service, workspace: Workspace, pack_path: Path, tmp_path: Path, **recipe_changes):
    """A fan account makes a remix of the pack and submits it, as the remix window's Submit does."""
    from fanremix.rights.packfile import read_manifest_unverified

    fan = RightsClient(service.url)
    fan.register(unique("fan"), PASSWORD)
    manifest = read_manifest_unverified(pack_path)
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], **recipe_changes)
    result = submit_recipe(
        fan, Outbox(tmp_path / "outbox"), workspace, pack_path, recipe, tmp_path / "remix.wav", step=lambda _m: None
    )
    submission = result.outcome.submission
    assert submission is not None and submission.status == "accepted", submission
    return fan, submission


def test_publish_then_review_and_approve_a_fans_submission(
    qtbot, service_env, artist_window, workspace, tone_folder, tmp_path
) -> None:
    service = service_env
    window = artist_window
    pack_path = open_on_review_page(qtbot, window, workspace, tone_folder, tmp_path, "night-drive")
    review = window.review
    assert not review.publish_button.isEnabled()
    assert "Sign in with a publisher account" in review.publish_button.toolTip()

    # the artist creates a publisher account and publishes
    review.name_edit.setText(unique("owls-label"))
    review.password_edit.setText(PASSWORD)
    with wait_or_fail(qtbot, window.link.account_changed, review.failed) as signed_in:
        review.register_button.click()
    assert signed_in.args[0].role == "publisher"
    assert not review.sign_in_form.isVisible() and review.sign_out_button.isVisible()
    with wait_or_fail(qtbot, review.published, review.failed) as published:
        review.publish_button.click()
    result = published.args[0]
    assert result.pack_id == window.opened.manifest.id and not result.updated
    assert f"Published pack {result.pack_id} on {service.url}" in review.publish_status.text()

    # a fan remixes and submits it
    fan, submission = fan_submits(service, workspace, pack_path, tmp_path, tempo_ratio=1.1)

    # the artist sees it, with where it comes from, plays it, and approves it
    with wait_or_fail(qtbot, review.submissions_loaded, review.failed) as loaded:
        review.refresh_button.click()
    assert [s.id for s in loaded.args[0]] == [submission.id]
    assert review.table.item(0, 1).text() == "to review"
    with wait_or_fail(qtbot, review.submission_shown, review.failed) as shown:
        review.table.selectRow(0)
    details = shown.args[0]
    assert details.remixer == fan.me().name
    provenance = review.provenance.toPlainText()
    assert "Validation:    Trusted" in provenance
    assert "grant grt_" in provenance and "genuine: signed by the rights service, for exactly this recipe" in provenance
    assert f"“Night Drive” by The Owls (pack {result.pack_id}" in provenance
    assert review.detail_title.text() == f"Remix by {fan.me().name} — to review ({submission.id})"
    assert abs(len(details.audio) / details.sample_rate - 3.0 / 1.1) < 0.01
    with wait_or_fail(qtbot, window.player.started, window.player.failed):
        review.play_button.click()
    assert review.play_button.text() == "Stop"
    assert not review.reject_button.isEnabled()  # a rejection needs a note for the fan
    assert "Write a note first" in review.reject_button.toolTip()
    review.note_edit.setText("Lovely, thank you!")
    with (
        wait_or_fail(qtbot, review.reviewed, review.failed) as reviewed,
        qtbot.waitSignal(review.submissions_loaded, timeout=TIMEOUT_MS),
    ):
        review.approve_button.click()
    assert reviewed.args[0].status == "approved"
    assert review.detail_title.text().endswith(f"— approved ({submission.id})")
    assert review.table.item(0, 1).text() == "approved"
    assert not review.approve_button.isEnabled() and review.take_down_button.isEnabled()
    save_artifact(window, "artist-review")

    # the fan sees the new status, and the artist's note
    seen = fan.submission(submission.id)
    assert (seen.status, seen.review_note) == ("approved", "Lovely, thank you!")
    assert [s.status for s in fan.submissions()] == ["approved"]

    # a policy update goes to the service for new grants; the page says what it means for the old ones
    window.editor.tempo_row.spins[1].setValue(110.0)
    with wait_or_fail(qtbot, review.policy_updated, review.failed) as updated:
        review.update_policy_button.click()
    assert updated.args[0].policy_hash == window.editor.policy().policy_hash()
    assert "Grants already issued keep their terms" in review.publish_status.text()
    assert review.policy_note.text() == POLICY_UPDATE_NOTE and review.policy_note.isVisible()
    fan.close()


def test_a_publish_that_finds_no_sign_in_reports_it_and_asks_for_one(
    qtbot, service_env, artist_window, workspace, tone_folder, tmp_path, isolated_keyring
) -> None:
    """A job that finds no token fails with a typed error the page shows, and the page goes back to signing in,
    rather than leaving the artist (or a test) waiting for a result that cannot come."""
    window = artist_window
    open_on_review_page(qtbot, window, workspace, tone_folder, tmp_path, "lost-token")
    review = window.review
    review.name_edit.setText(unique("owls-label"))
    review.password_edit.setText(PASSWORD)
    with (
        wait_or_fail(qtbot, window.link.account_changed, review.failed),
        wait_or_fail(qtbot, review.submissions_loaded, review.failed),  # the list a sign-in refreshes
    ):
        review.register_button.click()
    assert isolated_keyring.items  # the publisher's token went to the OS keyring
    isolated_keyring.items.clear()  # and is gone from it (another program removed it)

    with qtbot.waitSignal(review.failed, timeout=TIMEOUT_MS) as failed:
        review.publish_button.click()
    error = failed.args[0]
    assert isinstance(error, UnauthorisedError) and error.code == "auth.required"
    assert review.publish_status.text().startswith("✕ You are not signed in")
    assert window.link.account is None and review.sign_in_form.isVisible()
    assert not review.publish_button.isEnabled()
    assert "Sign in with a publisher account" in review.publish_button.toolTip()


def test_a_job_that_found_no_sign_in_does_not_undo_a_sign_in_made_since(qtbot, service_env, artist_window) -> None:
    """A job started while signed out, which fails for want of a token after a sign-in has finished, leaves the new
    sign-in alone: only a job started since the last sign-in or sign-out may sign the page out."""
    link = artist_window.link
    release = threading.Event()

    def signed_out_work(_client, _ctx):
        release.wait(timeout=TIMEOUT_MS / 1000)
        raise UnauthorisedError("You are not signed in to the rights service.", code="auth.required")

    early = link.run("early", signed_out_work)
    with qtbot.waitSignal(link.account_changed, timeout=TIMEOUT_MS) as signed_in:
        link.register(unique("owls-label"), PASSWORD)
    assert signed_in.args[0] is not None
    with qtbot.waitSignal(early.failed, timeout=TIMEOUT_MS):
        release.set()
    assert link.account == signed_in.args[0]
    assert "signed in as" in link.words()


def fanremix(argv: list[str], stdin: str | None = None, monkeypatch=None) -> int:
    """The `fanremix` command with the artist commands added (as cli.py will once it calls add_artist_commands)."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "publish" not in commands.choices:
        add_artist_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args, Workspace.from_environment())
    except FanRemixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def test_publish_and_review_from_the_command_line(service, workspace, tone_folder, tmp_path, monkeypatch, capsys):
    url = ["--service", service.url]
    pack_path = build_tone_pack(workspace, tone_folder, tmp_path / "cli.fanpack", unique("cli-pack"))
    label = unique("cli-label")
    argv = ["account", "register", label, "--publisher", "--password-stdin", *url]
    assert fanremix(argv, PASSWORD + "\n", monkeypatch) == 0
    policy = tmp_path / "policy.json"
    assert fanremix(["policy", "new", "--template", "platform-only", "-o", str(policy)]) == 0
    capsys.readouterr()
    assert fanremix(["publish", str(pack_path), "--policy", str(policy), *url]) == 0
    out = capsys.readouterr().out
    assert "Published pack cli-pack" in out and "Grants already issued keep the terms" in out
    assert fanremix(["review", *url]) == 0
    assert "No submissions from your packs yet." in capsys.readouterr().out

    fan, first = fan_submits(service, workspace, pack_path, tmp_path / "a")
    _fan2, second = fan_submits(service, workspace, pack_path, tmp_path / "b", tempo_ratio=0.9)
    assert fanremix(["review", "--status", "accepted", *url]) == 0
    listing = capsys.readouterr().out
    assert first.id in listing and second.id in listing
    assert fanremix(["review", "--approve", first.id, *url]) == 0
    assert f"Submission {first.id} is now approved." in capsys.readouterr().out
    assert fanremix(["review", "--reject", second.id, *url]) == EXIT_ERROR
    assert "Say why you reject" in capsys.readouterr().err
    assert fanremix(["review", "--reject", second.id, "--note", "Too slow for us", *url]) == 0
    assert fanremix(["review", "--download", first.id, "-o", str(tmp_path / "dl"), *url]) == 0
    assert (tmp_path / "dl" / f"{first.id}.wav").stat().st_size > 1000
    assert fan.submission(first.id).status == "approved"
    rejected = _fan2.submission(second.id)
    assert rejected.status == "rejected" and rejected.reasons[-1].message == "Too slow for us"
    fan.close()
    _fan2.close()
