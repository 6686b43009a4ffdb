"""The real-time preview engine.

    GUI thread --typed commands--> render thread --SPSC ring--> output callback
                  <--one-slot mailbox (transport, meters)--

The rules that keep audio glitch-free (see docs/realtime.md):
- The output callback only copies from a preallocated single-producer/single-consumer ring and zero-fills on
  underrun. It takes no lock, allocates no buffers, logs nothing and never touches pedalboard or Qt.
- On a device, that callback is PortAudio's own, in C: the stream is opened in PortAudio's blocking mode, whose
  host-API thread copies from PortAudio's preallocated ring (PaUtilRingBuffer) into the device buffer, and the
  render thread writes into that ring only as much as it has room for, so it never blocks. A Python callback would
  need the GIL once per block period; on a loaded machine the thread holding the GIL can be descheduled for longer
  than a period, and the callback misses its deadline. Measured on the JACK dummy device with two busy processes
  and a Python thread that holds the GIL in bursts: 150 to 340 xruns in 40 s with a Python callback, 0 to 25 with
  PortAudio's C callback (see docs/realtime.md). Without a device, `NullOutput` runs a clock-paced Python consumer
  of our own `SpscRing`.
- The render thread renders ahead of playback through a `BlockSource` (the preview graph), applies commands only
  at block boundaries, and publishes transport state and meters to a one-slot mailbox the GUI polls.
- The engine never calls back into the GUI.
"""

import atexit
import contextlib
import gc
import math
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from fanremix.domain.errors import FanRemixError

from .devices import DEFAULT_BLOCK_FRAMES, portaudio
from .resample import SincResampler

CHANNELS = 2
RING_CAPACITY_FRAMES = 16384  # power of two, far above the target fill
# The latency asked of a device stream sizes PortAudio's ring (JACK: the next power of two at or above this many
# seconds of frames, 8192 at 44.1 kHz) or the host's buffer (ALSA). It is room, not delay: the render thread keeps
# only the target fill queued in it.
DEVICE_RING_S = 0.1
DEFAULT_TARGET_FILL_FRAMES = 2048  # how far ahead the render thread keeps the ring: ~46 ms at 44.1 kHz
METADATA_SLOTS = 256  # blocks of metadata kept for mapping the read position back to the song
DECLICK_S = 0.005  # fade used when pausing and seeking
# The callback needs the GIL within a fraction of a block period. CPython's default switch interval (5 ms) lets
# another thread keep the GIL for most of a 512-frame period (11.6 ms); 0.5 ms keeps the wait short.
GIL_SWITCH_INTERVAL_S = 0.0005
# A full (generation 2) garbage collection holds the GIL while it walks every object: 75 ms was measured in a test
# process, six block periods of silence. The engine freezes what exists when it starts (modules, classes, the
# decoded stems' wrappers: all long-lived), so later full collections only walk what was made since.


class DeviceError(FanRemixError):
    """The output device could not be opened, or went away."""


# -- lock-free building blocks -------------------------------------------------------------------------------------


class SpscRing:
    """Single-producer/single-consumer ring of stereo float32 frames.

    Indices are monotonically increasing frame counters; each is written by one thread only (the producer owns
    `written`, the consumer owns `read`), and a counter is published only after the frames it covers were copied,
    so no lock is needed under CPython.
    """

    def __init__(self, capacity_frames: int = RING_CAPACITY_FRAMES, channels: int = CHANNELS):
        self.buffer = np.zeros((capacity_frames, channels), dtype=np.float32)
        self.capacity = capacity_frames
        self.written = 0
        self.read = 0

    def fill(self) -> int:
        return self.written - self.read

    def free(self) -> int:
        return self.capacity - (self.written - self.read)

    def write(self, block: np.ndarray) -> None:
        """Producer side. The caller checks `free()` first."""
        frames = block.shape[0]
        start = self.written % self.capacity
        first = min(frames, self.capacity - start)
        self.buffer[start : start + first] = block[:first]
        if first < frames:
            self.buffer[: frames - first] = block[first:]
        self.written += frames

    def read_into(self, out: np.ndarray) -> int:
        """Consumer side: copy up to len(out) frames, zero-fill the rest; return the frames copied."""
        frames = out.shape[0]
        available = self.written - self.read
        count = frames if available >= frames else max(available, 0)
        start = self.read % self.capacity
        first = min(count, self.capacity - start)
        out[:first] = self.buffer[start : start + first]
        if first < count:
            out[first:count] = self.buffer[: count - first]
        if count < frames:
            out[count:] = 0.0
        self.read += count
        return count


