"""The rights service from the desktop app, against a real service on loopback: sign in, submit (accepted, refused by
the policy in force, queued in the outbox when the service is unreachable), the submissions view, and the local service
the app starts by itself."""

import html
import itertools
from pathlib import Path

from fanremix.domain import policy_templates
from fanremix.gui.dialogs.account_dialog import TAB_CREATE, TAB_SERVICE, TAB_SIGN_IN
from fanremix.gui.dialogs.submit_dialog import DONE, FAILED, STEPS
from fanremix.gui.launch import connect_rights_service_after_first_load
from fanremix.gui.widgets.rights_service import LOCAL_TOKEN_KEY, FixedKeyTokenStore, ServiceState
from fanremix.rights.client import RightsClient, TokenStore
from fanremix.rights.outbox import Outbox
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack, read_manifest_unverified
from fanremix.rights.signing import PublisherKey, public_key_pem
from tests.service.fault_proxy import FaultProxy

from ..conftest import write_tone_stems
from .conftest import (
    LOAD_TIMEOUT_MS,
    SERVICE_PASSWORD,
    connected_window,
    make_window,
    open_and_wait,
    save_artifact,
)

FLOW_TIMEOUT_MS = 120_000
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{id(_names) % 10_000}"


def sign_up(qtbot, window, name: str, role: str = "fan"):
    """Create an account through the Account dialog; returns the dialog."""
    dialog = window.show_account_dialog()
    dialog.tabs.setCurrentIndex(TAB_CREATE)
    dialog.new_name.setText(name)
    dialog.new_password.setText(SERVICE_PASSWORD)
    dialog.new_password_again.setText(SERVICE_PASSWORD)
    (dialog.publisher_role if role == "publisher" else dialog.fan_role).setChecked(True)
    with qtbot.waitSignal(dialog.answered, timeout=LOAD_TIMEOUT_MS) as answered:
        dialog.create_button.click()
    assert answered.args == [True], dialog.message.text()
    return dialog


def submit_and_wait(qtbot, dialog) -> str:
    with qtbot.waitSignal(dialog.outcome_shown, timeout=FLOW_TIMEOUT_MS) as outcome:
        dialog.submit_button.click()
    return outcome.args[0]


def fan_client(window, url: str) -> RightsClient:
    """A client signed in with the token the app stored."""
    return RightsClient(url, token=TokenStore(window.workspace.paths.config).get(url))


# -- account ---------------------------------------------------------------------------------------------------------


def test_the_account_dialog_registers_signs_out_and_signs_in(qtbot, service_window, rights_service) -> None:
    window, url = service_window, rights_service.url
    name = unique("gui-fan")
    dialog = window.show_account_dialog()
    assert "Not signed in" in dialog.account_label.text()
    # a typo in the repeated password is caught before anything is sent
    dialog.tabs.setCurrentIndex(TAB_CREATE)
    dialog.new_name.setText(name)
    dialog.new_password.setText(SERVICE_PASSWORD)
    dialog.new_password_again.setText(SERVICE_PASSWORD + "x")
    dialog.create_button.click()
    assert dialog.job is None and "differ" in dialog.message.text()

    sign_up(qtbot, window, name)
    account = window.rights.account
    assert account is not None and (account.name, account.role) == (name, "fan")
    assert f"Signed in as <b>{name}</b> (fan)" in dialog.account_label.text()
    assert window.service_status.words.endswith(f"ready · {name}")
    assert TokenStore(window.workspace.paths.config).get(url)  # the token went to the client's store

    with qtbot.waitSignal(dialog.answered, timeout=LOAD_TIMEOUT_MS):
        dialog.sign_out_button.click()
    assert window.rights.account is None and "Not signed in" in dialog.account_label.text()
    assert TokenStore(window.workspace.paths.config).get(url) is None

    dialog.tabs.setCurrentIndex(TAB_SIGN_IN)
    dialog.login_name.setText(name)
    dialog.login_password.setText("not the password")
    with qtbot.waitSignal(dialog.answered, timeout=LOAD_TIMEOUT_MS) as answered:
        dialog.sign_in_button.click()
    assert answered.args == [False] and window.rights.account is None
    assert dialog.message.text() and "Signed in" not in dialog.message.text()

    dialog.login_password.setText(SERVICE_PASSWORD)
    with qtbot.waitSignal(window.rights.account_changed, timeout=LOAD_TIMEOUT_MS) as changed:
        dialog.sign_in_button.click()
    assert changed.args[0].name == name
    assert not dialog.login_password.text()  # the password does not linger in the form

    # the Service tab shows the configured service, and refuses an address that is not http(s)
    qtbot.waitUntil(lambda: dialog.setting_job.is_done, timeout=5000)
    assert dialog.url_edit.text() == url
    dialog.tabs.setCurrentIndex(TAB_SERVICE)
    dialog.url_edit.setText("ftp://example.org")
    assert dialog.apply_service() is None and "https://" in dialog.message.text()
    dialog.url_edit.setText("http://rights.example.org")  # a remote service without TLS
    assert dialog.apply_service() is None and "unencrypted" in dialog.message.text()

    publisher = unique("gui-label")
    sign_up(qtbot, window, publisher, role="publisher")
    assert window.rights.account.role == "publisher"
    save_artifact(dialog, "account-dialog")
    dialog.close()


