"""The render graph: a recipe turned into per-stem strips and a master chain. `render_block` is the one DSP path.

Signal flow of one block (frames are counted in the ORIGINAL timeline; tempo and key come after this graph):

    stem ─▶ gain + pan (ramped) ─▶ stem chain ─▶ mute/solo gate (ramped) ─┐
    stem ─▶ …                                                            ├─▶ sum ─▶ master chain*
    stem ─▶ …                                                            ┘

    * only when the recipe keeps tempo and key unchanged; otherwise the master chain runs after the time stretch
      (`process_master`), because tempo and key act on the summed mix.

Pan law: constant power, sin/cos. For pan p in [-1, 1], θ = (p + 1)·π/4 and the channel gains are
gL = √2·cos θ, gR = √2·sin θ. The √2 makes the centre unity gain (a stem at 0 dB and centre is heard exactly as
delivered, so the default recipe reproduces the original mix), hard left is +3 dB in the left channel and silence
in the right, and gL² + gR² = 2 everywhere: moving a stem across the field keeps its power. Equivalently: -3 dB at
the centre relative to a hard pan. A stereo stem is balanced (its left channel scaled by gL, its right by gR);
mono stems arrive as two identical channels, so for them this is an ordinary mono pan.

Mute and solo act at the strip's output, after its chain, as on a mixing desk: a muted stem's reverb tail goes
with it, a muted stem is exactly absent from the sum (it is not even processed), and the policy's "who is
audible" matches what is heard.

Changes (`update`) are taken at the next block boundary. Gain, pan, mute and solo move with a linear ramp of
`RAMP_SECONDS`, so a fader move or a mute never clicks; chains whose effects are unchanged keep their state,
chains whose effect kinds are unchanged get their new parameters in place (a reverb tail survives a knob turn),
and only chains whose structure changed are rebuilt. `seek` moves the playhead and resets state (ramps end at once);
`jump` moves it and keeps state, for a loop's wrap-around.

Rendering is deterministic: every strip is processed independently (on a thread pool; pedalboard releases the GIL)
and the strips are summed on the calling thread in the pack's stem order, so thread timing never changes a bit.
Rendering in blocks of any size at or above `MIN_BLOCK_FRAMES` gives the same samples as one block.
"""

import math
import os
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pedalboard

from fanremix.domain.errors import RecipeError
from fanremix.domain.recipe import MASTER, Chain, Recipe
from fanremix.domain.stem_pack import PackManifest

from . import effects
from .errors import StemDecodeError
from .stems import CHANNELS, as_stereo, stem_order

RAMP_SECONDS = 0.010  # gain, pan, mute and solo changes glide over this long
# pedalboard cannot tell a 1-frame stereo block from a 2-frame mono one; audio devices never ask for so few.
MIN_BLOCK_FRAMES = 16
DEFAULT_BLOCK_FRAMES = 4096  # buffers are preallocated for this many frames and grow if a caller asks for more
PARALLEL_MIN_FRAMES = 256  # below this, handing strips to threads costs more than it saves


def pan_gains(pan: float) -> tuple[float, float]:
    """(left, right) gains of the constant-power pan law described above; (1, 1) at the centre."""
    theta = (min(1.0, max(-1.0, pan)) + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta)


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


def is_identity_tempo_key(recipe: Recipe) -> bool:
    return recipe.tempo_ratio == 1.0 and recipe.pitch_semitones == 0.0


class _Ramp:
    """Per-channel gains that move linearly to a target over a fixed number of frames.

    The value at frame k after a change depends only on k, never on how the frames were split into blocks.
    """

    def __init__(self, value: np.ndarray, ramp_frames: int):
        self.ramp_frames = max(1, ramp_frames)
        self.start = np.array(value, dtype=np.float64)
        self.target = self.start.copy()
        self.target32 = self.target.astype(np.float32)
        self.done = 0
        self.total = 0

    @property
    def steady(self) -> bool:
        return self.done >= self.total

    def current(self) -> np.ndarray:
        if self.steady:
            return self.target
        return self.start + (self.target - self.start) * (self.done / self.total)

    def move_to(self, target: np.ndarray) -> None:
        target = np.asarray(target, dtype=np.float64)
        if np.array_equal(target, self.target):
            return
        self.start = self.current()
        self.target = target.copy()
        self.target32 = self.target.astype(np.float32)
        self.done, self.total = 0, self.ramp_frames

    def jump(self) -> None:
        self.start = self.target.copy()
        self.done = self.total = 0

    def take(self, frames: int, scratch: np.ndarray) -> np.ndarray | None:
        """The next `frames` values as float32 (channels, frames) in `scratch`; None while steady (use target32)."""
        if self.steady:
            return None
        position = np.arange(self.done + 1, self.done + frames + 1, dtype=np.float64) / self.total
        values = self.start[:, None] + (self.target - self.start)[:, None] * position
        values[:, position >= 1.0] = self.target[:, None]
        out = scratch[:, :frames]
        out[...] = values
        self.done = min(self.total, self.done + frames)
        return out


