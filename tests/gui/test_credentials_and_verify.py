"""Export with Content Credentials from the export dialog, and the "About this file" view that checks them: the same
words as `fanremix verify`, Trusted / Valid but untrusted / Invalid, and the audio compared with the open pack."""

from pathlib import Path

import soundfile
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from fanremix.cli_verify import describe
from fanremix.gui.dialogs.verify_dialog import NO_CREDENTIALS, rows_of
from fanremix.provenance_flow import verify_file
from fanremix.rights.identity import (
    DEV_CA_DIR,
    CertificateAuthority,
    add_trust_anchor,
    configured_trust_anchors,
    create_fan_identity,
    trust_anchor_folder,
)
from tests.rights.test_c2pa import flip_audio_byte

from .conftest import LOAD_TIMEOUT_MS, save_artifact

EXPORT_TIMEOUT_MS = 60_000


def export_signed(qtbot, window, destination: Path, format_name: str = "wav24"):
    dialog = window.show_export_dialog()
    qtbot.waitUntil(lambda: dialog.identity_job.is_done, timeout=LOAD_TIMEOUT_MS)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(format_name))
    dialog.destination_edit.setText(str(destination))
    with qtbot.waitSignal(dialog.exported, timeout=EXPORT_TIMEOUT_MS) as done:
        dialog.start_export()
    return dialog, done.args[0]


def test_export_signs_the_file_and_the_verify_view_explains_it(qtbot, window, tmp_path) -> None:
    session = window.session
    session.set_gain("drums", -4.0)
    session.set_pitch(1)
    destination = tmp_path / "signed remix.wav"
    export, result = export_signed(qtbot, window, destination)
    assert result.credentials is not None and result.path == destination
    assert "Content Credentials" in export.result_label.text() and "without a grant" in export.result_label.text()
    assert "LUFS" in export.result_label.text()  # the figures are still there
    assert soundfile.info(str(destination)).channels == 2
    export.close()

    verify = window.show_verify_dialog(destination)
    with qtbot.waitSignal(verify.verified, timeout=EXPORT_TIMEOUT_MS) as checked:
        pass
    outcome = checked.args[0]
    assert verify.state_words == "Valid but untrusted"  # the local development certificate vouches for nobody
    # the same lines as `fanremix verify`, laid out as a table
    config = window.workspace.paths.config
    expected = describe(
        verify_file(destination, configured_trust_anchors(config)), anchors_folder=trust_anchor_folder(config)
    )
    assert outcome.lines == expected
    assert [label for label, _values in rows_of(expected)][:3] == ["File", "Validation", "Signed by"]
    text = verify.details_text()
    for words in (
        "Valid but untrusted",
        "Lanterns Over Glass",
        session.recipe.recipe_hash(),
        "Original song and stems by The Fan Remix House Band",
        "revenue split: Rightsholders 70%, Remixer 30%",
        "No generative AI",
        "none: exported without a licence grant",
        "local development CA",
    ):
        assert words in text, words
    assert verify.compare_button.isEnabled()

    with qtbot.waitSignal(verify.verified, timeout=EXPORT_TIMEOUT_MS) as compared:
        verify.compare_button.click()
    assert compared.args[0].verification.comparison.matches
    text = verify.details_text()
    assert "Audio check" in text and "MATCH: SNR" in text and "Pack policy" in text
    verify.resize(900, 720)
    save_artifact(verify, "verify-view")
    bar = verify.details.verticalScrollBar()
    bar.setValue(bar.maximum())
    save_artifact(verify, "verify-view-audio-check")

    # with the development CA made a trust anchor here, the same file is Trusted
    ca = CertificateAuthority.load(window.workspace.paths.config / DEV_CA_DIR)
    add_trust_anchor(window.workspace.paths.config, ca.certificate_pem, "test anchor")
    with qtbot.waitSignal(verify.verified, timeout=EXPORT_TIMEOUT_MS):
        verify.verify(destination)
    assert verify.state_words == "✓ Trusted"

    # one byte of audio changed: Invalid, with the reason in words and its code
    flip_audio_byte(destination)
    with qtbot.waitSignal(verify.verified, timeout=EXPORT_TIMEOUT_MS):
        verify.verify(destination)
    assert verify.state_words == "✕ Invalid"
    text = verify.details_text()
    assert "audio was changed after it was signed" in text and "assertion.dataHash.mismatch" in text
    save_artifact(verify, "verify-view-invalid")
    verify.close()


