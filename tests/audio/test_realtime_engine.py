"""The preview source and the engine, driven block by block (no device) and through the null output."""

import threading

import numpy as np
import pytest

from fanremix.audio.offline import render_to_array
from fanremix.audio.preview import CHUNK_FRAMES, PIECE_FRAMES, PreviewSource, open_preview
from fanremix.audio.realtime import (
    Pause,
    Play,
    ReplaceChain,
    Seek,
    SetGain,
    SetLoop,
    SetMute,
    SetPan,
    SetTempoKey,
)
from fanremix.domain.recipe import Effect
from tests.audio.conftest import SAMPLE_RATE, tone


def pull(source: PreviewSource, frames: int, block: int) -> np.ndarray:
    out = []
    done = 0
    while done < frames:
        piece, _ = source.next_block(block)
        out.append(piece.copy())
        done += block
    return np.concatenate(out)[:frames]


def db(x: float) -> float:
    return 20 * np.log10(max(x, 1e-30))


@pytest.mark.parametrize("block", [128, 512, 2048])
def test_preview_equals_the_offline_render_without_tempo_or_key(four_tones, block) -> None:
    recipe = four_tones.recipe(loudness_lufs=None)
    recipe = recipe.with_stem("vocals", gain_db=-4.0, pan=-0.5, chain=(Effect.of("Reverb", room_size=0.7),))
    recipe = recipe.with_stem("drums", chain=(Effect.of("Compressor", threshold_db=-20.0), Effect.of("Delay")))
    recipe = recipe.with_stem("bass", mute=True).with_chain("master", (Effect.of("LowpassFilter"),))
    offline = render_to_array(four_tones.manifest, four_tones.arrays, recipe, normalize=False).audio
    source = PreviewSource(four_tones.manifest, four_tones.arrays, recipe)
    preview = pull(source, offline.shape[0], block)
    assert db(np.abs(preview - offline).max()) < -100


def test_a_gain_change_ramps_without_a_step(make_pack) -> None:
    steady = np.full((SAMPLE_RATE, 2), 0.25, dtype=np.float32)  # DC makes every step visible
    pack = make_pack({"a": ("keys", steady), "b": ("bass", np.zeros_like(steady))})
    source = PreviewSource(pack.manifest, pack.arrays, pack.recipe(loudness_lufs=None))
    before = pull(source, 2048, 512)
    source.apply(SetGain("a", 6.0))
    after = pull(source, 4096, 512)
    joined = np.concatenate([before, after])[:, 0]
    assert joined[0] == pytest.approx(0.25) and joined[-1] == pytest.approx(0.25 * 10 ** (6 / 20), rel=1e-4)
    # the 10 ms ramp moves ~0.25 over 441 frames: no single step may exceed 1/300 of full scale
    assert np.abs(np.diff(joined)).max() < 1 / 300


def test_pan_and_mute_follow_commands(make_pack) -> None:
    pack = make_pack({"a": ("keys", tone(440.0, 1.0)), "b": ("bass", tone(110.0, 1.0))})
    source = PreviewSource(pack.manifest, pack.arrays, pack.recipe(loudness_lufs=None))
    source.apply(SetMute("b", True))
    source.apply(SetPan("a", -1.0))
    pull(source, 2048, 512)  # let the ramps finish
    block = pull(source, 2048, 512)
    assert np.abs(block[:, 1]).max() < 1e-6  # hard left: nothing on the right, and b is muted
    assert np.abs(block[:, 0]).max() > 0.3


def test_replacing_a_chain_is_heard(four_tones) -> None:
    source = PreviewSource(four_tones.manifest, four_tones.arrays, four_tones.recipe(loudness_lufs=None))
    plain = pull(source, 4096, 512)
    source.seek(0)
    source.apply(ReplaceChain("keys", (Effect.of("Distortion", drive_db=30.0),)))
    driven = pull(source, 4096, 512)
    assert db(np.abs(driven - plain).max()) > -20


def test_a_loop_repeats_the_region_exactly(make_pack) -> None:
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal((SAMPLE_RATE, 2)) * 0.1).astype(np.float32)
    pack = make_pack({"a": ("keys", noise)})
    source = PreviewSource(pack.manifest, pack.arrays, pack.recipe(loudness_lufs=None))
    start, end = 1000, 1000 + 3 * 1024 + 77  # a loop length that is not a multiple of the block
    source.seek(start)
    source.apply(SetLoop(start / SAMPLE_RATE, end / SAMPLE_RATE))
    out = pull(source, 4 * (end - start), 512)
    expected = np.tile(noise[start:end], (4, 1))
    np.testing.assert_array_equal(out, expected)  # no gap, no repeat, no discontinuity at the seam


