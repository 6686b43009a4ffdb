"""The real-time preview: the render graph, a chunked Rubber Band stretcher for tempo and key, and loops.

`PreviewSource` is what the real-time engine's render thread pulls blocks from. Without tempo or key changes a block
is exactly `RenderGraph.render_block` (stems, then the master chain), so preview and export agree sample for sample.
With tempo or key changes the streaming `PitchShift` plugin is no use (about 1 s of latency), so the stem stage is
stretched in short chunks with Rubber Band R2 (`time_stretch(high_quality=False)`) on the render thread:

    stem stage ──▶ input history ──▶ chunk [s − CONTEXT, s + CHUNK + OVERLAP) ──▶ time_stretch (R2)
                                          │ drop the context's output, keep CHUNK/r + OVERLAP/r frames
                                          ▼
                   output FIFO ◀── crossfade the head with the previous chunk's overhang (OVERLAP/r frames)
                        │
                        ▼ master chain (streaming) ──▶ block

Each output frame remembers the original-timeline frame it came from, so the playhead is right in both timelines.
A tempo or key change re-makes the output not yet played, at once, from the input already there; it is heard after
the engine's ring and one Rubber Band call (about 70 ms; docs/realtime.md has the measured figures).
Exports never use this path: they stretch the whole region with Rubber Band R3 (audio.stretch).
"""

import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pedalboard

from fanremix.domain.recipe import MASTER, Recipe
from fanremix.domain.stem_pack import PackManifest

from .graph import MIN_BLOCK_FRAMES, RenderGraph
from .realtime import (
    BlockInfo,
    Command,
    Engine,
    ReplaceChain,
    SetGain,
    SetLoop,
    SetMute,
    SetPan,
    SetRecipe,
    SetSolo,
    SetTempoKey,
    Stop,
)
from .resample import SincResampler
from .stems import CHANNELS, decode_stems
from .stretch import is_identity

CHUNK_FRAMES = 8192  # input frames stretched per call: the granularity of a tempo/key change
CONTEXT_FRAMES = 2048  # input before the chunk that Rubber Band sees, so each chunk starts warmed up
OVERLAP_FRAMES = 1024  # input after the chunk; its output is crossfaded with the next chunk's head
AFTER_FRAMES = 2048  # input after the overlap that Rubber Band sees, so the overlap is not rendered as an ending
ALIGN_FRAMES = 1024  # Rubber Band's time map is not linear (transients are kept whole): search this far for the seam
# While stretching, the stem stage for the next chunk is rendered a piece per block rather than all at once when the
# chunk is due: one block then costs at most a piece of stems (2048 frames through every stem's chain) or one Rubber
# Band call on the mix (about 7 ms for a chunk), not a whole chunk of stems (20-50 ms, more on a loaded machine).
PIECE_FRAMES = 2048
# Keep this much more audio queued while stretching, for the block that runs a piece or a Rubber Band call.
STRETCH_LEAD_FRAMES = 1024
DECLICK_FRAMES = 220  # ~5 ms fade where the preview switches between the direct and the stretched path