@dataclass
class _Strip:
    """One stem's path through the graph."""

    stem_id: str
    source: np.ndarray  # float32 (frames, 2)
    pre: _Ramp  # gain × pan, per channel
    gate: _Ramp  # mute/solo: 1 heard, 0 silent (both channels alike)
    chain: Chain
    board: pedalboard.Pedalboard | None
    buffer: np.ndarray  # flat float32, 2 × capacity
    gain_scratch: np.ndarray  # float32 (2, capacity)
    gate_scratch: np.ndarray  # float32 (1, capacity)
    stale: bool = False  # the chain skipped blocks while silent; reset it before it is heard again

    @property
    def silent(self) -> bool:
        return self.gate.steady and self.gate.target[0] == 0.0


@dataclass
class _Plan:
    """A recipe change prepared off the render thread, applied at the next block boundary."""

    recipe: Recipe
    pre: dict[str, np.ndarray]
    gate: dict[str, np.ndarray]
    boards: dict[str, pedalboard.Pedalboard | None]  # new boards for rebuilt chains (MASTER included)
    retunes: list[tuple[object, effects.Effect]]  # (existing plugin, effect) whose parameters change in place


class RenderGraph:
    """Per-stem strips and a master chain, rendered block by block. See the module docstring for the flow."""

    def __init__(
        self,
        manifest: PackManifest,
        stems: Mapping[str, np.ndarray],
        recipe: Recipe,
        *,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        workers: int | None = None,
        meter: bool = False,
    ):
        self.manifest = manifest
        self.sample_rate = manifest.sample_rate
        self._ramp_frames = max(1, round(RAMP_SECONDS * self.sample_rate))
        self._capacity = max(MIN_BLOCK_FRAMES, block_frames)
        order = stem_order(manifest)
        missing = [stem_id for stem_id in order if stem_id not in stems]
        if missing:
            raise StemDecodeError(f"No audio was given for the stem(s): {', '.join(missing)}.")
        self.frames = max(len(stems[stem_id]) for stem_id in order)
        self._update_lock = threading.Lock()  # serialises callers of update(); render_block never takes it
        self._plans: deque[_Plan] = deque()  # prepared changes, taken in order at the next block boundary
        self._planned: dict[str, tuple[Chain, pedalboard.Pedalboard | None]] = {}  # chains once those are taken
        self._position = 0
        self._strips: list[_Strip] = []
        plan = self._plan(recipe, first=True)
        for stem_id in order:
            self._strips.append(
                _Strip(
                    stem_id=stem_id,
                    source=as_stereo(stems[stem_id]),
                    pre=_Ramp(plan.pre[stem_id], self._ramp_frames),
                    gate=_Ramp(plan.gate[stem_id], self._ramp_frames),
                    chain=self._chain_of(recipe, stem_id),
                    board=plan.boards[stem_id],
                    buffer=np.zeros(CHANNELS * self._capacity, dtype=np.float32),
                    gain_scratch=np.zeros((CHANNELS, self._capacity), dtype=np.float32),
                    gate_scratch=np.zeros((1, self._capacity), dtype=np.float32),
                )
            )
        self._master_chain: Chain = recipe.master
        self._master: pedalboard.Pedalboard | None = plan.boards[MASTER]
        self._recipe = recipe
        self._sum = np.zeros(CHANNELS * self._capacity, dtype=np.float32)
        self._workers = max(1, min(len(self._strips), workers or os.cpu_count() or 1))
        # per-stem levels of the last block (after the chain and mute/solo), for the mixer's meters
        self._meter = meter
        self.stem_peaks: dict[str, float] = {}
        self.stem_rms: dict[str, float] = {}
        self._pool: ThreadPoolExecutor | None = None

    # -- the recipe -------------------------------------------------------------------------------------------------

    @property
    def recipe(self) -> Recipe:
        """The recipe being rendered (a pending `update` is not included until the next block starts)."""
        return self._recipe

    @property
    def master_in_block(self) -> bool:
        """Whether `render_block` runs the master chain (it does unless tempo or key change)."""
        return is_identity_tempo_key(self._recipe)

    @property
    def position(self) -> int:
        """The next frame `render_block` renders, in the original timeline."""
        return self._position

    @staticmethod
    def _chain_of(recipe: Recipe, stem_id: str) -> Chain:
        for mix in recipe.stems:
            if mix.stem_id == stem_id:
                return mix.chain
        return ()

    def _plan(self, recipe: Recipe, first: bool = False) -> _Plan:
        known = set(stem_order(self.manifest))
        unknown = [mix.stem_id for mix in recipe.stems if mix.stem_id not in known]
        if unknown:
            raise RecipeError(f"The recipe names stem(s) the pack does not have: {', '.join(unknown)}.")
        by_id = {mix.stem_id: mix for mix in recipe.stems}
        any_solo = any(mix.solo for mix in recipe.stems)
        pre: dict[str, np.ndarray] = {}
        gate: dict[str, np.ndarray] = {}
        for stem_id in stem_order(self.manifest):
            mix = by_id.get(stem_id)
            if mix is None:  # a stem the recipe leaves out is not part of the derivative
                pre[stem_id], gate[stem_id] = np.ones(CHANNELS), np.zeros(1)
                continue
            left, right = pan_gains(mix.pan)
            gain = db_to_gain(mix.gain_db)
            pre[stem_id] = np.array([gain * left, gain * right])
            heard = not mix.mute and (mix.solo or not any_solo)
            gate[stem_id] = np.array([1.0 if heard else 0.0])
        boards: dict[str, pedalboard.Pedalboard | None] = {}
        retunes: list[tuple[object, effects.Effect]] = []
        targets = [(stem_id, self._chain_of(recipe, stem_id)) for stem_id in stem_order(self.manifest)]
        targets.append((MASTER, recipe.master))
        for target, chain in targets:
            where = "the master" if target == MASTER else f"stem '{target}'"
            effects.validate_chain(chain, where)
            if first:
                boards[target] = self._build(chain, where)
                continue
            old_chain, old_board = self._planned[target]
            if chain == old_chain:
                continue
            if old_board is not None and effects.active_kinds(chain) == effects.active_kinds(old_chain):
                active = [effect for effect in chain if not effect.bypassed]
                retunes.extend(zip(old_board, active, strict=True))
            else:
                boards[target] = self._build(chain, where)
        # nothing above raised: from now on, later plans build on this one
        for target, chain in targets:
            board = boards[target] if target in boards else self._planned[target][1]
            self._planned[target] = (chain, board)
        return _Plan(recipe, pre, gate, boards, retunes)

    def _build(self, chain: Chain, where: str) -> pedalboard.Pedalboard | None:
        board = effects.build_chain(chain, self.sample_rate, where)
        if not len(board):
            return None
        self._prime(board)
        return board

    def _prime(self, board: pedalboard.Pedalboard) -> None:
        """Prepare `board` for our largest block, then clear its state.

        pedalboard re-prepares a plugin, which resets it, whenever a block is longer than any it has seen. Left
        alone, a stream of 64-frame blocks followed by a 72-frame one would lose every tail at that block.
        """
        board(np.zeros((CHANNELS, self._capacity), dtype=np.float32), self.sample_rate, reset=True)
        board.reset()

    def update(self, recipe: Recipe) -> None:
        """Take `recipe` at the next block boundary. Safe to call from any thread, while blocks are rendered.

        New chains are built (and primed) here, in the caller's thread, so a bad effect raises EffectError now and
        the running graph is left untouched, and the render thread never waits for a build: it only picks up the
        prepared changes, in order, at the start of its next block (a deque, no lock).
        """
        with self._update_lock:
            self._plans.append(self._plan(recipe))

    def _apply_pending(self) -> None:
        while self._plans:
            plan = self._plans.popleft()
            for plugin, effect in plan.retunes:
                effects.apply_params(plugin, effect, self.sample_rate)
            for strip in self._strips:
                strip.pre.move_to(plan.pre[strip.stem_id])
                strip.gate.move_to(plan.gate[strip.stem_id])
                strip.chain = self._chain_of(plan.recipe, strip.stem_id)
                if strip.stem_id in plan.boards:
                    strip.board = plan.boards[strip.stem_id]
                    strip.stale = False
            if MASTER in plan.boards:
                self._master = plan.boards[MASTER]
            self._master_chain = plan.recipe.master
            self._recipe = plan.recipe

    # -- transport --------------------------------------------------------------------------------------------------

    def seek(self, frame: int) -> None:
        """Continue from `frame` (original timeline): effect state is cleared and gain ramps end at once."""
        self._apply_pending()
        self._position = max(0, int(frame))
        for strip in self._strips:
            strip.pre.jump()
            strip.gate.jump()
            strip.stale = False
            if strip.board is not None:
                strip.board.reset()
        if self._master is not None:
            self._master.reset()

    def jump(self, frame: int) -> None:
        """Continue from `frame` keeping effect state and ramps, so a loop's seam is as smooth as the audio."""
        self._position = max(0, int(frame))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> "RenderGraph":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- DSP --------------------------------------------------------------------------------------------------------

    def _ensure_capacity(self, frames: int) -> None:
        """Grow the buffers for a block longer than `block_frames`.

        This clears every effect's state (pedalboard must re-prepare for the longer block), so a caller that streams
        should create the graph with `block_frames` at least as large as its largest block.
        """
        if frames <= self._capacity:
            return
        self._capacity = frames
        for strip in self._strips:
            strip.buffer = np.zeros(CHANNELS * frames, dtype=np.float32)
            strip.gain_scratch = np.zeros((CHANNELS, frames), dtype=np.float32)
            strip.gate_scratch = np.zeros((1, frames), dtype=np.float32)
            if strip.board is not None:
                self._prime(strip.board)
        if self._master is not None:
            self._prime(self._master)
        self._sum = np.zeros(CHANNELS * frames, dtype=np.float32)

    def _process_strip(self, strip: _Strip, start: int, frames: int) -> np.ndarray | None:
        """This strip's contribution to the block as float32 (2, frames), or None when it is silent."""
        if strip.silent:
            strip.pre.take(frames, strip.gain_scratch)  # keep the gain ramp's clock running
            strip.stale = strip.board is not None
            return None
        if strip.stale:
            strip.board.reset()  # it skipped blocks while muted; start it from silence rather than a stale tail
            strip.stale = False
        buffer = strip.buffer[: CHANNELS * frames].reshape(CHANNELS, frames)  # C-contiguous, as pedalboard wants
        source = strip.source[start : start + frames].T  # (2, available) view
        available = source.shape[1]
        ramp = strip.pre.take(frames, strip.gain_scratch)
        if available:
            gains = strip.pre.target32[:, None] if ramp is None else ramp[:, :available]
            np.multiply(source, gains, out=buffer[:, :available])
        if available < frames:
            buffer[:, available:] = 0.0
        out = buffer if strip.board is None else strip.board(buffer, self.sample_rate, reset=False)
        gate = strip.gate.take(frames, strip.gate_scratch)
        if gate is not None:
            out *= gate
        return out

    def render_block(self, frames: int, out: np.ndarray | None = None) -> np.ndarray:
        """Render the next `frames` frames as float32 (frames, 2), into `out` when given (any (frames, 2) view)."""
        if frames < MIN_BLOCK_FRAMES:
            raise ValueError(f"render_block needs at least {MIN_BLOCK_FRAMES} frames, not {frames}.")
        self._apply_pending()
        self._ensure_capacity(frames)
        start = self._position
        strips = self._strips
        if frames >= PARALLEL_MIN_FRAMES and self._workers > 1 and sum(not s.silent for s in strips) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="fanremix-strip")
            parts = list(self._pool.map(lambda strip: self._process_strip(strip, start, frames), strips))
        else:
            parts = [self._process_strip(strip, start, frames) for strip in strips]
        if self._meter:
            self._measure(parts)
        mix = self._sum[: CHANNELS * frames].reshape(CHANNELS, frames)
        first = True
        for part in parts:  # always in the pack's stem order: the sum is the same whatever the threads did
            if part is None:
                continue
            if first:
                np.copyto(mix, part)
                first = False
            else:
                mix += part
        if first:
            mix.fill(0.0)
        if self._master is not None and self.master_in_block:
            mix = self._master(mix, self.sample_rate, reset=False)
        self._position = start + frames
        if out is None:
            return np.ascontiguousarray(mix.T)
        if out.shape != (frames, CHANNELS):
            raise ValueError(f"out must have shape ({frames}, {CHANNELS}), not {out.shape}.")
        out[...] = mix.T
        return out

    def _measure(self, parts: list[np.ndarray | None]) -> None:
        peaks, rms = {}, {}
        for strip, part in zip(self._strips, parts, strict=True):
            if part is None:
                peaks[strip.stem_id] = rms[strip.stem_id] = 0.0
            else:
                peaks[strip.stem_id] = float(np.abs(part).max())
                rms[strip.stem_id] = float(np.sqrt(np.mean(np.square(part, dtype=np.float64))))
        self.stem_peaks, self.stem_rms = peaks, rms

    def process_master(self, block: np.ndarray) -> np.ndarray:
        """Run the master chain, streaming, on a channels-first (2, n) block of the stretched mix.

        Used when tempo or key change, so the master chain acts on the output timeline; returns a new array.
        """
        if self._master is None:
            return block
        return self._master(np.ascontiguousarray(block, dtype=np.float32), self.sample_rate, reset=False)

    @property
    def has_master_chain(self) -> bool:
        return self._master is not None
