"""Error dialogs. They open window-modal without blocking (`open()`, not `exec()`), so no event loop nests."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from fanremix.domain.errors import FanRemixError


def error_text(error: BaseException) -> str:
    """The sentence to show a person: our typed errors carry one; anything else gets a plain summary."""
    if isinstance(error, FanRemixError):
        return error.message
    if isinstance(error, OSError):
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        return f"{error.strerror or error}{where}."
    return f"Something unexpected went wrong: {type(error).__name__}: {error}"


def show_error(parent: QWidget | None, title: str, error: BaseException | str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("ErrorDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(f"<b>{title}</b>")
    box.setInformativeText(error if isinstance(error, str) else error_text(error))
    box.setTextFormat(Qt.TextFormat.RichText)
    details = getattr(error, "__traceback_text__", None)
    if details and not isinstance(error, FanRemixError):
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setAccessibleName(title)
    box.open()
    return box