def test_dropping_an_audio_file_on_the_window_opens_the_verify_view(qtbot, window, tmp_path) -> None:
    plain = tmp_path / "no credentials.wav"
    soundfile.write(str(plain), [[0.0, 0.0]] * 4410, 44100)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(plain))])
    drop = QDropEvent(
        QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)
    verify = window.verify_dialog
    assert verify is not None and verify.isVisible()
    with qtbot.waitSignal(verify.verified, timeout=LOAD_TIMEOUT_MS):
        pass
    assert verify.state_words == NO_CREDENTIALS
    assert window.session is not None and window.session.manifest.title == "Lanterns Over Glass"  # nothing reopened
    verify.close()


def test_export_still_works_without_a_usable_identity_and_says_why(qtbot, window, tmp_path) -> None:
    create_fan_identity(window.workspace.paths.config, "Sam")
    (window.workspace.paths.config / "identity" / "fan-key.pem").write_text("damaged")
    destination = tmp_path / "plain.flac"
    dialog = window.show_export_dialog()
    qtbot.waitUntil(lambda: dialog.identity_job.is_done, timeout=LOAD_TIMEOUT_MS)
    assert not dialog.sign_check.isChecked() and not dialog.sign_check.isEnabled()
    assert "Cannot sign" in dialog.signer_label.text() and "not a private key file" in dialog.signer_label.text()
    assert not dialog.unlock.isVisible()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("flac16"))
    dialog.destination_edit.setText(str(destination))
    with qtbot.waitSignal(dialog.exported, timeout=EXPORT_TIMEOUT_MS) as done:
        dialog.start_export()
    result = done.args[0]
    assert result.credentials is None and destination.is_file()
    assert "without Content Credentials" in dialog.result_label.text()
    dialog.close()


def test_a_signing_key_with_a_passphrase_is_unlocked_in_the_export_dialog(qtbot, window, tmp_path) -> None:
    """The dialog asks for the passphrase of a protected key; a wrong one is refused, the right one signs, and it is
    kept for the session (the next export does not ask again)."""
    create_fan_identity(window.workspace.paths.config, "Sam", passphrase=b"a secret")
    dialog = window.show_export_dialog()
    qtbot.waitUntil(lambda: dialog.identity_job.is_done, timeout=LOAD_TIMEOUT_MS)
    assert dialog.unlock.isVisible() and not dialog.sign_check.isEnabled()
    save_artifact(dialog, "export-dialog-locked-key")

    dialog.unlock.passphrase_edit.setText("wrong")
    job = dialog.unlock.unlock()
    qtbot.waitUntil(lambda: job.is_done, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: dialog.unlock.message.isVisible(), timeout=LOAD_TIMEOUT_MS)
    assert "passphrase is wrong" in dialog.unlock.message.text() and dialog.unlock.isVisible()

    dialog.unlock.passphrase_edit.setText("a secret")
    with qtbot.waitSignal(dialog.unlock.unlocked, timeout=LOAD_TIMEOUT_MS):
        dialog.unlock.unlock_button.click()
    assert not dialog.unlock.isVisible()
    assert dialog.sign_check.isEnabled() and dialog.sign_check.isChecked()
    assert "Signed as Sam" in dialog.signer_label.text()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("flac16"))
    dialog.destination_edit.setText(str(tmp_path / "signed.flac"))
    with qtbot.waitSignal(dialog.exported, timeout=EXPORT_TIMEOUT_MS) as done:
        dialog.start_export()
    assert done.args[0].credentials is not None and done.args[0].credentials.record.remixer == "Sam"
    dialog.close()

    again = window.show_export_dialog()  # the passphrase is kept in memory for the session
    qtbot.waitUntil(lambda: again.identity_job.is_done, timeout=LOAD_TIMEOUT_MS)
    assert not again.unlock.isVisible() and again.sign_check.isEnabled()
    again.close()