def load_stems(manifest: PackManifest, stem_paths: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """Decode every stem to float32 (frames, 2). Slow for long songs: call it on a worker."""
    return decode_stems(manifest, stem_paths)


class ChunkedStretcher:
    """Streams the stem-stage mix through Rubber Band R2 in overlapping chunks (render thread only).

    Key changes are not given to Rubber Band: its pitch shifter costs ~50 ms per call to set up, which chunked use
    cannot afford. Instead each chunk is time-stretched by r / f (f = 2^(semitones/12)) and the result is played
    f times faster through a streaming resampler, which raises the pitch by f and restores the tempo ratio r.
    (pedalboard's StreamResampler would do, but building one holds the GIL for 20–40 ms, long enough to starve the
    audio callback; `SincResampler` below costs nothing to build.)
    """

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self._input = np.zeros((CHANNELS, 0), dtype=np.float32)
        self._origin = np.zeros(0, dtype=np.float64)  # original-timeline frame of each input sample
        self._serial = np.zeros(0, dtype=np.int64)  # edit serial each input sample was rendered with
        self._input_base = 0  # absolute input index of _input[:, 0]
        self._next = 0  # absolute input index where the next chunk starts
        self._overhang = np.zeros((CHANNELS, 0), dtype=np.float32)
        self._out = np.zeros((CHANNELS, 0), dtype=np.float32)
        self._out_source = np.zeros(0, dtype=np.float64)  # absolute input index each output sample came from
        self._fade_from: np.ndarray | None = None  # old output to crossfade from after a change
        self._params: tuple[float, float] | None = None
        self._params_serial = 0  # the edit serial of the tempo/key everything in the output FIFO was made with
        self._resampler: SincResampler | None = None

    def reset(self) -> None:
        self.__init__(self.sample_rate)

    def set_params(self, tempo_ratio: float, pitch_semitones: float, serial: int = 0) -> None:
        """Take new tempo/key now: output not yet played is re-made from the same input with the new values.
        `serial` is the edit that set them: output made from now on contains that edit, whenever its input was made."""
        params = (tempo_ratio, pitch_semitones)
        if params == self._params:
            return
        self._params_serial = serial
        if self._params is not None and self._out.shape[1]:
            self._fade_from = self._out[:, :OVERLAP_FRAMES].copy()
            self._next = int(self._out_source[0])
            self._out = self._out[:, :0]
            self._out_source = self._out_source[:0]
            self._overhang = self._overhang[:, :0]
        self._params = params
        factor = 2.0 ** (pitch_semitones / 12.0)
        self._resampler = None if abs(factor - 1.0) < 1e-9 else SincResampler(factor)

    @property
    def input_needed(self) -> int:
        """How many more input frames the next chunk needs."""
        have = self._input_base + self._input.shape[1]
        return max(0, self._next + CHUNK_FRAMES + OVERLAP_FRAMES + AFTER_FRAMES - have)

    def push_input(self, block: np.ndarray, origin: np.ndarray, serial: int = 0) -> None:
        """Append stem-stage audio (2, n), the original frame of each of its samples and its edit serial."""
        self._input = np.concatenate([self._input, block], axis=1)
        self._origin = np.concatenate([self._origin, origin])
        self._serial = np.concatenate([self._serial, np.full(block.shape[1], serial, dtype=np.int64)])

    @property
    def available(self) -> int:
        return self._out.shape[1]

    def process_chunk(self) -> None:
        assert self._params is not None, "set_params first"
        tempo_ratio, pitch_semitones = self._params
        factor = 2.0 ** (pitch_semitones / 12.0)
        stretch = tempo_ratio / factor
        start = self._next - self._input_base
        context = min(CONTEXT_FRAMES, start)
        stop = start + CHUNK_FRAMES + OVERLAP_FRAMES + AFTER_FRAMES
        piece = np.ascontiguousarray(self._input[:, start - context : stop])
        stretched = pedalboard.time_stretch(piece, self.sample_rate, stretch_factor=stretch, high_quality=False)
        skip, body, tail = round(context / stretch), round(CHUNK_FRAMES / stretch), round(OVERLAP_FRAMES / stretch)
        if self._overhang.shape[1]:
            low = max(0, skip - ALIGN_FRAMES)
            skip = low + _best_offset(stretched[:, low : skip + ALIGN_FRAMES + self._overhang.shape[1]], self._overhang)
        kept = stretched[:, skip : skip + body + tail]
        if kept.shape[1] < body + tail:  # Rubber Band rounds its length down; pad the last few frames
            kept = np.pad(kept, ((0, 0), (0, body + tail - kept.shape[1])))
        _crossfade_into(kept, self._overhang)
        self._overhang = kept[:, body:].copy()
        made = kept[:, :body]
        if self._resampler is not None:
            made = self._resampler.process(np.ascontiguousarray(made))
        source = self._next + np.arange(made.shape[1]) * tempo_ratio
        if self._fade_from is not None:
            offset = _best_offset(made[:, : ALIGN_FRAMES + self._fade_from.shape[1]], self._fade_from)
            made, source = made[:, offset:], source[offset:]
            _crossfade_into(made, self._fade_from)
            self._fade_from = None
        self._out = np.concatenate([self._out, made], axis=1)
        self._out_source = np.concatenate([self._out_source, source])
        self._next += CHUNK_FRAMES
        # keep enough input to re-make everything still in the output FIFO after a change
        keep_from = max(self._input_base, self._next - 2 * CHUNK_FRAMES - CONTEXT_FRAMES)
        drop = keep_from - self._input_base
        if drop > 0:
            self._input = self._input[:, drop:]
            self._origin = self._origin[drop:]
            self._serial = self._serial[drop:]
            self._input_base = keep_from

    def pop(self, frames: int) -> tuple[np.ndarray, float, int]:
        """The next `frames` of output, the original frame of its first sample, and its edit serial."""
        block = self._out[:, :frames]
        index = max(0, min(int(self._out_source[0]) - self._input_base, self._origin.size - 1))
        origin, serial = float(self._origin[index]), max(int(self._serial[index]), self._params_serial)
        self._out = self._out[:, frames:]
        self._out_source = self._out_source[frames:]
        return block, origin, serial

    @property
    def params(self) -> tuple[float, float] | None:
        return self._params


def _best_offset(search: np.ndarray, reference: np.ndarray) -> int:
    """Where in `search` (2, n) the mono sum of `reference` (2, m) fits best, by normalised cross-correlation.

    Done with FFTs and a running sum: a direct correlation of these sizes holds the GIL for milliseconds, which
    the audio callback would wait out.
    """
    ref = reference.sum(axis=0, dtype=np.float64)
    seg = search.sum(axis=0, dtype=np.float64)
    if seg.size <= ref.size or not ref.any():
        return 0
    size = 1 << (seg.size + ref.size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(ref, size)), size)[: seg.size - ref.size + 1]
    power = np.concatenate([[0.0], np.cumsum(seg * seg)])
    energy = np.sqrt(np.maximum(power[ref.size :] - power[: -ref.size], 0.0)) + 1e-12
    return int(np.argmax(corr / energy))


