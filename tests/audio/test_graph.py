"""The render graph: block-size equivalence, gain, pan, mute and solo, click-free updates, state, determinism."""

import math
import threading

import numpy as np
import pytest

from fanremix.audio import effects
from fanremix.audio.errors import EffectError
from fanremix.audio.graph import MIN_BLOCK_FRAMES, RAMP_SECONDS, RenderGraph, pan_gains
from fanremix.domain.errors import RecipeError
from fanremix.domain.recipe import Effect, Recipe
from tests.audio.conftest import SAMPLE_RATE, PackFactory, ToyPack, program, tone

BLOCK_SIZES = (64, 65, 512, 4096, 8193)
MINUS_120_DB = 1e-6


def render(pack: ToyPack, recipe: Recipe, block: int | None = None, workers: int | None = None) -> np.ndarray:
    frames = pack.manifest.stems[0].frames
    with RenderGraph(pack.manifest, pack.arrays, recipe, workers=workers) as graph:
        if block is None:
            return graph.render_block(frames)
        out = np.empty((frames, 2), dtype=np.float32)
        position = 0
        while position < frames:
            count = min(block, frames - position)
            if frames - position - count < MIN_BLOCK_FRAMES:
                count = frames - position
            graph.render_block(count, out=out[position : position + count])
            position += count
        return out


def busy_recipe(pack: ToyPack) -> Recipe:
    """Every kind of per-stem and master processing the graph does, without tempo or key."""
    recipe = pack.recipe()
    recipe = recipe.with_stem("vocals", gain_db=-3.0, pan=-0.4, chain=(effects.preset_effect("Reverb", "Hall"),))
    recipe = recipe.with_stem(
        "drums", pan=0.7, chain=(effects.preset_effect("Compressor", "Punchy"), effects.preset_effect("Delay"))
    )
    recipe = recipe.with_stem("bass", gain_db=2.0, chain=(effects.preset_effect("LadderFilter"),))
    recipe = recipe.with_stem("keys", mute=True, chain=(effects.preset_effect("Chorus"),))
    return recipe.with_chain("master", (effects.preset_effect("PeakFilter"), effects.preset_effect("Limiter")))


@pytest.mark.parametrize("block", BLOCK_SIZES)
def test_blocks_of_any_size_equal_a_one_shot_render(four_tones: ToyPack, block: int) -> None:
    recipe = busy_recipe(four_tones)
    one_shot = render(four_tones, recipe)
    blocked = render(four_tones, recipe, block)
    assert blocked.shape == one_shot.shape
    assert np.max(np.abs(blocked - one_shot)) <= MINUS_120_DB
    assert np.max(np.abs(one_shot)) > 0.1  # the comparison is not between two silences


def test_threads_do_not_change_a_bit(four_tones: ToyPack) -> None:
    recipe = busy_recipe(four_tones).with_stem("keys", mute=False)
    assert np.array_equal(render(four_tones, recipe, 4096, workers=1), render(four_tones, recipe, 4096, workers=4))


def test_gain_of_6_02_db_doubles_the_amplitude(four_tones: ToyPack) -> None:
    recipe = four_tones.recipe()
    louder = recipe
    for stem in four_tones.manifest.stems:
        louder = louder.with_stem(stem.id, gain_db=6.02)
    base, doubled = render(four_tones, recipe), render(four_tones, louder)
    ratio_db = 20 * math.log10(np.max(np.abs(doubled)) / np.max(np.abs(base)))
    assert ratio_db == pytest.approx(6.02, abs=0.01)
    assert np.allclose(doubled, base * 10 ** (6.02 / 20), rtol=1e-6, atol=1e-7)


def test_default_recipe_reproduces_the_stems_summed_in_pack_order(four_tones: ToyPack) -> None:
    expected = sum(four_tones.arrays[s.id] for s in four_tones.manifest.stems)
    assert np.array_equal(render(four_tones, four_tones.recipe()), expected)


