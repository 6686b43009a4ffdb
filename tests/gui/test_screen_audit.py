"""What the screenshot audit found, asserted: dialogs tall enough for their text, readable status words, a bypassed
effect that looks off, icons that follow the theme, a mixer that uses its width and shows whole stem names."""

from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QApplication, QComboBox, QLineEdit, QScrollBar

from fanremix.gui.theme import DARK, LIGHT, apply_theme
from fanremix.rights.identity import create_fan_identity

from .conftest import LOAD_TIMEOUT_MS, WINDOW_SIZES, save_artifact, save_at_window_sizes


def fits(dialog) -> bool:
    """Whether `dialog` is as tall as its layout needs at its width (word-wrapped labels included)."""
    layout = dialog.layout()
    layout.activate()
    return dialog.height() >= layout.totalHeightForWidth(dialog.width())


def unnamed_controls(top) -> list[str]:
    """The visible controls of `top` that a screen reader could not name."""
    controls = [w for kind in (QAbstractButton, QAbstractSlider, QComboBox, QLineEdit) for w in top.findChildren(kind)]
    assert controls
    return [
        f"{type(w).__name__} {w.text() if hasattr(w, 'text') else ''}".strip()
        for w in controls
        if w.isVisibleTo(top) and not w.accessibleName()
    ]


def icon_lightness(icon: QIcon) -> float:
    """The mean lightness (0-255) of the icon's opaque pixels."""
    image = icon.pixmap(32, 32).toImage()
    total, count = 0, 0
    for y in range(image.height()):
        for x in range(image.width()):
            colour = QColor(image.pixelColor(x, y))
            if colour.alpha() > 160:
                total += colour.lightness()
                count += 1
    assert count, "the icon is empty"
    return total / count


def mean_colour(widget) -> tuple[float, float, float]:
    image = widget.grab().toImage()
    r = g = b = 0
    n = image.width() * image.height()
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            r, g, b = r + c.red(), g + c.green(), b + c.blue()
    return r / n, g / n, b / n


# -- V1: dialogs grow when their text arrives from a worker -----------------------------------------------------------


def test_the_export_dialog_fits_its_text_once_the_identity_is_known(qtbot, window) -> None:
    dialog = window.show_export_dialog()
    looking = dialog.signer_label.text()
    qtbot.waitUntil(lambda: dialog.signer_label.text() != looking, timeout=LOAD_TIMEOUT_MS)  # the worker answered
    assert "A signing identity is made on this computer" in dialog.signer_label.text()
    qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    for width, height in WINDOW_SIZES:  # (resizing a window is asynchronous: wait for it to settle)
        window.resize(width, height)
        qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    dialog.resize(dialog.minimumWidth(), dialog.height())  # narrower: the wrapped note needs more lines
    qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    assert not unnamed_controls(dialog), unnamed_controls(dialog)
    dialog.reject()