class PortAudioRing:
    """The output ring when a device is open: PortAudio's own, inside a blocking-mode stream (render thread only).

    PortAudio's host-API thread drains it in C and zero-fills when it is empty, so playback never waits for the
    GIL. Its size is not exposed: `capacity` starts from PortAudio's sizing rule and grows to the most free space
    ever seen. `read` counts the frames written here that have been played.
    """

    def __init__(self, stream: Any, capacity: int):
        self.stream = stream
        self.capacity = capacity
        self.written = 0
        self.underflows = 0  # reported by the host API on write (ALSA does; JACK's blocking layer does not)

    def fill(self) -> int:
        free = self.free()
        if free > self.capacity:
            self.capacity = free
        return self.capacity - free

    def free(self) -> int:
        try:
            active, free = self.stream.active, int(self.stream.write_available)
        except Exception as exc:  # sounddevice.PortAudioError: the device is gone
            raise DeviceError(f"the audio device went away ({exc})") from exc
        if not active:  # PortAudio ended the stream (its device went away): nothing drains the ring any more
            raise DeviceError("the audio device went away")
        return free

    def write(self, block: np.ndarray) -> None:
        """Producer side. The caller checks `free()` first, so PortAudio never blocks here."""
        try:
            underflowed = self.stream.write(np.ascontiguousarray(block, dtype=np.float32))
        except Exception as exc:
            raise DeviceError(f"the audio device went away ({exc})") from exc
        if underflowed:
            self.underflows += 1
        self.written += block.shape[0]

    @property
    def read(self) -> int:
        # the ring starts full of silence, so early on more frames are queued than were written
        return self.written - min(self.fill(), self.written)


_ABANDONED_STREAMS: list[Any] = []  # device streams that could not be stopped (see _close_output)


def _close_output(stream: Any, ring: Any) -> None:
    """Stop and close an output stream without ever hanging.

    PortAudio's JACK blocking layer waits for its ring to drain before it stops a stream, and nothing drains it once
    the JACK server has gone. So a device stream is first given the time its queued audio takes to play; if it is
    inactive with audio still queued, it is left open, and PortAudio's exit-time clean-up (which would wait the same
    way) is skipped: the operating system releases what is left when the process ends.
    """
    if isinstance(ring, PortAudioRing):
        deadline = time.monotonic() + ring.capacity / max(stream.samplerate, 1.0) + 0.5
        pause = threading.Event()
        drained = False
        while time.monotonic() < deadline:
            try:
                if ring.fill() == 0:
                    drained = True
                    break
            except DeviceError:  # inactive (or gone): nothing will drain it; stopping is safe only if it is empty
                with contextlib.suppress(Exception):
                    drained = int(stream.write_available) >= ring.capacity
                break
            pause.wait(0.005)
        if not drained:
            _ABANDONED_STREAMS.append(stream)
            sd = portaudio()
            if sd is not None and hasattr(sd, "_exit_handler"):
                atexit.unregister(sd._exit_handler)
            return
    with contextlib.suppress(Exception):  # a device that vanished may refuse to stop
        stream.stop()
        stream.close()


def portaudio_ring_capacity(latency_s: float, rate: int, block_frames: int) -> int:
    """PortAudio's JACK blocking layer: a power of two at least latency × rate and at least three blocks."""
    wanted = max(int(latency_s * rate), 3 * block_frames, 32)
    return 1 << (wanted - 1).bit_length()


class Mailbox:
    """A one-slot mailbox: the writer replaces the value, the reader takes the latest (sounddevice's rec_gui idea)."""

    def __init__(self) -> None:
        self._slot: queue.Queue[Any] = queue.Queue(maxsize=1)

    def post(self, value: Any) -> None:
        with contextlib.suppress(queue.Empty):
            self._slot.get_nowait()
        with contextlib.suppress(queue.Full):  # only a racing post can fill it; latest wins anyway
            self._slot.put_nowait(value)

    def take(self) -> Any | None:
        try:
            return self._slot.get_nowait()
        except queue.Empty:
            return None