# -- submit ----------------------------------------------------------------------------------------------------------


def test_the_account_dialog_says_where_the_sign_in_is_kept_without_a_keyring(
    qtbot, service_window, rights_service, monkeypatch
) -> None:
    import keyring.backends.fail
    import keyring.core

    window = service_window
    dialog = sign_up(qtbot, window, unique("gui-fan"))  # with this test's (in-memory) OS keyring
    assert not dialog.keyring_note.isVisible()
    dialog.close()
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())  # no keyring at all
    dialog = sign_up(qtbot, window, unique("gui-fan"))
    assert dialog.keyring_note.isVisible()
    assert "no system keyring" in dialog.keyring_note.text() and "service-tokens.json" in dialog.keyring_note.text()
    dialog.close()


def test_submit_runs_the_whole_flow_and_the_submission_is_accepted(
    qtbot, service_window, rights_service, tmp_path
) -> None:
    window = service_window
    sign_up(qtbot, window, unique("gui-fan")).close()
    session = window.session
    session.set_gain("drums", -3.0)
    session.set_pan("keys", -0.4)
    dialog = window.show_submit_dialog()
    assert dialog.isVisible() and dialog.submit_button.isEnabled()
    assert "Submitting as" in dialog.account_label.text()
    destination = tmp_path / "my remix.flac"
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("flac24"))
    dialog.destination_edit.setText(str(destination))
    assert "Ogg" not in [dialog.format_combo.itemText(i) for i in range(dialog.format_combo.count())]

    assert submit_and_wait(qtbot, dialog) == "accepted"
    submission = dialog.submission
    assert submission.status == "accepted" and submission.pack_id == session.manifest.id
    assert submission.recipe_hash == session.recipe.recipe_hash()
    text = dialog.outcome_label.text()
    assert submission.id in text and "accepted" in text and str(destination) in text
    assert [dialog.step_marks[step].text() for step, _w in STEPS] == [DONE] * len(STEPS)
    assert destination.is_file()
    assert dialog.close_button.text() == "Close" and dialog.submit_button.isEnabled()
    save_artifact(dialog, "submit-dialog-done")

    # the submissions view lists it, with its status
    with qtbot.waitSignal(dialog.submissions_button.clicked):
        dialog.submissions_button.click()
    view = window.submissions_dialog
    qtbot.waitUntil(lambda: view.listing is not None and not view.busy, timeout=LOAD_TIMEOUT_MS)
    assert view.status_texts() == {submission.id: "accepted · awaiting review"}
    assert "1 submission." in view.message.text()
    view.resize(900, 420)
    save_artifact(view, "submissions-view")

    # the exported file verifies as Trusted: it is certified by the configured service's CA, and carries the grant
    verify = window.show_verify_dialog(destination)
    with qtbot.waitSignal(verify.verified, timeout=LOAD_TIMEOUT_MS):
        pass
    assert verify.state_words == "✓ Trusted"
    details = verify.details_text()
    assert "genuine: signed by the rights service, for exactly this recipe" in details  # checked with its keys
    assert session.recipe.recipe_hash() in details
    dialog.close()
    view.close()
    verify.close()


