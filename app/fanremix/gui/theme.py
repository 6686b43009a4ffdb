"""Colours, palettes and the style sheet: a dark mixer look, and a light one when the system asks for it.

Custom-painted widgets read the palette (so they follow the theme) plus the fixed role colours below.
"""

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

ROLE_COLOURS = {
    "vocals": "#ff5c8a",
    "drums": "#ffb347",
    "bass": "#4da3ff",
    "keys": "#b388ff",
    "guitar": "#4cd787",
    "other": "#9aa8bd",
    "master": "#e6e8ee",
}
ROLE_LABELS = {
    "vocals": "Vocals",
    "drums": "Drums",
    "bass": "Bass",
    "keys": "Keys",
    "guitar": "Guitar",
    "other": "Other",
}
MUTE_COLOUR = "#ff6b4a"
SOLO_COLOUR = "#ffd43b"
OK_COLOUR = "#3ecf8e"
WARN_COLOUR = "#ffb020"
ERROR_COLOUR = "#ff5c5c"


def role_colour(role: str) -> QColor:
    return QColor(ROLE_COLOURS.get(role, ROLE_COLOURS["other"]))


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    panel: str
    raised: str
    border: str
    text: str
    muted: str
    accent: str
    accent_text: str
    groove: str
    handle: str
    handle_border: str
    waveform_bg: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"


DARK = Theme(
    name="dark",
    window="#121419",
    panel="#1b1e25",
    raised="#252932",
    border="#323845",
    text="#e6e8ee",
    muted="#a3abba",
    accent="#22d3ee",
    accent_text="#06252b",
    groove="#0c0e12",
    handle="#d9dde6",
    handle_border="#323845",
    waveform_bg="#101217",
)
LIGHT = Theme(
    name="light",
    window="#eef0f4",
    panel="#ffffff",
    raised="#f5f6f9",
    border="#cfd4de",
    text="#1b1e24",
    muted="#565e6d",
    accent="#0e7490",
    accent_text="#ffffff",
    groove="#c9ced8",
    handle="#ffffff",
    handle_border="#6b7383",
    waveform_bg="#f7f8fa",
)


