"""Audio device settings: the output device and the block size. The scan runs on a worker (PortAudio can be slow)."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from fanremix.audio.devices import DeviceScan, scan_output_devices

from ..settings import BLOCK_SIZES
from ..workers import JobRunner
from .fitting import keep_fitted


def latency_text(frames: int, rate: int = 44100) -> str:
    return f"{frames} frames · {frames / rate * 1000:.1f} ms"


class DeviceDialog(QDialog):
    """Emits `chosen(device or None, block_frames)` when the user applies."""

    chosen = Signal(object, int)

    def __init__(
        self,
        runner: JobRunner,
        *,
        device: str | None,
        block_frames: int,
        state: str,
        sample_rate: int = 44100,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Audio output")
        self.setObjectName("DeviceDialog")
        self.setMinimumWidth(480)
        self._wanted_device = device
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        self.state_label = QLabel(f"Now: {state}")
        self.state_label.setObjectName("Muted")
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.device_combo = QComboBox()
        self.device_combo.addItem("Looking for devices…", None)
        self.device_combo.setEnabled(False)
        self.device_combo.setToolTip("Looking for output devices…")
        self.device_combo.setAccessibleName("Output device")
        form.addRow("Output", self.device_combo)
        self.block_combo = QComboBox()
        for frames in BLOCK_SIZES:
            self.block_combo.addItem(latency_text(frames, sample_rate), frames)
        self.block_combo.setCurrentIndex(max(0, self.block_combo.findData(block_frames)))
        self.block_combo.setAccessibleName("Block size")
        self.block_combo.setToolTip(
            "Smaller blocks answer faster; larger blocks are safer on a busy computer. 512 suits most."
        )
        form.addRow("Block size", self.block_combo)
        layout.addLayout(form)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setVisible(False)
        layout.addWidget(self.problem_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        apply_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        apply_button.setText("Apply")
        apply_button.setAccessibleName("Apply the audio settings")
        apply_button.setToolTip("Use this device and block size (the preview restarts)")
        cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel_button.setAccessibleName("Cancel")
        cancel_button.setToolTip("Keep the current audio settings")
        buttons.accepted.connect(self._apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        keep_fitted(self)  # the scan's outcome (and any problem) arrives later, from a worker
        self.scan_job = runner.start("device-scan", lambda _ctx: scan_output_devices())
        self.scan_job.finished.connect(self.show_scan)
        self.scan_job.failed.connect(lambda error: self.show_scan(DeviceScan((), f"no audio device: {error}")))

    def show_scan(self, scan: DeviceScan) -> None:
        self.device_combo.clear()
        self.device_combo.addItem("System default", None)
        for device in scan.devices:
            self.device_combo.addItem(device.label, device.name)
        index = self.device_combo.findData(self._wanted_device) if self._wanted_device else 0
        self.device_combo.setCurrentIndex(max(0, index))
        self.device_combo.setEnabled(bool(scan.devices))
        if scan.problem:
            self.device_combo.setToolTip(f"No device to choose: {scan.problem}. Playback runs silently.")
            self.problem_label.setText(
                f"⚠ {scan.problem[0].upper()}{scan.problem[1:]}. The app works; you hear nothing."
            )
            self.problem_label.setVisible(True)
        else:
            self.device_combo.setToolTip("Where to play the preview")

    def _apply(self) -> None:
        self.chosen.emit(self.device_combo.currentData(), int(self.block_combo.currentData()))
        self.accept()
