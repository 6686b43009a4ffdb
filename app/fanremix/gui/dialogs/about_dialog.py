"""Help → About: the version, what the licences of the bundled components mean for distribution, and credits.

The content comes from `fanremix.licences`, the same data the bundle's licences/ folder is written from.
"""

import html
import platform
import sys

import PySide6
from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from fanremix import APP_NAME, __version__
from fanremix.licences import APP_LICENCE, COMPONENTS, CREDITS, DISTRIBUTION_NOTICE, SOURCE_URL
from fanremix.resources import resource

ICON = "icons/org.fanremix.FanRemixStudio.svg"
ICON_SIZE = 64


def version_text() -> str:
    """What a bug report needs: the app's version and those of the runtime under it."""
    return (
        f"Version {__version__} · Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__}"
    )


def source_text() -> str:
    if SOURCE_URL:
        where = f'<a href="{html.escape(SOURCE_URL)}">{html.escape(SOURCE_URL)}</a>'
        return f"The complete source code of every released version is at {where}."
    return (
        "This build does not say where its source is published. Whoever gave it to you must also offer you its "
        "complete source code; ask them for it."
    )


def licences_folder_text() -> str:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return f"The full licence texts are in the app's folder: {html.escape(bundle)}/licences."
    return "The full licence texts come with each package (see packaging/README.md)."


def about_html() -> str:
    return (
        "<p>Remix a song's licensed stems within what its rights holders allow, hear every change as you make it, "
        "and export with a licence grant and signed Content Credentials.</p>"
        f"<p><b>Licence: {html.escape(APP_LICENCE)}.</b> {html.escape(DISTRIBUTION_NOTICE)}</p>"
        f"<p>{source_text()}</p>"
    )


def licences_html() -> str:
    rows = []
    for component in COMPONENTS:
        name = html.escape(component.name)
        if component.url:
            name = f'<a href="{html.escape(component.url)}">{name}</a>'
        rows.append(
            f"<tr><td>{name}</td><td>{html.escape(component.licence)}</td><td>{html.escape(component.note)}</td></tr>"
        )
    return (
        '<table cellspacing="0" cellpadding="4">'
        "<tr><th align='left'>Component</th><th align='left'>Licence</th><th align='left'>What it does here</th></tr>"
        + "".join(rows)
        + f"</table><p>{licences_folder_text()}</p>"
    )


def credits_html() -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in CREDITS)
    return f"<p>Fan Remix Studio stands on the work of many people:</p><ul>{items}</ul>"


def _browser(name: str, text: str) -> QTextBrowser:
    browser = QTextBrowser()
    browser.setObjectName(name)
    browser.setOpenExternalLinks(True)
    browser.setHtml(text)
    browser.setAccessibleName(name)
    return browser


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("AboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(QSize(640, 520))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(12)

        header = QHBoxLayout()
        header.setSpacing(14)
        icon = QIcon(str(resource(ICON)))
        if not icon.isNull():
            icon_label = QLabel()
            icon_label.setPixmap(icon.pixmap(ICON_SIZE, ICON_SIZE))
            icon_label.setFixedSize(ICON_SIZE, ICON_SIZE)
            header.addWidget(icon_label, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.name_label = QLabel(f"<b>{html.escape(APP_NAME)}</b>")
        name_font = self.name_label.font()
        name_font.setPointSizeF(name_font.pointSizeF() * 1.5)
        self.name_label.setFont(name_font)
        titles.addWidget(self.name_label)
        self.version_label = QLabel(version_text())
        self.version_label.setObjectName("Muted")
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles.addWidget(self.version_label)
        header.addLayout(titles, 1)
        layout.addLayout(header)

        self.tabs = QTabWidget()
        self.about_text = _browser("About", about_html())
        self.licences_text = _browser("Licences", licences_html())
        self.credits_text = _browser("Credits", credits_html())
        self.tabs.addTab(self.about_text, "&About")
        self.tabs.addTab(self.licences_text, "&Licences")
        self.tabs.addTab(self.credits_text, "&Credits")
        layout.addWidget(self.tabs, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