def test_seek_moves_both_timelines(four_tones) -> None:
    source = PreviewSource(four_tones.manifest, four_tones.arrays, four_tones.recipe(loudness_lufs=None))
    pull(source, 2048, 512)
    source.seek(SAMPLE_RATE // 2)
    _, info = source.next_block(512)
    assert info.original_frame == SAMPLE_RATE // 2
    assert info.output_frame == 2048


def test_tempo_maps_the_two_timelines_and_changes_the_sound(four_tones) -> None:
    recipe = four_tones.recipe(loudness_lufs=None)
    source = PreviewSource(four_tones.manifest, four_tones.arrays, recipe)
    plain = pull(source, CHUNK_FRAMES, 512)
    source.seek(0)
    source.apply(SetTempoKey(1.25, 0.0))
    stretched = pull(source, CHUNK_FRAMES, 512)
    _, info = source.next_block(512)
    # CHUNK_FRAMES of output at 1.25x cover 1.25 * CHUNK_FRAMES of the original
    assert info.original_frame == pytest.approx(1.25 * CHUNK_FRAMES, abs=64)
    assert info.tempo_ratio == 1.25
    assert db(np.abs(stretched - plain).max()) > -30


def test_while_stretching_no_block_renders_more_than_a_piece_of_stems(four_tones) -> None:
    """The stem stage for the next chunk is rendered a piece per block, so no block stalls the render thread for a
    whole chunk of stems; only the first block (nothing rendered yet) renders a chunk's worth at once."""
    source = PreviewSource(four_tones.manifest, four_tones.arrays, four_tones.recipe(loudness_lufs=None))
    source.apply(SetTempoKey(1.1, 2.0))
    source.next_block(512)
    advances = []
    for _ in range(4 * CHUNK_FRAMES // 512):
        before = source.graph.position
        source.next_block(512)
        advances.append(source.graph.position - before)
    assert max(advances) <= PIECE_FRAMES
    assert sum(advances) > 3 * CHUNK_FRAMES  # and the stems did keep up with the output


def test_a_tempo_change_is_in_the_next_stretched_block_even_from_stems_rendered_before_it(four_tones) -> None:
    """A tempo or key change re-makes the output from the stem-stage input already rendered; the block that carries
    it says so (its edit serial), which is how the GUI knows the change can be heard."""
    source = PreviewSource(four_tones.manifest, four_tones.arrays, four_tones.recipe(loudness_lufs=None))
    source.apply(SetTempoKey(1.1, 0.0))
    pull(source, 2 * CHUNK_FRAMES, 512)
    position = source.graph.position
    serial = source.apply(SetTempoKey(0.9, -1.0))
    _, info = source.next_block(512)
    assert (info.tempo_ratio, info.pitch_semitones) == (0.9, -1.0)
    assert info.edit_serial >= serial
    assert source.graph.position - position <= PIECE_FRAMES  # made from what was there, not a chunk of new stems


def dominant_frequency(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return float(np.argmax(spectrum) * SAMPLE_RATE / signal.size)


@pytest.mark.parametrize("semitones", [3.0, -3.0])
def test_key_changes_move_the_pitch(make_pack, semitones) -> None:
    pack = make_pack({"a": ("keys", tone(440.0, 3.0))})
    source = PreviewSource(pack.manifest, pack.arrays, pack.recipe(loudness_lufs=None))
    source.apply(SetTempoKey(1.0, semitones))
    pull(source, 8192, 512)  # past the start
    shifted = pull(source, 32768, 512)[:, 0]
    # Rubber Band R2 itself lands within ~1.2% on a pure tone (0.2 semitone); exports use R3, which is exact
    assert dominant_frequency(shifted) == pytest.approx(440.0 * 2 ** (semitones / 12), rel=0.02)


def test_stretched_seams_do_not_click(make_pack) -> None:
    pack = make_pack({"a": ("keys", tone(220.0, 4.0, 0.5))})
    source = PreviewSource(pack.manifest, pack.arrays, pack.recipe(loudness_lufs=None))
    source.apply(SetTempoKey(0.9, 2.0))
    out = pull(source, 3 * SAMPLE_RATE, 512)[SAMPLE_RATE // 4 :, 0]
    # a 247 Hz sine of amplitude ~0.5 moves at most 2*pi*247*0.5/44100 ~ 0.018 per sample; a click would jump more
    assert np.abs(np.diff(out)).max() < 0.05


def test_engine_without_a_device_plays_on_a_paced_null_output(four_tones) -> None:
    with open_preview(four_tones.manifest, four_tones.arrays, four_tones.recipe(), use_device=False) as engine:
        assert not engine.has_device
        assert engine.device_state.startswith("no audio device")
        engine.send(Play())
        moved = threading.Event()
        state_seen = []

        def watch() -> None:
            while not moved.is_set():
                state = engine.poll()
                if state is not None and state.playing and state.original_s > 0.2:
                    state_seen.append(state)
                    moved.set()
                moved.wait(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        assert moved.wait(5), "the playhead never moved"
        watcher.join()
        engine.send(Pause())
        assert state_seen[0].master_peak[0] > 0
        assert engine.stats.ring_underruns == 0


def test_seek_command_while_paused_updates_the_reported_position(four_tones) -> None:
    with open_preview(four_tones.manifest, four_tones.arrays, four_tones.recipe(), use_device=False) as engine:
        engine.send(Seek(1.5))
        seen = threading.Event()

        def watch() -> None:
            for _ in range(500):
                state = engine.poll()
                if state is not None and abs(state.original_s - 1.5) < 1e-6:
                    seen.set()
                    return
                seen.wait(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        watcher.join()
        assert seen.is_set()


def test_blocks_carry_per_stem_levels_after_mute(four_tones) -> None:
    recipe = four_tones.recipe(loudness_lufs=None).with_stem("bass", mute=True)
    source = PreviewSource(four_tones.manifest, four_tones.arrays, recipe)
    pull(source, 4096, 512)
    _, info = source.next_block(512)
    assert set(info.stem_peaks) == {"vocals", "drums", "bass", "keys"}
    assert info.stem_peaks["bass"] == 0.0 and info.stem_rms["bass"] == 0.0
    assert info.stem_peaks["vocals"] == pytest.approx(0.2, rel=0.05)  # a 0.2 sine at 0 dB, centre
    assert 0 < info.stem_rms["vocals"] < info.stem_peaks["vocals"]
