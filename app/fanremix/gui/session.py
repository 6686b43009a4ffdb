"""The Qt adapter over one remix session: the pack, the recipe, the undo stack and the real-time engine.

The recipe is an immutable domain object; every edit builds a new recipe and pushes a `RecipeCommand` on the
`QUndoStack`. Applying a recipe (redo, undo, or a merged fader move) goes through one place, `_apply`, which:
- sends the engine only the typed commands for what changed,
- emits only the signals for what changed (a fader move emits `stem_changed` for that stem, not a full refresh),
- runs `Policy.check` and emits `violations_changed` when the list of violations changes.

Edits the policy forbids outright (soloing a stem whose role may not be soloed, an effect kind the pack denies, a
tempo outside the allowed range) are refused here, whatever control asked; `*_block_reason` says why in words for
the control's tooltip. Edits that are allowed one by one but may break a rule in combination (muting too many
stems) are made, and the resulting violations are shown and block export.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from fanremix import __version__
from fanremix.audio import realtime
from fanremix.domain.policy import Policy, Violation
from fanremix.domain.recipe import MASTER, Chain, Effect, Recipe
from fanremix.domain.stem_pack import PackManifest, Stem

MERGE_WINDOW_S = 1.2  # consecutive moves of the same control within this time are one undo step
UNDO_LIMIT = 1000  # undo steps kept per session (about 1.6 KB each); older ones are dropped
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 12.0
SILENT_GAIN_DB = -60.0  # at or below this a stem counts as silent (policy.SILENT_BELOW_DB)
AUDIBLE_FLOOR_DB = -59.0  # the lowest gain for a stem that must stay audible


class EngineLike(Protocol):
    def send(self, command: realtime.Command) -> None: ...

    def poll(self) -> realtime.TransportState | None: ...

    def close(self) -> None: ...


class RecipeCommand(QUndoCommand):
    """One undoable edit: the recipe before and after. Moves of the same control merge (see `merge_key`)."""

    MERGE_ID = 0x46524D58  # any fixed id: mergeWith compares the merge keys itself

    def __init__(self, session: "Session", before: Recipe, after: Recipe, text: str, merge_key: tuple | None):
        super().__init__(text)
        self.session = session
        self.before = before
        self.after = after
        self.merge_key = merge_key
        self.touched = time.monotonic()
        self.sealed = False

    def id(self) -> int:
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, RecipeCommand) or self.sealed or other.merge_key != self.merge_key:
            return False
        if other.touched - self.touched > MERGE_WINDOW_S:
            return False
        self.after = other.after
        self.touched = other.touched
        self.setText(other.text())
        if self.after == self.before:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.session._apply(self.after)

    def undo(self) -> None:
        self.session._apply(self.before)


def engine_commands(
    old: Recipe, new: Recipe, build_chain: Callable[[Chain, str], Any] | None = None
) -> list[realtime.Command]:
    """The typed engine commands that turn `old` into `new`. Chains are built here, off the render thread."""
    commands: list[realtime.Command] = []
    old_stems = {m.stem_id: m for m in old.stems}
    for mix in new.stems:
        before = old_stems.get(mix.stem_id)
        if before is None:
            return [realtime.SetRecipe(new)]
        if before.gain_db != mix.gain_db:
            commands.append(realtime.SetGain(mix.stem_id, mix.gain_db))
        if before.pan != mix.pan:
            commands.append(realtime.SetPan(mix.stem_id, mix.pan))
        if before.mute != mix.mute:
            commands.append(realtime.SetMute(mix.stem_id, mix.mute))
        if before.solo != mix.solo:
            commands.append(realtime.SetSolo(mix.stem_id, mix.solo))
        if before.chain != mix.chain:
            chain = build_chain(mix.chain, mix.stem_id) if build_chain else None
            commands.append(realtime.ReplaceChain(mix.stem_id, mix.chain, chain))
    if old.master != new.master:
        chain = build_chain(new.master, MASTER) if build_chain else None
        commands.append(realtime.ReplaceChain(MASTER, new.master, chain))
    if (old.tempo_ratio, old.pitch_semitones) != (new.tempo_ratio, new.pitch_semitones):
        commands.append(realtime.SetTempoKey(new.tempo_ratio, new.pitch_semitones))
    return commands


def _chain_text(effect: Effect) -> str:
    return effect.kind if not effect.preset else f"{effect.kind} ({effect.preset})"


class Session(QObject):
    """One open pack and its recipe. Emits only when something really changed."""

    recipe_changed = Signal(object)  # the new Recipe, after any change
    stem_changed = Signal(str)  # gain, pan, mute or solo of one stem
    chain_changed = Signal(str)  # the effects of a stem, or of MASTER
    tempo_key_changed = Signal(float, float)
    region_changed = Signal()  # region or fades
    loudness_changed = Signal(object)
    violations_changed = Signal(list)
    refused = Signal(str)  # an edit the policy forbids was asked for; the text says why
    significant_edit = Signal()  # a discrete edit (not a fader move in progress): autosave-worthy
    engine_replaced = Signal()

    def __init__(
        self,
        manifest: PackManifest,
        *,
        pack_path: Path | None = None,
        recipe: Recipe | None = None,
        engine: EngineLike | None = None,
        stems: dict[str, Any] | None = None,
        opened_pack: Any = None,
        signer: Any = None,
        peaks: dict[str, Any] | None = None,
        chain_builder: Callable[[Chain, str], Any] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.manifest = manifest
        self.policy: Policy = manifest.policy
        self.pack_path = pack_path
        self.opened_pack = opened_pack
        self.signer = signer if signer is not None else getattr(opened_pack, "signer", None)
        self.stems = stems or {}
        self.peaks = peaks or {}
        self.engine: EngineLike | None = engine
        self._chain_builder = chain_builder
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)  # only possible while the stack is empty
        self.project_path: Path | None = None
        self._recipe = recipe if recipe is not None else self.default_recipe()
        self._violations = self._check(self._recipe)
        self._closed = False

    # -- construction ---------------------------------------------------------------------------------------
    def default_recipe(self) -> Recipe:
        return Recipe.for_stems(
            self.manifest.id, self.manifest.pack_hash(), (s.id for s in self.manifest.stems), app_version=__version__
        )

    @property
    def recipe(self) -> Recipe:
        return self._recipe

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)

    @property
    def stem_paths(self) -> dict[str, Path]:
        if self.opened_pack is not None:
            return dict(self.opened_pack.stem_paths)
        return {}

    def stem(self, stem_id: str) -> Stem:
        return self.manifest.stem(stem_id)

    @property
    def stem_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.manifest.stems)

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    # -- engine -----------------------------------------------------------------------------------------------
    def send(self, command: realtime.Command) -> None:
        if self.engine is not None:
            self.engine.send(command)

    def attach_audio(self, stems: dict[str, Any], engine: EngineLike) -> None:
        """The decoded stems and the engine arrived (they are made after the window shows the pack). Edits made
        meanwhile are sent along, so the engine plays the recipe as it is now."""
        self.stems = stems
        self.engine = engine
        if self._recipe != getattr(getattr(engine, "source", None), "recipe", self._recipe):
            engine.send(realtime.SetRecipe(self._recipe))
        self.engine_replaced.emit()

    @property
    def has_audio(self) -> bool:
        return self.engine is not None

    def replace_engine(self, engine: EngineLike | None) -> None:
        old, self.engine = self.engine, engine
        if old is not None and old is not engine:
            old.close()
        self.engine_replaced.emit()

    def close(self) -> None:
        """Stop the engine and remove the pack's temporary files. The session is unusable afterwards."""
        if self._closed:
            return
        self._closed = True
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self.opened_pack is not None:
            self.opened_pack.close()

    # -- the one place a recipe is applied --------------------------------------------------------------------
    def _apply(self, new: Recipe) -> None:
        old = self._recipe
        if new == old:
            return
        self._recipe = new
        for command in engine_commands(old, new, self._chain_builder):
            self.send(command)
        old_stems = {m.stem_id: m for m in old.stems}
        for mix in new.stems:
            before = old_stems.get(mix.stem_id)
            if before is None or replace(before, chain=()) != replace(mix, chain=()):
                self.stem_changed.emit(mix.stem_id)
            if before is None or before.chain != mix.chain:
                self.chain_changed.emit(mix.stem_id)
        if old.master != new.master:
            self.chain_changed.emit(MASTER)
        if (old.tempo_ratio, old.pitch_semitones) != (new.tempo_ratio, new.pitch_semitones):
            self.tempo_key_changed.emit(new.tempo_ratio, new.pitch_semitones)
        if (old.region_start_s, old.region_end_s, old.fade_in_s, old.fade_out_s) != (
            new.region_start_s,
            new.region_end_s,
            new.fade_in_s,
            new.fade_out_s,
        ):
            self.region_changed.emit()
        if old.loudness_lufs != new.loudness_lufs:
            self.loudness_changed.emit(new.loudness_lufs)
        violations = self._check(new)
        if violations != self._violations:
            self._violations = violations
            self.violations_changed.emit(list(violations))
        self.recipe_changed.emit(new)

    def _check(self, recipe: Recipe) -> list[Violation]:
        return self.policy.check(recipe, self.manifest)

    def _push(self, after: Recipe, text: str, merge_key: tuple | None = None) -> bool:
        if after == self._recipe:
            return False
        self.undo_stack.push(RecipeCommand(self, self._recipe, after, text, merge_key))
        if merge_key is None:
            self.significant_edit.emit()
        return True

    def seal(self) -> None:
        """End the current gesture: the next move of the same control starts a new undo step."""
        index = self.undo_stack.index()
        if index > 0:
            command = self.undo_stack.command(index - 1)
            if isinstance(command, RecipeCommand) and not command.sealed:
                command.sealed = True
                if command.merge_key is not None:
                    self.significant_edit.emit()

    def _refuse(self, reason: str) -> bool:
        self.refused.emit(reason)
        return False

    # -- policy bounds (for the controls) ------------------------------------------------------------------
    def solo_block_reason(self, stem_id: str) -> str | None:
        stem = self.stem(stem_id)
        if not self.policy.rule_for(stem.role).may_solo:
            return f"The rights holder does not allow soloing the {stem.role}."
        return None

    def mute_block_reason(self, stem_id: str) -> str | None:
        stem = self.stem(stem_id)
        rule = self.policy.rule_for(stem.role)
        if not rule.may_mute:
            return f"The rights holder does not allow muting the {stem.role}."
        if rule.must_stay_audible:
            return f"The rights holder requires the {stem.role} to stay audible."
        return None

    def gain_floor_db(self, stem_id: str) -> float:
        rule = self.policy.rule_for(self.stem(stem_id).role)
        return AUDIBLE_FLOOR_DB if rule.must_stay_audible else MIN_GAIN_DB

    def effect_block_reason(self, kind: str) -> str | None:
        if not self.policy.effect_allowed(kind):
            return f"The rights holder does not allow the {kind} effect on this pack."
        return None

    @property
    def tempo_range(self) -> tuple[float, float]:
        return self.policy.tempo_ratio.low, self.policy.tempo_ratio.high

    @property
    def pitch_range(self) -> tuple[float, float]:
        return self.policy.pitch_semitones.low, self.policy.pitch_semitones.high

    # -- mixer edits ------------------------------------------------------------------------------------------
    def set_gain(self, stem_id: str, gain_db: float) -> bool:
        floor = self.gain_floor_db(stem_id)
        gain_db = round(max(floor, min(MAX_GAIN_DB, float(gain_db))), 2)
        name = self.stem(stem_id).name
        return self._push(
            self._recipe.with_stem(stem_id, gain_db=gain_db), f"{name} level {gain_db:+.1f} dB", ("gain", stem_id)
        )

    def set_pan(self, stem_id: str, pan: float) -> bool:
        pan = round(max(-1.0, min(1.0, float(pan))), 3)
        name = self.stem(stem_id).name
        return self._push(self._recipe.with_stem(stem_id, pan=pan), f"{name} pan {pan_text(pan)}", ("pan", stem_id))

    def set_mute(self, stem_id: str, mute: bool) -> bool:
        if mute and (reason := self.mute_block_reason(stem_id)):
            return self._refuse(reason)
        name = self.stem(stem_id).name
        return self._push(self._recipe.with_stem(stem_id, mute=bool(mute)), f"{'Mute' if mute else 'Unmute'} {name}")

    def set_solo(self, stem_id: str, solo: bool) -> bool:
        if solo and (reason := self.solo_block_reason(stem_id)):
            return self._refuse(reason)
        name = self.stem(stem_id).name
        return self._push(self._recipe.with_stem(stem_id, solo=bool(solo)), f"{'Solo' if solo else 'Unsolo'} {name}")

    def toggle_mute(self, stem_id: str) -> bool:
        return self.set_mute(stem_id, not self._recipe.stem(stem_id).mute)

    def toggle_solo(self, stem_id: str) -> bool:
        return self.set_solo(stem_id, not self._recipe.stem(stem_id).solo)

    def reset_stem(self, stem_id: str) -> bool:
        name = self.stem(stem_id).name
        return self._push(
            self._recipe.with_stem(stem_id, gain_db=0.0, pan=0.0, mute=False, solo=False), f"Reset {name}"
        )

    # -- effects ----------------------------------------------------------------------------------------------
    def target_name(self, target: str) -> str:
        return "Master" if target == MASTER else self.stem(target).name

    def chain(self, target: str) -> Chain:
        return self._recipe.chain_of(target)

    def _set_chain(self, target: str, chain: Iterable[Effect], text: str, merge_key: tuple | None = None) -> bool:
        return self._push(self._recipe.with_chain(target, tuple(chain)), text, merge_key)

    def add_effect(self, target: str, effect: Effect) -> bool:
        if reason := self.effect_block_reason(effect.kind):
            return self._refuse(reason)
        chain = (*self.chain(target), effect)
        return self._set_chain(target, chain, f"Add {_chain_text(effect)} to {self.target_name(target)}")

    def remove_effect(self, target: str, index: int) -> bool:
        chain = list(self.chain(target))
        effect = chain.pop(index)
        return self._set_chain(target, chain, f"Remove {effect.kind} from {self.target_name(target)}")

    def move_effect(self, target: str, index: int, new_index: int) -> bool:
        chain = list(self.chain(target))
        if not (0 <= new_index < len(chain)) or new_index == index:
            return False
        effect = chain.pop(index)
        chain.insert(new_index, effect)
        return self._set_chain(target, chain, f"Move {effect.kind} on {self.target_name(target)}")

    def replace_effect(
        self, target: str, index: int, effect: Effect, text: str, merge_key: tuple | None = None
    ) -> bool:
        chain = list(self.chain(target))
        if not effect.bypassed and chain[index].bypassed and (reason := self.effect_block_reason(effect.kind)):
            return self._refuse(reason)
        chain[index] = effect
        return self._set_chain(target, chain, text, merge_key)

    def set_effect_bypassed(self, target: str, index: int, bypassed: bool) -> bool:
        effect = self.chain(target)[index]
        verb = "Bypass" if bypassed else "Enable"
        return self.replace_effect(target, index, replace(effect, bypassed=bypassed), f"{verb} {effect.kind}")

    def set_effect_param(self, target: str, index: int, name: str, value: Any) -> bool:
        effect = self.chain(target)[index]
        return self.replace_effect(
            target,
            index,
            replace(effect.with_param(name, value), preset=None),
            f"{effect.kind} {name.replace('_', ' ')} on {self.target_name(target)}",
            ("param", target, index, name),
        )

    def apply_preset(self, target: str, index: int, preset_effect: Effect) -> bool:
        effect = self.chain(target)[index]
        new = replace(preset_effect, bypassed=effect.bypassed)
        return self.replace_effect(target, index, new, f"{effect.kind} preset {preset_effect.preset}")

    # -- tempo and key ----------------------------------------------------------------------------------------
    def set_tempo(self, ratio: float) -> bool:
        low, high = self.tempo_range
        ratio = round(max(low, min(high, float(ratio))), 4)
        return self._push(replace(self._recipe, tempo_ratio=ratio), f"Tempo {ratio * 100:.0f} %", ("tempo",))

    def set_pitch(self, semitones: float) -> bool:
        low, high = self.pitch_range
        semitones = float(round(max(low, min(high, float(semitones)))))
        return self._push(
            replace(self._recipe, pitch_semitones=semitones), f"Key {semitones:+.0f} semitones", ("pitch",)
        )

    def reset_tempo(self) -> bool:
        return self._push(replace(self._recipe, tempo_ratio=1.0), "Reset tempo")

    def reset_pitch(self) -> bool:
        return self._push(replace(self._recipe, pitch_semitones=0.0), "Reset key")

    # -- region, fades, loudness ----------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return self.manifest.duration_s

    def region(self) -> tuple[float, float]:
        end = self._recipe.region_end_s
        return self._recipe.region_start_s, self.duration_s if end is None else min(end, self.duration_s)

    def set_region(self, start_s: float, end_s: float | None) -> bool:
        duration = self.duration_s
        start = round(max(0.0, min(float(start_s), duration)), 3)
        end = None if end_s is None else round(max(0.0, min(float(end_s), duration)), 3)
        if end is not None and end >= duration - 1e-3:
            end = None
        if end is not None and end - start < 0.1:
            return False
        length = (duration if end is None else end) - start
        fade_in = min(self._recipe.fade_in_s, length / 2)
        fade_out = min(self._recipe.fade_out_s, length / 2)
        after = replace(self._recipe, region_start_s=start, region_end_s=end, fade_in_s=fade_in, fade_out_s=fade_out)
        text = "Whole song" if start == 0 and end is None else f"Region {clock(start)}–{clock(start + length)}"
        return self._push(after, text, ("region",))

    def set_fades(self, fade_in_s: float, fade_out_s: float) -> bool:
        start, end = self.region()
        half = (end - start) / 2
        fade_in = round(max(0.0, min(float(fade_in_s), half)), 2)
        fade_out = round(max(0.0, min(float(fade_out_s), half)), 2)
        after = replace(self._recipe, fade_in_s=fade_in, fade_out_s=fade_out)
        return self._push(after, f"Fades {fade_in:g} s / {fade_out:g} s", ("fades",))

    def set_loudness(self, lufs: float | None) -> bool:
        text = "No loudness normalisation" if lufs is None else f"Loudness target {lufs:g} LUFS"
        return self._push(replace(self._recipe, loudness_lufs=lufs), text)

    # -- whole recipe -----------------------------------------------------------------------------------------
    def replace_recipe(self, recipe: Recipe, text: str) -> bool:
        """A whole new recipe as one undoable step (e.g. 'Reset mix')."""
        return self._push(replace(recipe, app_version=__version__), text)

    def mark_saved(self, path: Path | None) -> None:
        self.project_path = path
        self.undo_stack.setClean()


def pan_text(pan: float) -> str:
    amount = round(abs(pan) * 100)
    if amount == 0:
        return "C"
    return f"{'L' if pan < 0 else 'R'} {amount}"


def clock(seconds: float, tenths: bool = False) -> str:
    """mm:ss (or mm:ss.t), truncated so the display never runs ahead of the audio."""
    total_tenths = int(max(0.0, seconds) * 10 + 1e-6)
    minutes, rest = divmod(total_tenths, 600)
    secs, tenth = divmod(rest, 10)
    return f"{minutes:02d}:{secs:02d}.{tenth}" if tenths else f"{minutes:02d}:{secs:02d}"
