"""Starting points for a pack's remix policy."""

from .errors import PolicyError
from .policy import Policy, Range, RoleRule, Share


def demo(attribution: str = "Original song and stems by The Fan Remix House Band") -> Policy:
    return Policy(
        uid="urn:fanremix:policy:demo",
        tempo_ratio=Range(0.8, 1.25),
        pitch_semitones=Range(-3, 3),
        role_rules=(RoleRule("vocals", may_solo=False, may_export_alone=False),),
        min_audible_stems=2,
        attribution=attribution,
        revenue_split=(Share("Rightsholders", 70.0), Share("Remixer", 30.0)),
    )


def open_remix(attribution: str = "Original by the artist") -> Policy:
    return Policy(
        uid="urn:fanremix:policy:open",
        tempo_ratio=Range(0.5, 2.0),
        pitch_semitones=Range(-12, 12),
        attribution=attribution,
        distribute_outside_platform=True,
    )


def platform_only(attribution: str = "Original by the artist") -> Policy:
    return Policy(
        uid="urn:fanremix:policy:platform-only",
        tempo_ratio=Range(0.75, 1.33),
        pitch_semitones=Range(-5, 5),
        min_audible_stems=2,
        attribution=attribution,
        revenue_split=(Share("Rightsholders", 50.0), Share("Remixer", 50.0)),
    )


def strict(attribution: str = "Original by the artist") -> Policy:
    return Policy(
        uid="urn:fanremix:policy:strict",
        tempo_ratio=Range(0.9, 1.1),
        pitch_semitones=Range(-2, 2),
        denied_effects=("Distortion", "Bitcrush", "Clipping"),
        role_rules=(
            RoleRule("vocals", may_solo=False, may_mute=False, may_export_alone=False, must_stay_audible=True),
        ),
        min_audible_stems=3,
        attribution=attribution,
        revenue_split=(Share("Rightsholders", 80.0), Share("Remixer", 20.0)),
    )


TEMPLATES = {"demo": demo, "open": open_remix, "platform-only": platform_only, "strict": strict}


def from_template(name: str, attribution: str | None = None) -> Policy:
    try:
        factory = TEMPLATES[name]
    except KeyError:
        raise PolicyError(f"No policy template '{name}'. Templates: {', '.join(TEMPLATES)}.") from None
    return factory(attribution) if attribution else factory()
