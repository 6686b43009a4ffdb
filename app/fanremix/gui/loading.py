"""What runs on workers when a pack is opened: verify, decode, start the preview engine; and the waveform peaks.

Plain functions (no Qt) so they can be called on a pool thread and tested on their own. A failed load closes
whatever it had opened, so the session on screen is never touched by a pack that was refused.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fanremix.domain.errors import FanRemixError
from fanremix.domain.recipe import Recipe
from fanremix.rights.packfile import OpenedPack, open_pack
from fanremix.workspace import Workspace

from .peaks import load_or_compute_peaks
from .project import ProjectError

Progress = Callable[[str, float], None]

STAGE_WORDS = {
    "demo": "Making the demo song (first run only)",
    "extract": "Unpacking the stems",
    "verify": "Checking the stems",
    "decode": "Decoding the audio",
    "engine": "Starting the audio engine",
}


class LoadCancelled(FanRemixError):
    def __init__(self) -> None:
        super().__init__("Opening the pack was cancelled.")


@dataclass
class EngineOptions:
    device: str | int | None = None
    block_frames: int = 512
    use_device: bool = True


@dataclass
class LoadedPack:
    opened: OpenedPack
    stems: dict[str, np.ndarray]
    engine: Any
    recipe: Recipe | None
    source: Path
    project_path: Path | None = None
    restored: bool = False

    def discard(self) -> None:
        """Close what a load produced that will not be used."""
        if self.engine is not None:
            self.engine.close()
        self.opened.close()


# The preview module is imported on the loading worker, not at start-up: today it pulls in scipy.signal (through
# audio.stretch), which costs most of a second before the window could appear.
def default_open_engine(manifest, stems, recipe, options: EngineOptions):
    from fanremix.audio.preview import open_preview

    return open_preview(
        manifest,
        stems,
        recipe,
        device=options.device,
        block_frames=options.block_frames,
        use_device=options.use_device,
    )


def default_decode(manifest, stem_paths) -> dict[str, np.ndarray]:
    # `audio.preview.load_stems` is exactly this call today. Calling the stems module directly lets decoding run
    # while the preview module is still being imported (that import pulls in scipy.signal: ~0.9 s on the start-up
    # path). If load_stems ever does more than decode (resampling to the device rate...), call it here instead.
    from fanremix.audio.stems import decode_stems

    return decode_stems(manifest, stem_paths)


def ensure_demo_pack(workspace: Workspace, progress: Progress) -> Path:
    path = workspace.paths.demo_pack
    if not path.is_file():
        # imported here: the demo synthesiser pulls in scipy.signal (~0.8 s), needed only on the first run
        from fanremix.demo import make_demo_pack

        progress("demo", 0.0)
        make_demo_pack(path, progress=lambda _stage, fraction: progress("demo", fraction))
    return path


def open_verified(
    path: Path,
    workspace: Workspace,
    *,
    recipe: Recipe | None = None,
    progress: Progress = lambda stage, fraction: None,
) -> OpenedPack:
    """Phase 1 (fast): open and verify the pack; check that `recipe`, if any, was made for this very pack."""
    opened = open_pack(path, workspace.keyring(), progress=progress)
    try:
        manifest = opened.manifest
        if recipe is not None:
            if recipe.pack_id != manifest.id:
                raise ProjectError(
                    f"This project was made for the pack '{recipe.pack_id}', but {path.name} holds '{manifest.id}'."
                )
            if recipe.pack_hash != manifest.pack_hash():
                raise ProjectError(
                    f"This project was made for a different version of '{manifest.id}' than {path.name}. "
                    "Open it with the pack it was made with."
                )
    except BaseException:
        opened.close()
        raise
    return opened


def start_audio(
    opened: OpenedPack,
    options: EngineOptions,
    recipe: Recipe | None,
    *,
    progress: Progress = lambda stage, fraction: None,
    cancelled: Callable[[], bool] = lambda: False,
    open_engine: Callable[..., Any] = default_open_engine,
    decode: Callable[..., dict[str, np.ndarray]] = default_decode,
) -> tuple[dict[str, np.ndarray], Any]:
    """Phase 2 (the slow part): decode every stem and start a paused preview engine. Does not close `opened`."""
    manifest = opened.manifest
    if cancelled():
        raise LoadCancelled()
    progress("decode", 0.0)
    stems = decode(manifest, opened.stem_paths)
    progress("decode", 1.0)
    if cancelled():
        raise LoadCancelled()
    progress("engine", 0.0)
    start_recipe = recipe or Recipe.for_stems(manifest.id, manifest.pack_hash(), (s.id for s in manifest.stems))
    engine = open_engine(manifest, stems, start_recipe, options)
    progress("engine", 1.0)
    return stems, engine


def load_pack(
    path: Path,
    workspace: Workspace,
    options: EngineOptions,
    *,
    recipe: Recipe | None = None,
    with_audio: bool = True,
    progress: Progress = lambda stage, fraction: None,
    cancelled: Callable[[], bool] = lambda: False,
    open_engine: Callable[..., Any] = default_open_engine,
    decode: Callable[..., dict[str, np.ndarray]] = default_decode,
) -> LoadedPack:
    """Open and verify the pack at `path`; with `with_audio`, also decode its stems and start the engine.

    Anything opened is closed again if a later step fails, so a refused pack leaves nothing behind.
    """
    weights = {"extract": (0.0, 0.35), "verify": (0.35, 0.15), "decode": (0.5, 0.4), "engine": (0.9, 0.1)}
    if not with_audio:
        weights = {"extract": (0.0, 0.7), "verify": (0.7, 0.3)}

    def report(stage: str, fraction: float) -> None:
        offset, weight = weights.get(stage, (0.0, 1.0))
        progress(stage, offset + weight * fraction)

    opened = open_verified(path, workspace, recipe=recipe, progress=report)
    if not with_audio:
        return LoadedPack(opened=opened, stems={}, engine=None, recipe=recipe, source=Path(path))
    try:
        stems, engine = start_audio(
            opened, options, recipe, progress=report, cancelled=cancelled, open_engine=open_engine, decode=decode
        )
    except BaseException:
        opened.close()
        raise
    return LoadedPack(opened=opened, stems=stems, engine=engine, recipe=recipe, source=Path(path))


def compute_peaks(loaded_manifest, stems: dict[str, np.ndarray], cache: Path, cancelled=lambda: False):
    return load_or_compute_peaks(loaded_manifest, stems, cache, cancelled=cancelled)
