import pytest

from fanremix.domain.errors import FormatError
from fanremix.domain.music import MusicalKey, format_isrc, normalise_isrc


@pytest.mark.parametrize(
    ("text", "name"),
    [("A minor", "A minor"), ("am", "A minor"), ("Eb major", "Eb major"), ("D#", "Eb major"), ("F# min", "F# minor")],
)
def test_keys_parse_and_spell(text, name) -> None:
    assert MusicalKey.parse(text).name == name


def test_transposition_wraps_and_respells() -> None:
    assert MusicalKey.parse("A minor").transposed(3).name == "C minor"
    assert MusicalKey.parse("A minor").transposed(-3).name == "F# minor"
    assert MusicalKey.parse("C major").transposed(-2).name == "Bb major"


def test_bad_key_is_explained() -> None:
    with pytest.raises(FormatError, match="not a musical key"):
        MusicalKey.parse("H minor")


def test_isrc_normalises_and_validates() -> None:
    assert normalise_isrc("gb-xyz-26-00001") == "GBXYZ2600001"
    assert format_isrc("GBXYZ2600001") == "GB-XYZ-26-00001"
    for bad in ("GB-XYZ-26-0001", "1B-XYZ-26-00001", "GB-XY!-26-00001", ""):
        with pytest.raises(FormatError, match="not an ISRC"):
            normalise_isrc(bad)
