"""Musical keys and ISRC codes: parsing, validation and transposition."""

import re
from dataclasses import dataclass

from .errors import FormatError

_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_NOTE_INDEX = {name: i for i, name in enumerate(_SHARP_NAMES)} | {name: i for i, name in enumerate(_FLAT_NAMES)}
_KEY_PATTERN = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)\s*(major|minor|maj|min|m)?\s*$")
# Keys conventionally spelled with flats; everything else is spelled with sharps.
_FLAT_MAJOR_TONICS = {5, 10, 3, 8, 1}  # F, Bb, Eb, Ab, Db
_FLAT_MINOR_TONICS = {2, 7, 0, 5, 10}  # D, G, C, F, Bb minor


@dataclass(frozen=True)
class MusicalKey:
    tonic: int  # pitch class, 0 = C
    minor: bool

    @classmethod
    def parse(cls, text: str) -> "MusicalKey":
        match = _KEY_PATTERN.match(text or "")
        if not match:
            raise FormatError(f"'{text}' is not a musical key. Write it like 'A minor' or 'Eb major'.")
        letter, accidental, mode = match.groups()
        accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
        tonic = (_NOTE_INDEX[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
        return cls(tonic=tonic, minor=mode in ("minor", "min", "m"))

    def transposed(self, semitones: float) -> "MusicalKey":
        return MusicalKey(tonic=(self.tonic + round(semitones)) % 12, minor=self.minor)

    @property
    def name(self) -> str:
        flats = _FLAT_MINOR_TONICS if self.minor else _FLAT_MAJOR_TONICS
        names = _FLAT_NAMES if self.tonic in flats else _SHARP_NAMES
        return f"{names[self.tonic]} {'minor' if self.minor else 'major'}"

    def __str__(self) -> str:
        return self.name


_ISRC_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{2}[0-9]{5}$")


def normalise_isrc(text: str) -> str:
    """Return the 12-character ISO 3901 form (CC-XXX-YY-NNNNN without hyphens), or raise."""
    compact = re.sub(r"[\s-]", "", text or "").upper()
    if not _ISRC_PATTERN.match(compact):
        raise FormatError(
            f"'{text}' is not an ISRC. An ISRC has 12 characters: a 2-letter country code, a 3-character "
            "registrant code, 2 digits of year and 5 digits of designation, e.g. 'GB-XYZ-26-00001'."
        )
    return compact


def format_isrc(isrc: str) -> str:
    compact = normalise_isrc(isrc)
    return f"{compact[:2]}-{compact[2:5]}-{compact[5:7]}-{compact[7:]}"