def test_pan_law_is_constant_power_with_unity_at_the_centre(make_pack: PackFactory) -> None:
    assert pan_gains(0.0) == pytest.approx((1.0, 1.0))
    assert pan_gains(-1.0) == pytest.approx((math.sqrt(2), 0.0), abs=1e-12)
    assert pan_gains(1.0) == pytest.approx((0.0, math.sqrt(2)), abs=1e-12)
    for pan in np.linspace(-1, 1, 21):
        left, right = pan_gains(pan)
        assert left**2 + right**2 == pytest.approx(2.0)
    pack = make_pack({"solo": ("keys", tone(300.0, 0.5, 0.3))})
    out = render(pack, pack.recipe().with_stem("solo", pan=-1.0))
    source = pack.arrays["solo"]
    assert np.allclose(out[:, 0], source[:, 0] * math.sqrt(2), atol=1e-7)
    assert np.max(np.abs(out[:, 1])) < 1e-7
    half_right = render(pack, pack.recipe().with_stem("solo", pan=0.5))
    power = np.sum(half_right.astype(np.float64) ** 2)
    assert power == pytest.approx(np.sum(source.astype(np.float64) ** 2), rel=1e-5)  # the pan keeps the power


def test_mute_removes_a_stem_exactly(four_tones: ToyPack) -> None:
    recipe = four_tones.recipe().with_stem("vocals", mute=True)
    expected = four_tones.arrays["drums"] + four_tones.arrays["bass"] + four_tones.arrays["keys"]
    assert np.array_equal(render(four_tones, recipe), expected)


def test_a_muted_stem_takes_its_effects_with_it(four_tones: ToyPack) -> None:
    recipe = four_tones.recipe().with_stem("vocals", mute=True, chain=(effects.preset_effect("Reverb", "Hall"),))
    expected = four_tones.arrays["drums"] + four_tones.arrays["bass"] + four_tones.arrays["keys"]
    assert np.array_equal(render(four_tones, recipe), expected)


def test_solo_plays_only_the_soloed_stems(four_tones: ToyPack) -> None:
    recipe = four_tones.recipe().with_stem("bass", solo=True).with_stem("keys", solo=True, gain_db=-6.0)
    expected = four_tones.arrays["bass"] + four_tones.arrays["keys"] * np.float32(10 ** (-6 / 20))
    assert np.allclose(render(four_tones, recipe), expected, atol=1e-7)
    assert np.array_equal(
        render(four_tones, four_tones.recipe().with_stem("bass", solo=True)), four_tones.arrays["bass"]
    )


def test_a_stem_the_recipe_leaves_out_is_silent(four_tones: ToyPack) -> None:
    recipe = Recipe(four_tones.manifest.id, four_tones.manifest.pack_hash(), stems=four_tones.recipe().stems[1:])
    expected = four_tones.arrays["drums"] + four_tones.arrays["bass"] + four_tones.arrays["keys"]
    assert np.array_equal(render(four_tones, recipe), expected)


@pytest.fixture
def steady(make_pack: PackFactory) -> ToyPack:
    """A constant (DC) stem: the output is then the gain itself, sample by sample."""
    level = np.full((SAMPLE_RATE, 2), 0.1, dtype=np.float32)
    return make_pack({"dc": ("keys", level), "other": ("drums", np.zeros_like(level))})