def test_a_rejection_by_the_service_shows_its_reasons(qtbot, service_window, rights_service, tmp_path) -> None:
    """The publisher retires the pack after the grant: the service examines the file and rejects it."""
    window = service_window
    sign_up(qtbot, window, unique("gui-fan")).close()
    published = _publish_unique_pack(window, rights_service, tmp_path)

    def render_then_retire(opened, recipe, destination, fmt):
        from fanremix.audio.offline import render_to_file

        result = render_to_file(opened.manifest, opened.stem_paths, recipe, destination, fmt)
        published.publisher.retire_pack(published.pack_id)
        return result

    open_and_wait(qtbot, window, lambda: window.open_path(published.path))
    dialog = window.show_submit_dialog()
    dialog.destination_edit.setText(str(tmp_path / "late.wav"))
    dialog.render = render_then_retire
    assert submit_and_wait(qtbot, dialog) == "rejected"
    text = dialog.outcome_label.text()
    assert dialog.submission.id in text and "pack.retired" in text
    assert dialog.step_marks[STEPS[-1][0]].text() == FAILED
    save_artifact(dialog, "submit-dialog-rejected")
    dialog.close()
    published.publisher.close()

    view = window.show_submissions_dialog()
    qtbot.waitUntil(lambda: view.listing is not None and not view.busy, timeout=LOAD_TIMEOUT_MS)
    assert view.status_texts() == {dialog.submission.id: "rejected"}
    [item] = [view.tree.topLevelItem(i) for i in range(view.tree.topLevelItemCount())]
    assert item.isExpanded() and "pack.retired" in item.child(0).text(0)
    view.resize(900, 420)
    save_artifact(view, "submissions-view-rejected")
    view.close()


class _Published:
    def __init__(self, path: Path, pack_id: str, publisher: RightsClient):
        self.path, self.pack_id, self.publisher = path, pack_id, publisher


def _publish_unique_pack(window, rights_service, tmp_path: Path) -> _Published:
    """A 2-second tone pack under the demo policy, trusted here, registered on the service by a new publisher."""
    key = PublisherKey.generate()
    window.workspace.keyring().trust(key.public_key, name="GUI test label", source="test")
    write_tone_stems(tmp_path / "stems", {"vocals": 440.0, "drums": 110.0, "bass": 55.0, "keys": 261.6}, seconds=2.0)
    sources = [StemSource(path=tmp_path / "stems" / f"{n}.wav", role=n) for n in ("vocals", "drums", "bass", "keys")]
    pack_id = unique("gui-pack")
    metadata = PackMetadata(id=pack_id, title="Test Song", artists=("Tester",), bpm=120, key="A minor")
    path = tmp_path / "test.fanpack"
    build_pack(sources, metadata, policy_templates.demo(), key, path)
    publisher = RightsClient(rights_service.url)
    publisher.register(unique("gui-label"), SERVICE_PASSWORD, role="publisher")
    publisher.register_pack(read_manifest_unverified(path), public_key_pem(key.public_key))
    return _Published(path, pack_id, publisher)


def test_a_recipe_the_policy_in_force_refuses_lists_every_violation_and_nothing_is_sent(
    qtbot, service_window, rights_service, tmp_path
) -> None:
    window = service_window
    published = _publish_unique_pack(window, rights_service, tmp_path)
    # the publisher tightens the licence on the service; the pack on this computer still carries the old one
    strict = policy_templates.strict()
    published.publisher.update_policy(published.pack_id, strict.to_dict())
    open_and_wait(qtbot, window, lambda: window.open_path(published.path))
    session = window.session
    sign_up(qtbot, window, unique("gui-fan")).close()
    session.set_tempo(1.2)
    session.set_pitch(3)
    assert session.violations == []  # allowed by the licence in the pack

    dialog = window.show_submit_dialog()
    destination = tmp_path / "refused.wav"
    dialog.destination_edit.setText(str(destination))
    assert submit_and_wait(qtbot, dialog) == "refused"
    text = dialog.outcome_label.text()
    expected = strict.check(session.recipe, session.manifest)
    assert len(expected) >= 2
    for violation in expected:
        assert html.escape(violation.message) in text
    assert "Nothing was rendered or sent" in text
    assert dialog.step_marks[STEPS[0][0]].text() == FAILED
    assert not destination.exists()
    assert Outbox(window.workspace.paths.data / "outbox").entries() == []
    with fan_client(window, rights_service.url) as client:
        assert client.submissions() == []

    # what the licence in the pack forbids is caught before anything is asked
    session.set_tempo(1.0)
    session.set_pitch(0)
    for stem in session.manifest.stems:
        if stem.role != "vocals":
            session.set_mute(stem.id, True)
    assert session.violations
    assert not dialog.submit_button.isEnabled() and dialog.violation_label.isVisible()
    dialog.close()
    published.publisher.close()