def _crossfade_into(target: np.ndarray, fade_from: np.ndarray) -> None:
    """Fade `target`'s head in over `fade_from`, which fades out (equal gain; the two are highly correlated)."""
    frames = min(fade_from.shape[1], target.shape[1])
    if frames:
        ramp = np.linspace(0.0, 1.0, frames, endpoint=False, dtype=np.float32)
        target[:, :frames] = target[:, :frames] * ramp + fade_from[:, :frames] * (1.0 - ramp)


class PreviewSource:
    """The engine's BlockSource. Edits (`apply`) may come from any thread; blocks are pulled by the render thread."""

    def __init__(self, manifest: PackManifest, stems: Mapping[str, np.ndarray], recipe: Recipe):
        self.manifest = manifest
        self.sample_rate = manifest.sample_rate
        self.graph = RenderGraph(
            manifest,
            stems,
            recipe,
            block_frames=CONTEXT_FRAMES + CHUNK_FRAMES + OVERLAP_FRAMES + AFTER_FRAMES,
            meter=True,
        )
        self._recipe = recipe
        self._edit_lock = threading.Lock()  # serialises edits from several GUI-side callers; never taken per block
        self._stretcher = ChunkedStretcher(self.sample_rate)
        self._stretching = False
        self._output_position = 0
        self._loop: tuple[int, int] | None = None
        self._pending_seek: float | None = None
        self._serial = 0  # counts edits; blocks carry the serial of the newest edit they include
        self._tempo_serial = 0  # the serial of the edit that last changed tempo or key
        self._end = self._region_end(recipe)
        self.tempo_ratio = recipe.tempo_ratio

    # -- state for the engine ---------------------------------------------------------------------------------
    @property
    def recipe(self) -> Recipe:
        return self._recipe

    @property
    def position(self) -> float:
        pending = self._pending_seek
        return float(self.graph.position) if pending is None else pending

    @property
    def output_position(self) -> int:
        return self._output_position

    @property
    def extra_lead_frames(self) -> int:
        """How much further ahead than usual the engine should keep its ring (read by the render thread)."""
        return STRETCH_LEAD_FRAMES if self._stretching else 0

    @property
    def finished(self) -> bool:
        return self._loop is None and self.graph.position >= self._end and self._stretcher.available == 0

    def _region_end(self, recipe: Recipe) -> int:
        end = self.graph.frames if recipe.region_end_s is None else round(recipe.region_end_s * self.sample_rate)
        return min(end, self.graph.frames)

    # -- edits (any thread) -----------------------------------------------------------------------------------
    def apply(self, command: Command) -> int:
        with self._edit_lock:
            recipe = self._recipe
            if isinstance(command, SetGain):
                recipe = recipe.with_stem(command.stem_id, gain_db=command.gain_db)
            elif isinstance(command, SetPan):
                recipe = recipe.with_stem(command.stem_id, pan=command.pan)
            elif isinstance(command, SetMute):
                recipe = recipe.with_stem(command.stem_id, mute=command.mute)
            elif isinstance(command, SetSolo):
                recipe = recipe.with_stem(command.stem_id, solo=command.solo)
            elif isinstance(command, ReplaceChain):
                recipe = recipe.with_chain(command.target if command.target != MASTER else MASTER, command.effects)
            elif isinstance(command, SetTempoKey):
                recipe = replace(recipe, tempo_ratio=command.tempo_ratio, pitch_semitones=command.pitch_semitones)
            elif isinstance(command, SetRecipe):
                recipe = command.recipe
            elif isinstance(command, SetLoop):
                if command.start_s is None or command.end_s is None:
                    self._loop = None
                else:
                    start = round(command.start_s * self.sample_rate)
                    end = min(round(command.end_s * self.sample_rate), self.graph.frames)
                    self._loop = (start, end) if end - start >= MIN_BLOCK_FRAMES else None
                return self._serial
            elif isinstance(command, Stop):
                self._pending_seek = float(round(recipe.region_start_s * self.sample_rate))
                return self._serial
            else:
                raise TypeError(f"PreviewSource cannot apply {type(command).__name__}")
            self.graph.update(recipe)  # builds changed chains here, in the caller's thread
            changes_tempo = (recipe.tempo_ratio, recipe.pitch_semitones) != (
                self._recipe.tempo_ratio,
                self._recipe.pitch_semitones,
            )
            self._recipe = recipe
            self._end = self._region_end(recipe)
            self._serial += 1
            if changes_tempo:
                self._tempo_serial = self._serial  # written after the recipe: a reader that sees it sees the recipe
            return self._serial

    def seek(self, original_frame: float) -> None:
        """Render thread: continue from `original_frame`."""
        self._pending_seek = None
        self.graph.seek(int(original_frame))
        self._stretcher.reset()

    # -- blocks (render thread) -------------------------------------------------------------------------------
    def next_block(self, frames: int) -> tuple[np.ndarray, BlockInfo]:
        if self._pending_seek is not None:
            self.seek(self._pending_seek)
        tempo_serial = self._tempo_serial  # read before the recipe (apply writes it after)
        recipe = self._recipe
        stretching = not is_identity(recipe.tempo_ratio, recipe.pitch_semitones)
        switched = stretching != self._stretching
        if switched:
            self._stretcher.reset()
            self._stretching = stretching
        self.tempo_ratio = recipe.tempo_ratio if stretching else 1.0
        if stretching:
            block, origin, serial = self._stretched_block(frames, recipe, tempo_serial)
        else:
            serial = self._serial
            origin = float(self.graph.position)
            block = self._direct_block(frames)
        if switched:
            ramp = np.linspace(0.0, 1.0, min(DECLICK_FRAMES, frames), dtype=np.float32)
            block[: ramp.size] *= ramp[:, None]
        info = BlockInfo(
            original_frame=origin,
            output_frame=self._output_position,
            stem_peaks=self.graph.stem_peaks,
            stem_rms=self.graph.stem_rms,
            master_peak=tuple(np.abs(block).max(axis=0).tolist()),
            master_rms=tuple(np.sqrt(np.mean(np.square(block, dtype=np.float64), axis=0)).tolist()),
            tempo_ratio=recipe.tempo_ratio if stretching else 1.0,
            pitch_semitones=recipe.pitch_semitones if stretching else 0.0,
            edit_serial=serial,
        )
        self._output_position += frames
        return block, info

    def _read_graph(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """(frames, 2) from the graph in the original timeline, wrapping at the loop end; plus each frame's origin."""
        out = np.zeros((frames, CHANNELS), dtype=np.float32)
        origin = np.zeros(frames, dtype=np.float64)
        done = 0
        while done < frames:
            position = self.graph.position
            limit = self._loop[1] if self._loop else self._end
            if self._loop and position >= limit:
                self.graph.jump(self._loop[0])  # keeps effect tails: the loop is seamless
                continue
            if position >= limit:  # past the end of the region: silence
                origin[done:] = position
                break
            count = min(frames - done, max(limit - position, MIN_BLOCK_FRAMES))
            if count < MIN_BLOCK_FRAMES:
                count = MIN_BLOCK_FRAMES
            if done + count > frames:  # the graph cannot render fewer than MIN_BLOCK_FRAMES: render, then trim
                piece = self.graph.render_block(count)
                take = frames - done
                out[done:] = piece[:take]
                origin[done:] = position + np.arange(take)
                done = frames
                break
            self.graph.render_block(count, out[done : done + count])
            origin[done : done + count] = position + np.arange(count)
            done += count
        return out, origin

    def _direct_block(self, frames: int) -> np.ndarray:
        block, _ = self._read_graph(frames)
        return block

    def _stretched_block(self, frames: int, recipe: Recipe, tempo_serial: int) -> tuple[np.ndarray, float, int]:
        stretcher = self._stretcher
        stretcher.set_params(recipe.tempo_ratio, recipe.pitch_semitones, tempo_serial)
        while stretcher.available < frames:
            self._feed(stretcher.input_needed)  # all that is missing at once: only after a seek, a loop or a switch
            stretcher.process_chunk()
        block, origin, serial = stretcher.pop(frames)
        # the next chunk's stems, a piece per block, as late as leaves a block of margin: the later the stems are
        # rendered, the sooner a mix edit is heard (a tempo or key change re-makes the output from the input there is)
        needed = stretcher.input_needed
        if needed and stretcher.available <= (-(-needed // PIECE_FRAMES) + 1) * frames:
            self._feed(min(needed, PIECE_FRAMES))
        block = self.graph.process_master(block)
        return np.ascontiguousarray(block.T), origin, serial

    def _feed(self, frames: int) -> None:
        """Render `frames` of the stem stage into the stretcher's input (render thread)."""
        if frames > 0:
            serial = self._serial
            audio, origin = self._read_graph(frames)
            self._stretcher.push_input(np.ascontiguousarray(audio.T), origin, serial)


def open_preview(
    manifest: PackManifest,
    stems: Mapping[str, np.ndarray],
    recipe: Recipe,
    *,
    device: int | str | None = None,
    block_frames: int = 512,
    use_device: bool = True,
    timing: bool = False,
    device_rate: int | None = None,
) -> Engine:
    """A running engine (paused) that previews `recipe`. On a machine without audio it runs on a null output."""
    return Engine(
        PreviewSource(manifest, stems, recipe), device=device, block_frames=block_frames, use_device=use_device,
        timing=timing, device_rate=device_rate,
    )  # fmt: skip
