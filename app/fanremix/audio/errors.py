"""Typed errors of the audio layer. Each message names what went wrong and what to do about it."""

from fanremix.domain.errors import FanRemixError


class AudioError(FanRemixError):
    """Base of the audio layer's errors."""


class EffectError(AudioError):
    """An effect kind is unknown, or one of its parameters is unknown, of the wrong type or out of range."""


class StemDecodeError(AudioError):
    """A stem file cannot be decoded, or its audio does not match what the pack declares."""


class RenderError(AudioError):
    """A render cannot be done as asked (for example, its region lies outside the song)."""


class RenderCancelled(AudioError):
    """The render was cancelled; nothing was written."""

    def __init__(self, message: str = "The render was cancelled; nothing was written."):
        super().__init__(message)


class ExportError(AudioError):
    """The rendered audio could not be written in the requested format."""


class TruePeakError(ExportError):
    """A lossy encoder kept raising the true peak of the file above the ceiling, however far the limiter went."""