def test_the_export_dialog_fits_the_reason_it_cannot_sign(qtbot, window) -> None:
    create_fan_identity(window.workspace.paths.config, "Sam")
    (window.workspace.paths.config / "identity" / "fan-key.pem").write_text("damaged")
    dialog = window.show_export_dialog()
    qtbot.waitUntil(lambda: "Cannot sign" in dialog.signer_label.text(), timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    dialog.reject()


def test_the_export_dialog_fits_the_passphrase_prompt(qtbot, window) -> None:
    create_fan_identity(window.workspace.paths.config, "Sam", passphrase=b"a secret")
    dialog = window.show_export_dialog()
    qtbot.waitUntil(lambda: dialog.unlock.isVisible(), timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    dialog.reject()


def test_the_device_dialog_fits_its_text_and_names_its_buttons(qtbot, window) -> None:
    dialog = window.show_device_dialog()
    with qtbot.waitSignal(dialog.scan_job.done, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: fits(dialog), timeout=2000)
    assert not unnamed_controls(dialog), unnamed_controls(dialog)
    save_artifact(dialog, "device-dialog")
    dialog.reject()


# -- V2: the rights service words in the status bar -------------------------------------------------------------------


def test_the_rights_service_words_use_the_themes_muted_colour(qtbot, window, themed_app) -> None:
    label = window.service_status
    assert "inherit" not in label.text()
    assert QColor(DARK.muted).name() in label.text()
    apply_theme(themed_app, LIGHT)
    try:
        assert QColor(LIGHT.muted).name() in label.text()
    finally:
        apply_theme(themed_app, DARK)
    assert QColor(DARK.muted).name() in label.text()


# -- V3: a bypassed effect looks off ----------------------------------------------------------------------------------


def test_a_bypassed_effect_looks_off(qtbot, window) -> None:
    window.views.mixer.strips["keys"].fx_button.click()
    rack = window.views.rack
    rack.add_effect("Reverb", "Hall")
    rack.add_effect("Delay", "Echo")
    rack.cards[1].bypass_button.click()
    assert window.session.recipe.stem("keys").chain[1].bypassed
    on, off = rack.cards
    assert on.bypass_button.isChecked() and not off.bypass_button.isChecked()
    assert not on.off_label.isVisibleTo(on) and off.off_label.isVisibleTo(off)
    assert "off" in off.bypass_button.accessibleName().lower()
    assert "off" in off.bypass_button.toolTip().lower()
    for card in (on, off):
        card.ensurePolished()
        for child in card.findChildren(QAbstractSlider):
            child.ensurePolished()
    save_at_window_sizes(window, window.views.tabs, "effects-rack-bypassed")
    # the power button: lit when on, plain when off
    lit, plain = mean_colour(on.bypass_button), mean_colour(off.bypass_button)
    assert sum(abs(a - b) for a, b in zip(lit, plain, strict=True)) > 60, (lit, plain)
    # the bypassed card's labels are dimmed
    role = QPalette.ColorRole.WindowText
    on_label = next(iter(on.controls.values())).label
    off_label = next(iter(off.controls.values())).label
    assert off_label.palette().color(role).lightness() < on_label.palette().color(role).lightness() - 40
    # switched on again: it looks like the others
    rack.cards[1].bypass_button.click()
    assert not rack.cards[1].off_label.isVisibleTo(rack.cards[1])


# -- V4: icons follow the theme ----------------------------------------------------------------------------------------


def themed_icons(window) -> dict[str, QIcon]:
    views = window.views
    return {
        "effects tab": views.tabs.tabIcon(0),
        "licence tab": views.tabs.tabIcon(1),
        "add effect": views.rack.add_button.icon(),
        "effect on/off": views.rack.cards[0].bypass_button.icon(),
        "remove effect": views.rack.cards[0].remove_button.icon(),
        "tempo reset": views.tempo_key.tempo_reset.icon(),
        "key reset": views.tempo_key.key_reset.icon(),
        "open": window.actions_by_name["open"].icon(),
    }


def test_icons_are_redrawn_when_the_theme_changes(qtbot, window, themed_app) -> None:
    window.views.rack.add_effect("Compressor", "Punchy")  # a card drawn in the dark theme
    for name, icon in themed_icons(window).items():
        assert icon_lightness(icon) > 150, name
    apply_theme(themed_app, LIGHT)
    try:
        dark_on_light = {name: round(icon_lightness(icon)) for name, icon in themed_icons(window).items()}
        assert all(value < 110 for value in dark_on_light.values()), dark_on_light
    finally:
        apply_theme(themed_app, DARK)
    for name, icon in themed_icons(window).items():
        assert icon_lightness(icon) > 150, name


# -- V5: the mixer --------------------------------------------------------------------------------------------------


def test_strips_show_whole_names_and_share_the_width(qtbot, window) -> None:
    mixer = window.views.mixer
    lead = next(s for s in mixer.strips.values() if s.full_name.startswith("Lead"))
    assert lead.full_name in lead.name_label.toolTip()
    for width, height in WINDOW_SIZES:
        window.resize(width, height)
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        for strip in mixer.strips.values():
            shown = " ".join(strip.name_label.text().split())
            assert shown == strip.full_name, (width, shown)
            lines = strip.name_label.text().count("\n") + 1
            assert strip.name_label.height() >= lines * strip.name_label.fontMetrics().lineSpacing()
        master = mixer.master
        master_right = master.mapTo(window, QPoint(master.width(), 0)).x()
        tempo_left = window.views.tempo_key.mapTo(window, QPoint(0, 0)).x()
        assert tempo_left - master_right < 40, (width, master_right, tempo_left)


# -- smaller findings ---------------------------------------------------------------------------------------------


def test_the_licence_panel_says_rights_holders_and_names_its_scroll_bar(qtbot, window) -> None:
    licence = window.views.licence
    assert "Rightsholders" not in licence.sections["requires"].text()
    assert "Rights holders 70%" in licence.sections["requires"].text()
    bars = licence.findChildren(QScrollBar)
    assert bars and all(bar.accessibleName() for bar in bars)
