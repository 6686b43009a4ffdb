"""The QApplication: HiDPI, the Fusion style with our palette and style sheet, following the system's light/dark."""

import gc
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication

from fanremix import APP_NAME, __version__

from .theme import apply_theme, system_theme

ORGANISATION = "Fan Remix"
DESKTOP_FILE = "org.fanremix.FanRemixStudio"


def no_display_problem() -> str | None:
    """Why a window cannot be shown here, or None. Qt aborts the process instead of raising, so ask first."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "There is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
        "Run Fan Remix Studio in a desktop session, or set QT_QPA_PLATFORM=offscreen to run it without one."
    )


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The application object (the existing one, if any), themed and ready."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # fractional scale factors (1.25, 1.5) are kept as they are, so text stays crisp on HiDPI screens
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(ORGANISATION)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setStyle("Fusion")
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    apply_theme(app, system_theme())
    # Everything imported so far (Qt, numpy, scipy, pedalboard: hundreds of thousands of objects) lives as long as
    # the process. Freezing it keeps the cyclic collector from walking it all again: a full collection otherwise
    # stalls the GUI thread for 40-50 ms at random moments.
    gc.freeze()
    hints = app.styleHints()
    if not app.property("fanremixThemeFollowsSystem"):
        hints.colorSchemeChanged.connect(lambda _scheme: apply_theme(app, system_theme()))
        app.setProperty("fanremixThemeFollowsSystem", True)
    return app