# -- what flows -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockInfo:
    """Where a rendered block sits in the song, and its levels."""

    original_frame: float  # position in the pack's timeline at the block's start
    output_frame: int  # position in the stretched (output) timeline at the block's start
    stem_peaks: dict[str, float] = field(default_factory=dict)
    stem_rms: dict[str, float] = field(default_factory=dict)
    master_peak: tuple[float, float] = (0.0, 0.0)
    master_rms: tuple[float, float] = (0.0, 0.0)
    tempo_ratio: float = 1.0  # the tempo and key this block was rendered with
    pitch_semitones: float = 0.0
    edit_serial: int = 0  # every edit applied before this block was rendered has a serial at or below this


class BlockSource(Protocol):
    """What the render thread pulls audio from (implemented by audio.preview.PreviewSource)."""

    sample_rate: int

    def next_block(self, frames: int) -> tuple[np.ndarray, BlockInfo]: ...

    def apply(self, command: "Command") -> int:
        """Take an edit (from any thread); return its serial number."""
        ...

    def seek(self, original_frame: float) -> None: ...

    @property
    def position(self) -> float:
        """Original-timeline frame of the next block to render."""
        ...

    @property
    def output_position(self) -> int:
        """Output-timeline frame of the next block to render."""
        ...

    @property
    def finished(self) -> bool: ...


@dataclass(frozen=True)
class Command:
    """Base of the typed commands the GUI sends. Applied by the render thread at a block boundary."""


@dataclass(frozen=True)
class Play(Command):
    pass


@dataclass(frozen=True)
class Pause(Command):
    pass


@dataclass(frozen=True)
class Stop(Command):
    """Pause and return to the start of the region."""


@dataclass(frozen=True)
class Seek(Command):
    seconds: float  # in the original timeline


@dataclass(frozen=True)
class SetLoop(Command):
    start_s: float | None  # None: no loop
    end_s: float | None = None


@dataclass(frozen=True)
class SetGain(Command):
    stem_id: str
    gain_db: float


@dataclass(frozen=True)
class SetPan(Command):
    stem_id: str
    pan: float


@dataclass(frozen=True)
class SetMute(Command):
    stem_id: str
    mute: bool


@dataclass(frozen=True)
class SetSolo(Command):
    stem_id: str
    solo: bool


@dataclass(frozen=True)
class ReplaceChain(Command):
    """`chain` is built off the render thread (a pedalboard.Pedalboard); `effects` is the recipe's description."""

    target: str  # a stem id, or "master"
    effects: tuple[Any, ...]
    chain: Any = None


@dataclass(frozen=True)
class SetTempoKey(Command):
    tempo_ratio: float
    pitch_semitones: float


@dataclass(frozen=True)
class SetRecipe(Command):
    """Replace the whole recipe (after undo, or when a project is opened)."""

    recipe: Any


@dataclass(frozen=True)
class TransportState:
    playing: bool
    original_s: float  # the playhead in the pack's timeline
    output_s: float  # the playhead in the stretched timeline
    stem_peaks: dict[str, float]
    stem_rms: dict[str, float]
    master_peak: tuple[float, float]
    master_rms: tuple[float, float]
    device_state: str
    underflows: int
    ring_underruns: int
    tempo_ratio: float = 1.0  # of the audio being heard now
    pitch_semitones: float = 0.0
    edit_serial: int = 0  # the newest edit that can be heard now (see Engine.send)


@dataclass
class EngineStats:
    """Counters for tests and benchmarks; written by one thread each, read by anyone."""

    callbacks: int = 0  # of our own callback (the null output); a device's callback is PortAudio's, in C
    underflows: int = 0  # PortAudio reported an output underflow
    underflow_at: np.ndarray = field(default_factory=lambda: np.zeros(64, dtype=np.int64))  # block numbers
    ring_underruns: int = 0  # the ring ran dry while audio was expected
    callback_ns: list[int] = field(default_factory=list)  # filled only when timing is on (null output)
    render_ns: list[int] = field(default_factory=list)
    render_frames: int = 0
    min_fill: int = RING_CAPACITY_FRAMES
    fills: list[int] = field(default_factory=list)