def test_an_unreachable_service_keeps_the_submission_in_the_outbox_until_it_is_back(
    qtbot, themed_app, workspace, demo_in_workspace, rights_service, tmp_path
) -> None:
    with FaultProxy(rights_service.url, fates={}) as proxy:  # passes everything through, until told otherwise
        window = connected_window(qtbot, workspace, proxy.url)
        sign_up(qtbot, window, unique("gui-fan")).close()
        dialog = window.show_submit_dialog()
        destination = tmp_path / "queued.wav"
        dialog.destination_edit.setText(str(destination))

        def render_then_cut(opened, recipe, destination, fmt):
            from fanremix.audio.offline import render_to_file

            result = render_to_file(opened.manifest, opened.stem_paths, recipe, destination, fmt)
            proxy.fates = {"drop_before": 1.0}  # the network goes away once the grant is in hand
            return result

        dialog.render = render_then_cut
        assert submit_and_wait(qtbot, dialog) == "queued"
        text = dialog.outcome_label.text()
        assert "Saved to the outbox" in text and "will be sent when the service is reachable" in text
        outbox = Outbox(workspace.paths.data / "outbox")
        assert len(outbox.entries()) == 1 and destination.is_file()
        assert window.rights.state == ServiceState.OFFLINE
        qtbot.waitUntil(lambda: window.rights.waiting == 1, timeout=5000)
        assert "offline" in window.service_status.words and "1 in the outbox" in window.service_status.words
        assert window.rights.retry_timer.isActive()  # it tries again by itself

        proxy.fates = {}  # back online
        with qtbot.waitSignal(window.rights.submissions_changed, timeout=LOAD_TIMEOUT_MS):
            window.rights.connect_service()  # what the retry timer does
        assert outbox.entries() == [] and window.rights.waiting == 0
        assert window.rights.state == ServiceState.READY and not window.rights.retry_timer.isActive()
        with fan_client(window, proxy.url) as client:
            assert [s.status for s in client.submissions()] == ["accepted"]
        dialog.close()
        window.discard_and_close()


def test_submitting_when_signed_out_opens_the_sign_in_and_carries_on(
    qtbot, service_window, rights_service, tmp_path
) -> None:
    window = service_window
    dialog = window.show_submit_dialog()
    dialog.destination_edit.setText(str(tmp_path / "later.wav"))
    assert submit_and_wait(qtbot, dialog) == "unauthorised"
    assert "Sign in first" in dialog.outcome_label.text()
    account = window.account_dialog
    assert account is not None and account.isVisible()
    with qtbot.waitSignal(dialog.outcome_shown, timeout=FLOW_TIMEOUT_MS) as outcome:
        account.tabs.setCurrentIndex(TAB_CREATE)
        account.new_name.setText(unique("gui-fan"))
        account.new_password.setText(SERVICE_PASSWORD)
        account.new_password_again.setText(SERVICE_PASSWORD)
        account.create_button.click()
    assert outcome.args == ["accepted"]
    account.close()
    dialog.close()


def test_a_locked_signing_key_is_unlocked_in_the_submit_dialog_and_the_submission_carries_on(
    qtbot, service_window, rights_service, tmp_path
) -> None:
    from fanremix.rights.identity import create_fan_identity, load_fan_identity

    window = service_window
    create_fan_identity(window.workspace.paths.config, "Locked Fan", passphrase=b"open sesame")
    sign_up(qtbot, window, unique("gui-fan")).close()
    dialog = window.show_submit_dialog()
    dialog.destination_edit.setText(str(tmp_path / "locked.wav"))
    assert submit_and_wait(qtbot, dialog) == "locked"
    assert "Your signing key is locked" in dialog.outcome_label.text() and dialog.unlock.isVisible()
    assert not (tmp_path / "locked.wav").exists()
    dialog.unlock.passphrase_edit.setText("open sesame")
    with qtbot.waitSignal(dialog.outcome_shown, timeout=FLOW_TIMEOUT_MS) as outcome:
        dialog.unlock.unlock_button.click()
    assert outcome.args == ["accepted"], dialog.outcome_label.text()
    # the service's certificate replaced the development one, and the key is still protected by its passphrase
    identity = load_fan_identity(window.workspace.paths.config, b"open sesame")
    assert not identity.is_development
    dialog.close()


