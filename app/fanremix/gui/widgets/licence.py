"""The licence panel: the pack's policy in plain words, who signed it, and whether the current remix is within it.

Plain-text labels in a grid (rich-text tables cost tens of milliseconds to lay out; this panel is built while the
window must stay responsive).
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from fanremix.domain.policy import Violation

from ..session import Session
from ..theme import ERROR_COLOUR, OK_COLOUR, WARN_COLOUR

SECTIONS = (
    ("allows", "You may", "✓", OK_COLOUR),
    ("requires", "You must", "•", WARN_COLOUR),
    ("prohibits", "You may not", "✕", ERROR_COLOUR),
)


def party_words(party: str) -> str:
    """A revenue share's party as the app words it elsewhere (policies say "Rightsholders": "Rights holders")."""
    return "Rights holders" if party.replace(" ", "").lower() == "rightsholders" else party


def _policy_words(policy) -> dict[str, list[str]]:
    """`policy.describe()`, with the revenue split's parties worded as on the rest of the panel."""
    words = policy.describe()
    if policy.revenue_split:
        as_written = ", ".join(f"{share.party} {share.percent:g}%" for share in policy.revenue_split)
        as_said = ", ".join(f"{party_words(share.party)} {share.percent:g}%" for share in policy.revenue_split)
        words["requires"] = [item.replace(as_written, as_said) for item in words.get("requires", [])]
    return words


def _coloured(label: QLabel, colour: str) -> QLabel:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    label.setPalette(palette)
    return label


def _bold(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


class BulletList(QWidget):
    """Items with a coloured mark, wrapping to the panel's width."""

    def __init__(self, items: list[str], mark: str, colour: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self.items = list(items)
        for row, item in enumerate(items):
            symbol = _bold(_coloured(QLabel(mark, self), colour))
            symbol.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            text = QLabel(item, self)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.grid.addWidget(symbol, row, 0)
            self.grid.addWidget(text, row, 1)

    def text(self) -> str:
        return "\n".join(self.items)


class LicencePanel(QWidget):
    violations_shown = Signal(int)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.verticalScrollBar().setAccessibleName("Scroll the licence")
        scroll.horizontalScrollBar().setAccessibleName("Scroll the licence sideways")
        body = QWidget(scroll.viewport())
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)

        self.status_box = QFrame(body)
        self.status_layout = QVBoxLayout(self.status_box)
        self.status_layout.setContentsMargins(10, 8, 10, 8)
        self.status_layout.setSpacing(4)
        self.status_title = _bold(QLabel(self.status_box))
        self.status_title.setWordWrap(True)
        self.status_title.setAccessibleName("Licence check")
        self.status_layout.addWidget(self.status_title)
        self.status_list: BulletList | None = None
        layout.addWidget(self.status_box)

        manifest = session.manifest
        signer = session.signer
        title = _bold(QLabel(f"{manifest.title}", body))
        title.setWordWrap(True)
        layout.addWidget(title)
        lines = [f"by {', '.join(manifest.artists)}"]
        if manifest.rightsholders:
            lines.append("Rights holders: " + ", ".join(f"{r.name} ({r.role})" for r in manifest.rightsholders))
        if signer is not None:
            lines.append(f"Signed by {signer.name}")
        details = QLabel("\n".join(lines), body)
        details.setWordWrap(True)
        details.setObjectName("Muted")
        layout.addWidget(details)
        if signer is not None and getattr(signer, "is_demo", False):
            demo = _coloured(
                QLabel("Signed with the demo key: fine for trying the app, not a real rights holder.", body),
                WARN_COLOUR,
            )
            demo.setWordWrap(True)
            layout.addWidget(demo)

        words = _policy_words(manifest.policy)
        self.sections: dict[str, BulletList] = {}
        for key, heading, mark, colour in SECTIONS:
            label = QLabel(heading, body)
            label.setObjectName("PanelTitle")
            layout.addSpacing(4)
            layout.addWidget(label)
            section = BulletList(words.get(key) or ["Nothing more."], mark, colour, body)
            section.setAccessibleName(heading)
            self.sections[key] = section
            layout.addWidget(section)
        if manifest.policy.attribution:
            credit = QLabel(
                f"Your remix carries this credit: “{manifest.policy.attribution}”. "
                "The app writes it into the exported file.",
                body,
            )
            credit.setWordWrap(True)
            credit.setObjectName("Muted")
            layout.addSpacing(4)
            layout.addWidget(credit)
        layout.addStretch()
        scroll.setWidget(body)
        outer.addWidget(scroll)
        session.violations_changed.connect(self.show_violations)
        self.show_violations(session.violations)

    @property
    def status_text(self) -> str:
        items = self.status_list.text() if self.status_list is not None else ""
        return f"{self.status_title.text()}\n{items}".strip()

    def show_violations(self, violations: list[Violation]) -> None:
        if self.status_list is not None:
            self.status_layout.removeWidget(self.status_list)
            self.status_list.deleteLater()
            self.status_list = None
        if violations:
            self.status_box.setObjectName("ViolationBox")
            noun = "thing needs" if len(violations) == 1 else "things need"
            self.status_title.setText(f"{len(violations)} {noun} fixing before you can export")
            _coloured(self.status_title, ERROR_COLOUR)
            self.status_list = BulletList([v.message for v in violations], "!", ERROR_COLOUR, self.status_box)
            self.status_layout.addWidget(self.status_list)
        else:
            self.status_box.setObjectName("OkBox")
            self.status_title.setText("✓ This remix is within the licence.")
            _coloured(self.status_title, OK_COLOUR)
        self.status_box.style().unpolish(self.status_box)
        self.status_box.style().polish(self.status_box)
        self.violations_shown.emit(len(violations))
