"""The desktop app's own settings, declared once with their defaults, kept as JSON in the user config folder.

QSettings is not used on purpose: it would write to the platform's own location and ignore the FANREMIX_*_DIR
overrides that keep tests (and portable installs) in their own folders.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fanremix.domain.atomic import atomic_write_bytes

SETTINGS_FILE = "gui.json"
MAX_RECENT = 8
BLOCK_SIZES = (128, 256, 512, 1024, 2048)


@dataclass(frozen=True)
class GuiSettings:
    recent_files: tuple[str, ...] = ()
    output_device: str | None = None  # None: the system default
    block_frames: int = 512
    export_format: str = "wav24"
    export_loudness: float | None = -14.0
    export_folder: str | None = None
    window_geometry: str | None = None  # base64 of QMainWindow.saveGeometry()
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> "GuiSettings":
        path = Path(folder) / SETTINGS_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        defaults = cls()
        values: dict[str, Any] = {}
        for name, default in asdict(defaults).items():
            value = raw.get(name, default)
            if name == "recent_files":
                value = (
                    tuple(str(v) for v in value if isinstance(v, str))[:MAX_RECENT] if isinstance(value, list) else ()
                )
            elif name == "block_frames":
                value = value if value in BLOCK_SIZES else defaults.block_frames
            elif name == "export_loudness":
                value = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            elif name == "extra":
                value = value if isinstance(value, dict) else {}
            elif value is not None and not isinstance(value, str):
                value = default
            values[name] = value
        return cls(**values)

    def save(self, folder: Path) -> None:
        data = asdict(self)
        data["recent_files"] = list(self.recent_files)
        atomic_write_bytes(Path(folder) / SETTINGS_FILE, json.dumps(data, indent=2).encode("utf-8"))

    def with_recent(self, path: Path) -> "GuiSettings":
        text = str(Path(path).resolve())
        recent = (text, *(p for p in self.recent_files if p != text))[:MAX_RECENT]
        return replace(self, recent_files=recent)

    def without_recent(self, path: str) -> "GuiSettings":
        return replace(self, recent_files=tuple(p for p in self.recent_files if p != path))

    def with_changes(self, **changes: Any) -> "GuiSettings":
        return replace(self, **changes)
