"""Dialogs as tall as their word-wrapped text needs, whenever that text changes.

Qt sizes a top-level window from its layout's minimum size, which ignores height-for-width (word-wrapped labels), and
a window that was given a minimum width keeps whatever height it had. Text that arrives later from a worker (a
signing identity, a device scan, an outcome) then gets squeezed and clipped. `keep_fitted` re-fits the dialog after
every layout change and every resize.
"""

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


def fit_height(dialog: QWidget, *, shrink_from: int | None = None) -> int:
    """Make `dialog` at least as tall as its layout needs at its width, and keep it from being made shorter; if it
    is `shrink_from` tall (the height fitted last: the user has not made it taller), also shrink it to what it needs.
    Returns the height it needs. (`adjustSize` misjudges word-wrapped labels in a top-level window and stops at two
    thirds of the screen.)"""
    layout = dialog.layout()
    if layout is None:
        return dialog.height()
    layout.activate()
    needed = layout.totalHeightForWidth(dialog.width())
    if needed <= 0:
        needed = layout.totalMinimumSize().height()
    if dialog.minimumHeight() != needed:
        dialog.setMinimumHeight(needed)
    if needed > dialog.height() or (shrink_from is not None and needed < shrink_from == dialog.height()):
        dialog.resize(dialog.width(), needed)
    return needed


class _HeightFitter(QObject):
    def __init__(self, dialog: QWidget):
        super().__init__(dialog)
        self.fitted: int | None = None  # the height this fitter gave the dialog last

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # every resize, not only changes of width: a window system may deliver an older, shorter geometry after
        # the fitted one (resizing a window is asynchronous)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            needed = fit_height(watched, shrink_from=self.fitted)
            # None once the user has made the dialog taller than it needs: then it is not shrunk back
            self.fitted = needed if watched.height() <= needed else None
        return False


def keep_fitted(dialog: QWidget) -> None:
    """Re-fit `dialog`'s height (`fit_height`) whenever its layout changes (a label's text, a row shown or hidden)
    or it is resized."""
    fitter = _HeightFitter(dialog)
    dialog.installEventFilter(fitter)