def test_cancelling_a_submission_sends_nothing(qtbot, service_window, rights_service, tmp_path) -> None:
    window = service_window
    sign_up(qtbot, window, unique("gui-fan")).close()
    dialog = window.show_submit_dialog()
    dialog.destination_edit.setText(str(tmp_path / "cancelled.wav"))
    with qtbot.waitSignal(dialog.outcome_shown, timeout=FLOW_TIMEOUT_MS) as outcome:
        dialog.submit_button.click()
        assert dialog.close_button.text() == "Cancel"
        dialog.close_button.click()
    assert outcome.args == ["cancelled"] and "nothing was sent" in dialog.outcome_label.text()
    assert Outbox(window.workspace.paths.data / "outbox").entries() == []
    with fan_client(window, rights_service.url) as client:
        assert client.submissions() == []
    dialog.close()


def test_an_export_signed_in_carries_a_grant_and_the_platform_certificate(
    qtbot, service_window, rights_service, tmp_path
) -> None:
    window = service_window
    sign_up(qtbot, window, unique("gui-fan")).close()
    export = window.show_export_dialog()
    qtbot.waitUntil(lambda: export.identity_job.is_done, timeout=LOAD_TIMEOUT_MS)
    assert export.grant_check.isEnabled()
    export.grant_check.setChecked(True)
    destination = tmp_path / "with grant.wav"
    export.destination_edit.setText(str(destination))
    with qtbot.waitSignal(export.exported, timeout=FLOW_TIMEOUT_MS) as done:
        export.start_export()
    record = done.args[0].credentials.record
    assert record.rights.grant["recipe_hash"] == window.session.recipe.recipe_hash()
    assert "with grant" in export.result_label.text()
    export.close()
    verify = window.show_verify_dialog(destination)
    with qtbot.waitSignal(verify.verified, timeout=LOAD_TIMEOUT_MS):
        pass
    assert verify.state_words == "✓ Trusted"  # certified by the configured service's CA
    verify.close()


# -- the local service -----------------------------------------------------------------------------------------------


def test_with_no_service_configured_the_app_starts_a_local_one_after_the_first_load_and_stops_it_on_quit(
    qtbot, themed_app, workspace, demo_in_workspace, tmp_path
) -> None:
    window = make_window(qtbot, workspace)
    connect_rights_service_after_first_load(window)  # what `launch` does
    open_and_wait(qtbot, window, window.open_demo)
    link = window.rights
    assert link.state == ServiceState.IDLE  # nothing competes with opening the first pack
    assert window.service_status.words == "rights service: not connected yet"
    # then the start runs on a worker while the window goes on
    qtbot.waitUntil(lambda: window.service_status.words == "rights service: local, starting…", timeout=10_000)
    qtbot.waitUntil(lambda: link.state != ServiceState.STARTING, timeout=LOAD_TIMEOUT_MS)
    assert link.state == ServiceState.READY, link.last_error
    assert window.service_status.words == "rights service: local, ready"
    [service] = link.owned_services
    assert service.running and link.url == service.url and link.is_local

    # the demo pack is registered, so a first-time fan can submit straight away
    from fanremix.local_service import local_publisher_credentials

    with RightsClient(service.url) as publisher:
        publisher.login(*local_publisher_credentials(window.workspace.paths.data))
        assert window.session.manifest.id in [p.id for p in publisher.packs()]

    # out of the box: sign up and submit the demo song to the local service
    sign_up(qtbot, window, "first-time-fan").close()
    dialog = window.show_submit_dialog()
    dialog.destination_edit.setText(str(tmp_path / "first.wav"))
    assert submit_and_wait(qtbot, dialog) == "accepted", dialog.outcome_label.text()
    dialog.close()
    # its token is kept under a fixed key, not the URL: the local service gets a new port at every start
    store = FixedKeyTokenStore(TokenStore(window.workspace.paths.config), LOCAL_TOKEN_KEY)
    assert store.get("http://127.0.0.1:1") and TokenStore(window.workspace.paths.config).get(service.url) is None

    state_file = service.data_dir / "local.json"
    assert state_file.exists()
    window.discard_and_close()
    assert not service.running and not state_file.exists()
