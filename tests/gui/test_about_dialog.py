"""Help → About: version, the licences of what the app bundles, what the GPL means for distribution, credits."""

from PySide6.QtWidgets import QDialogButtonBox

from fanremix import APP_NAME, __version__
from fanremix.gui.dialogs.about_dialog import AboutDialog
from fanremix.licences import COMPONENTS, CREDITS

from .conftest import save_artifact


def make_dialog(qtbot) -> AboutDialog:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_about_shows_the_app_name_and_the_one_version(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    assert APP_NAME in dialog.windowTitle()
    assert APP_NAME in dialog.name_label.text()
    assert f"Version {__version__}" in dialog.version_label.text()
    save_artifact(dialog, "about-dialog")
    dialog.tabs.setCurrentWidget(dialog.licences_text)
    save_artifact(dialog, "about-dialog-licences")


def test_about_says_the_app_is_gpl_because_of_pedalboard_and_rubber_band(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    text = dialog.about_text.toPlainText()
    assert "GPL-3.0-or-later" in text
    assert "pedalboard" in text and "GPL version 3" in text
    assert "Rubber Band" in text
    assert "source code" in text


def test_every_bundled_component_is_listed_with_its_licence(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    text = dialog.licences_text.toPlainText()
    for component in COMPONENTS:
        assert component.name in text
        assert component.licence in text


def test_credits_are_shown(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    text = dialog.credits_text.toPlainText()
    for line in CREDITS:
        assert line in text


def test_links_open_outside_the_dialog(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    for browser in (dialog.about_text, dialog.licences_text, dialog.credits_text):
        assert browser.openExternalLinks()


def test_close_button_closes_the_dialog(qtbot, themed_app):
    dialog = make_dialog(qtbot)
    close = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    with qtbot.waitSignal(dialog.rejected):
        close.click()
    assert not dialog.isVisible()
