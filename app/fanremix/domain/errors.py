"""Typed errors. Each message is a sentence a person can act on."""


class FanRemixError(Exception):
    """Base of every error the app reports to a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class FormatError(FanRemixError):
    """A versioned JSON document is malformed or from an unknown version."""


class PackError(FanRemixError):
    """A stem pack was refused. Subclasses say why."""


class UnsafeArchiveError(PackError):
    """The zip holds an absolute path, a '..', a link, a duplicate name or a device file."""


class ArchiveTooLargeError(PackError):
    """A member, the whole archive or a compression ratio is beyond the stated bounds."""


class CorruptArchiveError(PackError):
    """The file is not a readable zip archive, or a member fails its CRC check."""


class PackSchemaError(PackError, FormatError):
    """pack.json is not valid JSON or does not match the manifest schema."""


class MissingFileError(PackError):
    """A file named in pack.json is not in the pack."""


class UnexpectedFileError(PackError):
    """The pack holds a file pack.json does not name."""


class HashMismatchError(PackError):
    """A stem's bytes do not match the sha256 in pack.json."""


class UntrustedKeyError(PackError):
    """The pack is signed by a key this machine does not trust."""


class BadSignatureError(PackError):
    """The signature does not match the manifest: pack.json was changed after signing."""


class UnsignedPackError(PackError):
    """The pack carries no signature."""


class StemFormatError(PackError):
    """A stem's audio does not match what pack.json declares, or stems disagree with each other."""


class PolicyError(FormatError):
    """A remix policy is malformed or contradicts itself."""


class RecipeError(FormatError):
    """A recipe is malformed or refers to stems that are not in the pack."""


class KeyringError(FanRemixError):
    """A publisher key file is unreadable or of the wrong kind."""