def test_gain_changes_ramp_linearly_over_10_ms_and_do_not_depend_on_block_size(steady: ToyPack) -> None:
    ramp = round(RAMP_SECONDS * SAMPLE_RATE)
    outputs = []
    for block in (64, 512):
        with RenderGraph(steady.manifest, steady.arrays, steady.recipe()) as graph:
            before = np.concatenate([graph.render_block(block) for _ in range(4096 // block)])
            graph.update(steady.recipe().with_stem("dc", gain_db=6.0))
            after = np.concatenate([graph.render_block(block) for _ in range(4096 // block)])
        outputs.append(np.concatenate([before, after]))
    assert np.array_equal(outputs[0], outputs[1])
    out = outputs[0][:, 0].astype(np.float64)
    assert np.all(out[:4096] == np.float32(0.1))
    target = 0.1 * 10 ** (6 / 20)
    ramp_part = out[4096 : 4096 + ramp]
    expected = 0.1 + (target - 0.1) * np.arange(1, ramp + 1) / ramp
    assert np.allclose(ramp_part, expected, atol=1e-6)
    assert np.max(np.abs(np.diff(out[4090 : 4096 + ramp + 10]))) < 1.5 * (target - 0.1) / ramp  # no step anywhere
    assert np.allclose(out[4096 + ramp :], target, atol=1e-7)


def test_mute_fades_out_over_10_ms_then_is_exactly_silent(steady: ToyPack) -> None:
    ramp = round(RAMP_SECONDS * SAMPLE_RATE)
    with RenderGraph(steady.manifest, steady.arrays, steady.recipe()) as graph:
        graph.render_block(1024)
        graph.update(steady.recipe().with_stem("dc", mute=True))
        out = graph.render_block(4096)[:, 0]
        graph.update(steady.recipe())
        back = graph.render_block(4096)[:, 0]
    assert out[0] < 0.1 and out[ramp // 2] == pytest.approx(0.05, abs=0.001)
    assert np.all(np.diff(out[:ramp]) < 0)
    assert np.all(out[ramp:] == 0.0)
    assert back[ramp:].min() == np.float32(0.1) and np.all(np.diff(back[:ramp]) > 0)


def test_an_update_that_leaves_a_chain_alone_keeps_its_state(make_pack: PackFactory) -> None:
    burst = tone(500.0, 2.0, 0.3)
    burst[SAMPLE_RATE // 4 :] = 0.0  # a quarter second of sound, then the reverb tail alone
    pack = make_pack({"lead": ("vocals", burst), "pad": ("keys", tone(200.0, 2.0, 0.2))})
    recipe = (
        pack.recipe().with_stem("lead", chain=(effects.preset_effect("Reverb", "Hall"),)).with_stem("pad", mute=True)
    )
    with RenderGraph(pack.manifest, pack.arrays, recipe) as untouched:
        reference = np.concatenate([untouched.render_block(4096) for _ in range(10)])
    with RenderGraph(pack.manifest, pack.arrays, recipe) as graph:
        first = np.concatenate([graph.render_block(4096) for _ in range(5)])
        graph.update(recipe.with_stem("pad", gain_db=-12.0))  # another stem, and it is muted: nothing audible changes
        second = np.concatenate([graph.render_block(4096) for _ in range(5)])
    assert np.array_equal(np.concatenate([first, second]), reference)


def test_turning_a_knob_keeps_the_reverb_tail_and_changing_the_chain_rebuilds_it(make_pack: PackFactory) -> None:
    burst = tone(500.0, 2.0, 0.3)
    burst[SAMPLE_RATE // 4 :] = 0.0
    pack = make_pack({"lead": ("vocals", burst)})
    hall = effects.preset_effect("Reverb", "Hall")
    recipe = pack.recipe().with_stem("lead", chain=(hall,))
    with RenderGraph(pack.manifest, pack.arrays, recipe) as graph:
        graph.render_block(SAMPLE_RATE // 2)  # the burst is over; only the tail is left
        graph.update(recipe.with_stem("lead", chain=(hall.with_param("room_size", 0.9),)))
        retuned = graph.render_block(4410)
        graph.update(recipe.with_stem("lead", chain=(hall, Effect.of("Gain", gain_db=0.0))))
        rebuilt = graph.render_block(4410)
    assert np.sqrt(np.mean(retuned**2)) > 1e-3  # the tail rings on through the parameter change
    assert np.max(np.abs(rebuilt)) < 1e-6  # a new chain starts from silence, and the input is silent


def test_updates_queued_between_blocks_are_all_taken_in_order(four_tones: ToyPack) -> None:
    start = four_tones.recipe()
    hall = effects.preset_effect("Reverb", "Hall")
    rebuilt = start.with_stem("vocals", chain=(hall,))
    retuned = start.with_stem("vocals", chain=(hall.with_param("room_size", 0.95),))
    with RenderGraph(four_tones.manifest, four_tones.arrays, start) as stepwise:
        stepwise.render_block(4096)
        stepwise.update(rebuilt)  # builds a new chain ...
        stepwise.update(retuned)  # ... and retunes that new chain before it has played a block
        stepwise_out = stepwise.render_block(8192)
        assert stepwise.recipe == retuned
    with RenderGraph(four_tones.manifest, four_tones.arrays, start) as direct:
        direct.render_block(4096)
        direct.update(retuned)
        direct_out = direct.render_block(8192)
    assert np.array_equal(stepwise_out, direct_out)


def test_updates_from_another_thread_while_blocks_render(four_tones: ToyPack) -> None:
    recipes = [busy_recipe(four_tones).with_stem("vocals", gain_db=float(-i % 7)) for i in range(40)]
    with RenderGraph(four_tones.manifest, four_tones.arrays, recipes[0]) as graph:
        editor = threading.Thread(target=lambda: [graph.update(r) for r in recipes])
        editor.start()
        blocks = [graph.render_block(512) for _ in range(100)]
        editor.join()
        graph.render_block(512)
        assert graph.recipe == recipes[-1]
    assert all(np.isfinite(b).all() for b in blocks)


def test_a_bad_update_is_refused_and_the_graph_plays_on(four_tones: ToyPack) -> None:
    recipe = busy_recipe(four_tones)
    with RenderGraph(four_tones.manifest, four_tones.arrays, recipe) as graph:
        first = graph.render_block(4096)
        with pytest.raises(EffectError, match="Reverb on stem 'vocals'"):
            graph.update(recipe.with_stem("vocals", chain=(Effect.of("Reverb", room_size=7.0),)))
        second = graph.render_block(4096)
    assert np.array_equal(np.concatenate([first, second]), render(four_tones, recipe)[:8192])


def test_seek_resets_state_like_a_fresh_graph(four_tones: ToyPack) -> None:
    recipe = busy_recipe(four_tones)
    with RenderGraph(four_tones.manifest, four_tones.arrays, recipe) as played:
        played.render_block(30000)
        played.seek(10000)
        after_seek = played.render_block(8192)
        assert played.position == 18192
    with RenderGraph(four_tones.manifest, four_tones.arrays, recipe) as fresh:
        fresh.seek(10000)
        assert np.array_equal(after_seek, fresh.render_block(8192))


def test_jump_keeps_the_tails_where_seek_clears_them(make_pack: PackFactory) -> None:
    burst = tone(500.0, 1.0, 0.3)
    burst[SAMPLE_RATE // 4 :] = 0.0
    pack = make_pack({"lead": ("vocals", burst)})
    recipe = pack.recipe().with_stem("lead", chain=(effects.preset_effect("Reverb", "Hall"),))
    with RenderGraph(pack.manifest, pack.arrays, recipe) as graph:
        graph.render_block(SAMPLE_RATE // 2)
        graph.jump(SAMPLE_RATE // 2 + 4410)  # into the silence: only the tail can be heard
        assert graph.position == SAMPLE_RATE // 2 + 4410
        kept = graph.render_block(2048)
        graph.seek(SAMPLE_RATE // 2 + 4410)
        cleared = graph.render_block(2048)
    assert np.sqrt(np.mean(kept**2)) > 1e-3
    assert not cleared.any()


def test_master_chain_waits_for_the_stretch_when_tempo_or_key_change(four_tones: ToyPack) -> None:
    master = (effects.preset_effect("Distortion"),)
    stretched = four_tones.recipe(tempo_ratio=1.1).with_chain("master", master)
    with RenderGraph(four_tones.manifest, four_tones.arrays, stretched) as graph:
        assert not graph.master_in_block
        without_master = graph.render_block(4096)
        processed = graph.process_master(np.ascontiguousarray(without_master.T))
    assert np.array_equal(without_master, render(four_tones, four_tones.recipe())[:4096])
    assert not np.allclose(processed.T, without_master)
    with RenderGraph(four_tones.manifest, four_tones.arrays, stretched.with_chain("master", master)) as graph:
        graph.update(four_tones.recipe().with_chain("master", master))
        graph.render_block(64)
        assert graph.master_in_block


def test_the_graph_refuses_unknown_stems_and_tiny_blocks(four_tones: ToyPack) -> None:
    recipe = four_tones.recipe()
    bad = Recipe(recipe.pack_id, recipe.pack_hash, stems=(*recipe.stems, recipe.stems[0].__class__("ghost")))
    with pytest.raises(RecipeError, match="ghost"):
        RenderGraph(four_tones.manifest, four_tones.arrays, bad)
    with RenderGraph(four_tones.manifest, four_tones.arrays, recipe) as graph, pytest.raises(ValueError):
        graph.render_block(MIN_BLOCK_FRAMES - 1)


def test_rendering_past_the_end_gives_silence_and_effect_tails(make_pack: PackFactory) -> None:
    pack = make_pack({"lead": ("vocals", program(0.5))})
    dry = pack.recipe()
    with RenderGraph(pack.manifest, pack.arrays, dry) as graph:
        graph.seek(pack.manifest.stems[0].frames)
        assert not graph.render_block(1024).any()
    wet = dry.with_stem("lead", chain=(effects.preset_effect("Delay", "Long Echo"),))
    with RenderGraph(pack.manifest, pack.arrays, wet, block_frames=SAMPLE_RATE) as graph:
        graph.render_block(pack.manifest.stems[0].frames)
        assert np.max(np.abs(graph.render_block(SAMPLE_RATE))) > 1e-3