# -- outputs --------------------------------------------------------------------------------------------------------


class NullOutput:
    """Runs the callback from a thread paced by the clock, for machines with no audio device."""

    def __init__(self, sample_rate: int, block_frames: int, callback: Callable[..., None]):
        self.sample_rate = sample_rate
        self.block_frames = block_frames
        self._callback = callback
        self._buffer = np.zeros((block_frames, CHANNELS), dtype=np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fanremix-null-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self.block_frames / self.sample_rate
        deadline = time.monotonic()
        while not self._stop.is_set():
            self._callback(self._buffer, self.block_frames, None, None)
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                deadline = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def close(self) -> None:
        self.stop()

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class Engine:
    """Owns the output stream, the ring and the render thread. All public methods are for the GUI thread."""

    def __init__(
        self,
        source: BlockSource,
        *,
        device: int | str | None = None,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        latency: float | str | None = None,
        target_fill_frames: int = DEFAULT_TARGET_FILL_FRAMES,
        use_device: bool = True,
        timing: bool = False,
        device_rate: int | None = None,
    ):
        self.source = source
        self.sample_rate = source.sample_rate
        self.block_frames = block_frames
        self.target_fill = max(target_fill_frames, block_frames)
        self.ring = SpscRing()
        self.stats = EngineStats()
        self.state = Mailbox()
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._quit = threading.Event()
        self._timing = timing
        # block metadata, indexed by block number modulo METADATA_SLOTS; written by the render thread only
        self._meta_start = np.zeros(METADATA_SLOTS, dtype=np.int64)
        self._meta: list[BlockInfo | None] = [None] * METADATA_SLOTS
        self._blocks_written = 0
        self._playing = False  # render thread's view
        self._expect_audio = False  # read by the callback: count short reads as underruns only while playing
        self._device_lost = threading.Event()
        self._stream: Any = None
        # Held around every stop, abort or close of the device stream. PortAudio's JACK host API must never stop one
        # stream from two threads at once: both then disconnect its ports, one disconnect fails, and pa_jack.c's
        # RealStop jumps to an error label *above* its disconnect loop, so it retries and prints the failure forever
        # (hundreds of MB a second to stderr) and never returns.
        self.stream_lock = threading.Lock()
        self.device_state = "stopped"
        gc.collect()
        gc.freeze()
        self._previous_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._previous_switch_interval, GIL_SWITCH_INTERVAL_S))
        self.device_rate = device_rate or self.sample_rate
        self._resampler: SincResampler | None = None
        self._open_output(device, latency, use_device)
        self._thread = threading.Thread(target=self._render_loop, name="fanremix-render", daemon=True)
        self._thread.start()

    # -- output -----------------------------------------------------------------------------------------------
    def _use_rate(self, rate: int) -> None:
        """Play at `rate`: when it is not the pack's, every block is resampled on the render thread."""
        self.device_rate = rate
        self._resampler = None if rate == self.sample_rate else SincResampler(self.sample_rate / rate)
        # the most frames one rendered block can become, for the ring's free-space check
        self._ring_block = math.ceil(self.block_frames * rate / self.sample_rate) + 2 * SincResampler.HALF_WIDTH

    def _open_output(self, device: int | str | None, latency: float | str | None, use_device: bool) -> None:
        sd = portaudio() if use_device else None
        self._use_rate(self.device_rate)
        if sd is not None:
            try:
                try:
                    sd.check_output_settings(device=device, samplerate=self.device_rate, channels=CHANNELS)
                except Exception:  # the device cannot run at the pack's rate: run at its own and resample
                    self._use_rate(round(sd.query_devices(device, "output")["default_samplerate"]))
                room = DEVICE_RING_S if latency is None or isinstance(latency, str) else max(latency, DEVICE_RING_S)
                # no callback: PortAudio's blocking mode, whose own C callback drains PortAudio's ring
                self._stream = sd.OutputStream(
                    samplerate=self.device_rate,
                    blocksize=self.block_frames,
                    device=device,
                    channels=CHANNELS,
                    dtype="float32",
                    latency=room,
                    finished_callback=self._stream_finished,
                )
                self._stream.start()
                capacity = portaudio_ring_capacity(room, self.device_rate, self.block_frames)
                self.ring = PortAudioRing(self._stream, max(capacity, self._stream.write_available))
                self.device_state = f"audio out: {self._device_name(sd, device)}"
                if self._resampler is not None:
                    self.device_state += f" (resampling {self.sample_rate} → {self.device_rate} Hz)"
                return
            except Exception as exc:  # sounddevice.PortAudioError, ValueError for a missing device
                self._stream = None
                self.device_state = f"no audio device ({exc})"
        else:
            self.device_state = "no audio device" if use_device else "no audio device (disabled)"
        self._stream = NullOutput(self.device_rate, self.block_frames, self._callback)
        self._stream.start()

    @staticmethod
    def _device_name(sd: Any, device: int | str | None) -> str:
        try:
            return str(sd.query_devices(device, "output")["name"])
        except Exception:
            return "the default device"

    @property
    def has_device(self) -> bool:
        return self._stream is not None and not isinstance(self._stream, NullOutput)

    @property
    def played_frames(self) -> int:
        """Rendered frames that the output has consumed (device frames)."""
        return self.ring.read

    def _stream_finished(self) -> None:
        # PortAudio calls this when the stream stops, including when the device disappears
        if not self._quit.is_set():
            self._device_lost.set()
            self._wake.set()

    # -- the audio callback: copy only ----------------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """The null output's consumer (a device's is PortAudio's own, in C; see PortAudioRing)."""
        if self._timing:
            started = time.perf_counter_ns()
            copied = self.ring.read_into(outdata)
            self.stats.callback_ns.append(time.perf_counter_ns() - started)
        else:
            copied = self.ring.read_into(outdata)
        if copied < frames and self._expect_audio:
            self.stats.ring_underruns += 1
        self.stats.callbacks += 1

    # -- GUI-facing API -------------------------------------------------------------------------------------
    def send(self, command: Command) -> int:
        """Transport commands go to the render thread; edits are prepared here, off the render thread (new effect
        chains are built in the caller's thread), and the render thread takes them at its next block boundary."""
        if isinstance(command, Play | Pause | Stop | Seek):
            self._commands.put(command)
            self._wake.set()
            return 0
        return self.source.apply(command)

    def play(self) -> None:
        self.send(Play())

    def pause(self) -> None:
        self.send(Pause())

    def poll(self) -> TransportState | None:
        """The latest transport state, or None if nothing new was posted since the last poll."""
        return self.state.take()

    def close(self) -> None:
        self._quit.set()
        self._wake.set()
        self._thread.join(timeout=5)
        with self.stream_lock:
            stream, self._stream = self._stream, None
            if stream is not None:
                _close_output(stream, self.ring)
        sys.setswitchinterval(self._previous_switch_interval)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- render thread --------------------------------------------------------------------------------------
    def _render_loop(self) -> None:
        period = self.block_frames / self.sample_rate
        while not self._quit.is_set():
            try:
                self._drain_commands()
                if self._device_lost.is_set():
                    self._handle_device_lost()
                if self._playing:
                    self._top_up()
                self._publish()
            except DeviceError:  # the device went away under a write
                self._handle_device_lost()
            self._wake.wait(timeout=period / 4)
            self._wake.clear()

    def _drain_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if isinstance(command, Play):
                if not self._playing:
                    self._playing = True
                    self._top_up(prefill=True)
                    self._expect_audio = True
            elif isinstance(command, Pause | Stop):
                if self._playing:
                    self._write_fade_out()
                self._playing = False
                self._expect_audio = False
                if isinstance(command, Stop):
                    self.source.apply(command)
            elif isinstance(command, Seek):
                if self._playing:
                    self._write_fade_out()
                    self.source.seek(command.seconds * self.sample_rate)
                    self._write_block(self.block_frames, fade_in=True)
                else:
                    self.source.seek(command.seconds * self.sample_rate)
            else:
                self.source.apply(command)

    def _top_up(self, prefill: bool = False) -> None:
        target = self.target_fill + getattr(self.source, "extra_lead_frames", 0)
        ring = self.ring
        if isinstance(ring, PortAudioRing):
            target = min(target, ring.capacity - self._ring_block)
            if self._expect_audio and ring.fill() == 0:  # PortAudio's callback found it empty: silence was played
                self.stats.ring_underruns += 1
        while self.ring.fill() < target and self.ring.free() >= self._ring_block:
            if self.source.finished:
                self._playing = False
                self._expect_audio = False
                return
            self._write_block(self.block_frames)
        fill = self.ring.fill()
        if not prefill and self._timing:
            self.stats.fills.append(fill)
        if fill < self.stats.min_fill and not prefill:
            self.stats.min_fill = fill

    def _write_block(self, frames: int, fade_in: bool = False, fade_out: bool = False) -> None:
        started = time.perf_counter_ns()
        block, info = self.source.next_block(frames)
        if fade_in or fade_out:
            ramp = np.linspace(0.0, 1.0, min(frames, int(DECLICK_S * self.sample_rate)), dtype=np.float32)
            if fade_in:
                block[: ramp.size] *= ramp[:, None]
            if fade_out:
                block[: ramp.size] *= ramp[::-1, None]
                block[ramp.size :] = 0.0
        if self._resampler is not None:
            block = self._resampler.process(np.ascontiguousarray(block.T)).T
        slot = self._blocks_written % METADATA_SLOTS
        self._meta[slot] = info
        self._meta_start[slot] = self.ring.written
        self.ring.write(block)
        self._blocks_written += 1
        if isinstance(self.ring, PortAudioRing) and self.ring.underflows != self.stats.underflows:
            stats = self.stats
            if stats.underflows < stats.underflow_at.size:
                stats.underflow_at[stats.underflows] = self._blocks_written
            stats.underflows = self.ring.underflows
        if self._timing:
            self.stats.render_ns.append(time.perf_counter_ns() - started)
        self.stats.render_frames += frames

    def _write_fade_out(self) -> None:
        if self.ring.free() >= self._ring_block:
            self._write_block(self.block_frames, fade_out=True)

    def _playing_info(self) -> tuple[BlockInfo | None, int]:
        """The metadata of the block the callback is reading now, and how far into it the read position is."""
        read = self.ring.read
        for back in range(min(self._blocks_written, METADATA_SLOTS)):
            slot = (self._blocks_written - 1 - back) % METADATA_SLOTS
            start = int(self._meta_start[slot])
            if start <= read:  # the offset is in device frames; the song's timelines count pack frames
                offset = min(read - start, self._ring_block) * self.sample_rate / self.device_rate
                return self._meta[slot], min(round(offset), self.block_frames)
        return None, 0

    def _publish(self) -> None:
        info, offset = self._playing_info() if self._playing else (None, 0)
        rate = self.sample_rate
        ratio = getattr(self.source, "tempo_ratio", 1.0)
        empty: dict[str, float] = {}
        self.state.post(
            TransportState(
                playing=self._playing,
                original_s=(info.original_frame + offset * ratio if info else self.source.position) / rate,
                output_s=(info.output_frame + offset if info else self.source.output_position) / rate,
                stem_peaks=info.stem_peaks if info else empty,
                stem_rms=info.stem_rms if info else empty,
                master_peak=info.master_peak if info else (0.0, 0.0),
                master_rms=info.master_rms if info else (0.0, 0.0),
                device_state=self.device_state,
                underflows=self.stats.underflows,
                ring_underruns=self.stats.ring_underruns,
                tempo_ratio=info.tempo_ratio if info else 1.0,
                pitch_semitones=info.pitch_semitones if info else 0.0,
                edit_serial=info.edit_serial if info else 0,
            )
        )

    def _handle_device_lost(self) -> None:
        self._device_lost.clear()
        self._playing = False
        self._expect_audio = False
        self.device_state = "the audio device went away; playback stopped"
        with self.stream_lock:
            lost, self._stream = self._stream, None
            _close_output(lost, self.ring)
        self.ring = SpscRing()
        self._blocks_written = 0  # the block metadata counts positions in the old ring: start over
        self._stream = NullOutput(self.device_rate, self.block_frames, self._callback)
        self._stream.start()
