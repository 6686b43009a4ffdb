"""Output devices: listing and choosing them, with a clear state when there is none (or no PortAudio at all)."""

from dataclasses import dataclass

DEFAULT_BLOCK_FRAMES = 512
DEFAULT_SAMPLE_RATES = (44100, 48000)


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    host_api: str
    channels: int
    default_sample_rate: float
    default_low_latency_s: float
    default_high_latency_s: float
    is_default: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host_api})"


@dataclass(frozen=True)
class DeviceScan:
    """The result of looking for outputs. `problem` says in words why there are none."""

    devices: tuple[OutputDevice, ...]
    problem: str | None = None

    @property
    def default(self) -> OutputDevice | None:
        for device in self.devices:
            if device.is_default:
                return device
        return self.devices[0] if self.devices else None


def portaudio():
    """The sounddevice module, or None when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError:  # "PortAudio library not found"
        return None
    return sounddevice


def scan_output_devices() -> DeviceScan:
    sd = portaudio()
    if sd is None:
        return DeviceScan((), "no audio device: the PortAudio library is not installed (apt-get install libportaudio2)")
    try:
        raw_devices = sd.query_devices()
        host_apis = sd.query_hostapis()
        default_output = sd.default.device[1]
    except Exception as exc:  # PortAudio reports errors as sounddevice.PortAudioError or OSError
        return DeviceScan((), f"no audio device: PortAudio failed to list devices ({exc})")
    devices = []
    for info in raw_devices:
        if info["max_output_channels"] < 1:
            continue
        devices.append(
            OutputDevice(
                index=info["index"],
                name=info["name"],
                host_api=host_apis[info["hostapi"]]["name"],
                channels=info["max_output_channels"],
                default_sample_rate=float(info["default_samplerate"]),
                default_low_latency_s=float(info["default_low_output_latency"]),
                default_high_latency_s=float(info["default_high_output_latency"]),
                is_default=info["index"] == default_output,
            )
        )
    if not devices:
        return DeviceScan((), "no audio device: PortAudio found no output device")
    return DeviceScan(tuple(devices))


def find_device(scan: DeviceScan, name_or_index: str | int | None) -> OutputDevice | None:
    """The device named (by index, exact name, or a case-insensitive part of its label); None for 'default'."""
    if name_or_index is None or name_or_index == "":
        return scan.default
    for device in scan.devices:
        if str(device.index) == str(name_or_index) or device.name == name_or_index:
            return device
    needle = str(name_or_index).lower()
    for device in scan.devices:
        if needle in device.label.lower():
            return device
    return None
