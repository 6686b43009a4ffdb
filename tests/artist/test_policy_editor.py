"""The policy editor: templates round-trip unchanged, the words are the fans' words, a bad split cannot be saved."""

import datetime as dt

import pytest

from fanremix.domain import policy_templates
from fanremix.domain.errors import PolicyError
from fanremix.domain.policy import Policy, Range, RoleRule, Share
from fanremix.gui.artist.policy_editor import TEMPLATE_LABELS, PolicyEditor

from .conftest import save_artifact


@pytest.fixture
def editor(qtbot, themed_app) -> PolicyEditor:
    widget = PolicyEditor()
    qtbot.addWidget(widget)
    widget.resize(1240, 720)
    widget.show()
    return widget


def test_every_template_round_trips_through_the_editor_unchanged(qtbot, editor, tmp_path) -> None:
    for name in TEMPLATE_LABELS:
        template = policy_templates.from_template(name)
        editor.template_combo.setCurrentIndex(editor.template_combo.findData(name))
        editor.apply_template_button.click()
        assert editor.policy() == template
        # touching a control and putting it back leaves the policy exactly as it was
        for check in (editor.role_boxes[("vocals", "may_solo")], editor.effect_boxes["Reverb"], editor.commercial):
            check.click()
            assert editor.policy() != template
            check.click()
        assert editor.policy() == template
        # and through the policy file: saved, loaded, still the same
        path = tmp_path / f"{name}.json"
        assert editor.save_to(path)
        editor.set_policy(policy_templates.open_remix())
        assert editor.load_from(path)
        assert editor.policy() == template == Policy.from_json(path.read_bytes())


def test_a_policy_with_every_field_set_round_trips_too(editor) -> None:
    policy = Policy(
        uid="urn:label:policy:7",
        tempo_ratio=Range(0.875, 1.333),
        pitch_semitones=Range(-1, 4),
        allowed_effects=("Reverb", "Delay", "LowpassFilter"),
        role_rules=(RoleRule("drums", may_solo=False), RoleRule("vocals", must_stay_audible=True)),
        min_audible_stems=3,
        min_length_s=30.0,
        max_length_s=240.0,
        valid_from=dt.date(2026, 6, 1),
        valid_until=dt.date(2027, 5, 31),
        attribution="Original by Label Artist",
        revenue_split=(Share("Label", 60.0), Share("Artist", 25.5), Share("Remixer", 14.5)),
        distribute_outside_platform=True,
        commercial_use=True,
        ai_training=True,
    )
    editor.set_policy(policy)
    assert editor.policy() == policy
    editor.effect_boxes["Delay"].click()
    assert editor.policy().allowed_effects == ("Reverb", "LowpassFilter")
    editor.effect_boxes["Delay"].click()
    assert editor.policy() == policy


def test_the_controls_write_the_policy_and_the_words_are_what_fans_read(qtbot, editor) -> None:
    editor.set_policy(policy_templates.open_remix())
    editor.set_context("Night Drive", ("The Owls",), {"vocals", "drums", "bass"})
    editor.tempo_row.sliders[0].setValue(90)  # 90 %
    editor.tempo_row.spins[1].setValue(115.0)
    editor.pitch_row.sliders[0].setValue(-2)
    editor.pitch_row.sliders[1].setValue(-3)  # below the lowest: the lowest follows
    editor.effect_mode.setCurrentIndex(editor.effect_mode.findData("allow"))
    for kind, check in editor.effect_boxes.items():
        check.setChecked(kind in ("Reverb", "Delay"))
    editor.role_boxes[("vocals", "may_solo")].click()
    editor.role_boxes[("vocals", "must_stay_audible")].click()
    editor.length_checks["max_length_s"].click()
    editor.length_spins["max_length_s"].setValue(180)
    editor.distribution.setCurrentIndex(0)
    editor.add_share("Label", 70.0)
    editor.add_share("Remixer", 30.0)
    policy = editor.policy()
    assert (policy.tempo_ratio, policy.pitch_semitones) == (Range(0.9, 1.15), Range(-3, -3))
    assert policy.allowed_effects == ("Reverb", "Delay") and policy.denied_effects == ()
    assert policy.role_rules == (RoleRule("vocals", may_solo=False, must_stay_audible=True),)
    assert policy.max_length_s == 180.0 and not policy.distribute_outside_platform
    assert policy.revenue_split == (Share("Label", 70.0), Share("Remixer", 30.0))
    with qtbot.waitSignal(editor.words_timer.timeout):
        pass
    words = editor.words_text()
    assert words == "\n".join("\n".join(items) for items in policy.describe().values())
    assert "Soloing the vocals." in words and "Revenue is shared: Label 70%, Remixer 30%." in words
    assert editor.role_labels["guitar"].text() == "Guitar (not in this pack)"


def test_a_split_that_does_not_add_up_to_100_cannot_be_saved(qtbot, editor, tmp_path) -> None:
    editor.set_policy(policy_templates.demo())
    editor.set_share(1, percent=20.0)  # Rightsholders 70 + Remixer 20
    assert editor.split_total.text() == "Total: 90 %"
    assert "The revenue split adds up to 90%, not 100%." in editor.problem_label.text()
    assert not editor.save_button.isEnabled()
    with pytest.raises(PolicyError, match="adds up to 90%"):
        editor.policy()
    path = tmp_path / "policy.json"
    assert not editor.save_to(path)
    assert not path.exists()
    editor.add_share("Producer", 10.0)
    assert editor.save_button.isEnabled() and editor.problem_label.text() == ""
    assert editor.policy().revenue_split == (
        Share("Rightsholders", 70.0),
        Share("Remixer", 20.0),
        Share("Producer", 10.0),
    )
    editor.set_share(2, party="")
    assert "needs a name" in editor.problem_label.text() and not editor.save_button.isEnabled()
    editor.set_share(2, party="Producer")
    assert editor.save_to(path)


def test_a_bad_split_also_stops_the_build_in_the_window(qtbot, artist_window) -> None:
    window, editor = artist_window, artist_window.editor
    builder = window.builder
    builder.title_edit.setText("Night Drive")
    builder._title_edited("Night Drive")
    builder.artists_edit.setText("The Owls")
    builder.artists_edit.textEdited.emit("The Owls")
    window.show_page(1)
    with qtbot.waitSignal(editor.words_timer.timeout):
        editor.set_share(0, percent=10.0)  # platform-only: 10 + 50
    assert builder.policy is None
    assert not editor.words_panel.isEnabled() and "Revenue is shared" in editor.words_text()
    assert "adds up to 60%" in builder.build_button.toolTip()
    bar = editor.form_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    save_artifact(window, "artist-policy-editor-split")
    with qtbot.waitSignal(editor.words_timer.timeout):
        editor.set_share(0, percent=50.0)
    assert builder.policy == editor.policy()
    bar.setValue(0)
    save_artifact(window, "artist-policy-editor")