def system_theme() -> Theme:
    """Light when the system says light; dark otherwise (a mixer is at home in the dark)."""
    scheme = QGuiApplication.styleHints().colorScheme()
    return LIGHT if scheme == Qt.ColorScheme.Light else DARK


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.panel,
        QPalette.ColorRole.AlternateBase: theme.raised,
        QPalette.ColorRole.ToolTipBase: theme.raised,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.raised,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.Link: theme.accent,
        QPalette.ColorRole.Mid: theme.border,
        QPalette.ColorRole.Dark: theme.groove,
        QPalette.ColorRole.Light: theme.handle,
        QPalette.ColorRole.Midlight: theme.raised,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor(theme.muted)
    disabled.setAlpha(140)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def style_sheet(theme: Theme) -> str:
    t = theme
    return f"""
QMainWindow, QDialog {{ background: {t.window}; }}
QToolTip {{ background: {t.raised}; color: {t.text}; border: 1px solid {t.border}; padding: 6px; }}
QMenuBar {{ background: {t.window}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {t.accent}; color: {t.accent_text}; }}
QMenu {{ background: {t.panel}; border: 1px solid {t.border}; }}
QToolBar {{ background: {t.window}; border: none; spacing: 6px; padding: 4px 8px; }}
QStatusBar {{ background: {t.window}; color: {t.muted}; }}
QStatusBar QLabel {{ color: {t.muted}; padding: 0 6px; }}
QSplitter::handle {{ background: {t.window}; }}
QScrollArea, QScrollArea > QWidget > QWidget {{ background: transparent; border: none; }}
QFrame#Panel {{ background: {t.panel}; border: 1px solid {t.border}; border-radius: 10px; }}
QLabel#PanelTitle {{ font-weight: 600; color: {t.text}; font-size: 11pt; }}
QLabel#Muted, QLabel#Caption {{ color: {t.muted}; }}
QLabel#Caption {{ font-size: 8pt; letter-spacing: 0.5px; }}
QLabel#SongTitle {{ font-size: 13pt; font-weight: 700; }}
QLabel#SongMeta {{ color: {t.muted}; }}
QLabel#Clock {{ font-family: "DejaVu Sans Mono", monospace; font-size: 16pt; color: {t.text}; }}
QLabel#BigValue {{ font-size: 14pt; font-weight: 600; }}
QLabel#Badge {{ border-radius: 8px; padding: 2px 8px; background: {t.raised}; color: {t.muted}; }}
QLabel#DemoBadge {{ border-radius: 8px; padding: 3px 10px; border: 1px solid {WARN_COLOUR}; color: {WARN_COLOUR};
    font-weight: 600; font-size: 8pt; }}
QFrame#StemStrip {{ background: {t.panel}; border: 1px solid {t.border}; border-radius: 10px; }}
QFrame#StemStrip[selected="true"] {{ border: 2px solid {t.accent}; }}
QFrame#MasterStrip {{ background: {t.raised}; border: 1px solid {t.border}; border-radius: 10px; }}
QLabel#StripName {{ font-weight: 600; }}
QPushButton, QToolButton {{
    background: {t.raised}; color: {t.text}; border: 1px solid {t.border}; border-radius: 6px; padding: 5px 10px;
}}
QPushButton:hover, QToolButton:hover {{ border-color: {t.accent}; }}
QPushButton:focus, QToolButton:focus, QComboBox:focus, QLineEdit:focus, QDoubleSpinBox:focus, QSpinBox:focus,
QSlider:focus, QDial:focus, QListView:focus, QTabBar::tab:focus {{ border: 1px solid {t.accent}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {t.muted}; background: {t.panel}; border-style: dashed; }}
QPushButton#Primary {{ background: {t.accent}; color: {t.accent_text}; border: none; font-weight: 600; }}
QPushButton#Primary:disabled {{ background: {t.raised}; color: {t.muted}; }}
QToolButton#TransportButton {{ padding: 6px; border-radius: 18px; min-width: 24px; min-height: 24px; }}
QToolButton#TransportButton:checked {{ background: {t.accent}; border-color: {t.accent}; }}
QToolButton#MuteButton, QToolButton#SoloButton {{ font-weight: 700; min-width: 26px; padding: 3px 0; }}
QToolButton#MuteButton:checked {{ background: {MUTE_COLOUR}; color: #1a0500; border-color: {MUTE_COLOUR}; }}
QToolButton#SoloButton:checked {{ background: {SOLO_COLOUR}; color: #1f1800; border-color: {SOLO_COLOUR}; }}
QToolButton#FxButton {{ padding: 3px 6px; }}
QToolButton#FxButton[active="true"] {{ color: {t.accent}; border-color: {t.accent}; }}
QComboBox, QLineEdit, QDoubleSpinBox, QSpinBox {{
    background: {t.panel}; color: {t.text}; border: 1px solid {t.border}; border-radius: 6px; padding: 4px 8px;
}}
QComboBox QAbstractItemView {{ background: {t.panel}; selection-background-color: {t.accent};
    selection-color: {t.accent_text}; }}
QSlider::groove:vertical {{ background: {t.groove}; width: 6px; border-radius: 3px; }}
QSlider::sub-page:vertical {{ background: {t.groove}; border-radius: 3px; }}
QSlider::add-page:vertical {{ background: {t.accent}; border-radius: 3px; }}
QSlider::handle:vertical {{ background: {t.handle}; border: 1px solid {t.handle_border}; height: 14px; margin: 0 -9px;
    border-radius: 4px; }}
QSlider::groove:horizontal {{ background: {t.groove}; height: 6px; border-radius: 3px; }}
QSlider::sub-page:horizontal {{ background: {t.accent}; border-radius: 3px; }}
QSlider::handle:horizontal {{ background: {t.handle}; border: 1px solid {t.handle_border}; width: 14px; margin: -6px 0;
    border-radius: 7px; }}
QSlider::handle:disabled {{ background: {t.raised}; }}
QTabWidget::pane {{ border: 1px solid {t.border}; border-radius: 10px; background: {t.panel}; top: -1px; }}
QTabBar::tab {{ background: transparent; color: {t.muted}; padding: 7px 14px; border: none;
    border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
QListWidget, QListView, QUndoView, QTextBrowser {{ background: {t.panel}; border: none; }}
QListView::item:selected {{ background: {t.accent}; color: {t.accent_text}; }}
QProgressBar {{ background: {t.groove}; border: none; border-radius: 5px; text-align: center; color: {t.text};
    min-height: 10px; }}
QProgressBar::chunk {{ background: {t.accent}; border-radius: 5px; }}
QFrame#EffectCard {{ background: {t.raised}; border: 1px solid {t.border}; border-radius: 8px; }}
QFrame#EffectCard[bypassed="true"] {{ background: {t.panel}; border: 1px dashed {t.border}; }}
QFrame#EffectCard[bypassed="true"] QLabel {{ color: {t.muted}; }}
QFrame#EffectCard[bypassed="true"] QSlider::sub-page:horizontal {{ background: {t.border}; }}
QFrame#EffectCard[bypassed="true"] QSlider::handle:horizontal {{ background: {t.raised}; border-color: {t.border}; }}
QToolButton#BypassButton:checked {{ background: {t.accent}; border-color: {t.accent}; }}
QLabel#OffBadge {{ color: {t.muted}; border: 1px solid {t.muted}; border-radius: 4px; padding: 0 5px;
    font-size: 8pt; font-weight: 700; }}
QFrame#Banner {{ background: {t.raised}; border: 1px solid {WARN_COLOUR}; border-radius: 8px; }}
QFrame#ViolationBox {{ border: 1px solid {ERROR_COLOUR}; border-radius: 8px; }}
QFrame#OkBox {{ border: 1px solid {OK_COLOUR}; border-radius: 8px; }}
QGroupBox {{ border: 1px solid {t.border}; border-radius: 8px; margin-top: 14px; padding: 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {t.muted}; }}
"""


def apply_theme(app: QGuiApplication, theme: Theme) -> None:
    app.setPalette(palette_for(theme))
    if hasattr(app, "setStyleSheet"):
        app.setStyleSheet(style_sheet(theme))
