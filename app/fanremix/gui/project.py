"""The `.fanremix` project file: a recipe plus the pack it belongs to (by id, hash and where it was on disk).

    {"format": 1, "kind": "fanremix-project", "pack": {"id": ..., "hash": ..., "path": ...},
     "recipe": {...the recipe's own versioned JSON...}, "saved_at": "...", "app_version": "..."}

The recipe keeps its own `format`; the project's `format` covers only the wrapper. Writes are atomic. No Qt here:
the window calls these functions, the tests call them directly.
"""

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fanremix import __version__
from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import FormatError
from fanremix.domain.recipe import Recipe
from fanremix.domain.versioning import migrate

PROJECT_FORMAT = 1
PROJECT_KIND = "fanremix-project"
PROJECT_SUFFIX = ".fanremix"
AUTOSAVE_NAME = "session" + PROJECT_SUFFIX


class ProjectError(FormatError):
    """A project file cannot be read, or its pack cannot be found."""


@dataclass(frozen=True)
class Project:
    recipe: Recipe
    pack_path: Path | None
    pack_id: str
    pack_hash: str
    project_path: Path | None = None  # for an autosave: the project it was autosaving, if any
    title: str | None = None  # the song's title, for messages only

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": PROJECT_FORMAT,
            "kind": PROJECT_KIND,
            "pack": {
                "id": self.pack_id,
                "hash": self.pack_hash,
                "path": None if self.pack_path is None else str(self.pack_path),
            },
            "recipe": self.recipe.to_dict(),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "app_version": __version__,
        }
        if self.project_path is not None:
            data["project_path"] = str(self.project_path)
        if self.title:
            data["pack"]["title"] = self.title
        return data

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> "Project":
        data = migrate(raw, kind="project", current=PROJECT_FORMAT, migrations=MIGRATIONS, error=ProjectError)
        if data.get("kind") != PROJECT_KIND:
            raise ProjectError(f"{where} is not a Fan Remix Studio project.")
        pack = data.get("pack")
        if not isinstance(pack, dict) or not isinstance(pack.get("id"), str) or not isinstance(pack.get("hash"), str):
            raise ProjectError(f"{where} does not say which stem pack it belongs to.")
        recipe = Recipe.from_dict(data.get("recipe"))
        if (recipe.pack_id, recipe.pack_hash) != (pack["id"], pack["hash"]):
            raise ProjectError(f"{where}: the recipe and the project name different packs.")
        path = pack.get("path")
        project_path = data.get("project_path")
        title = pack.get("title")
        return cls(
            recipe=recipe,
            pack_path=Path(path) if isinstance(path, str) and path else None,
            pack_id=pack["id"],
            pack_hash=pack["hash"],
            project_path=Path(project_path) if isinstance(project_path, str) and project_path else None,
            title=title if isinstance(title, str) else None,
        )

    def candidate_pack_paths(self, project_file: Path | None, fallbacks: tuple[Path, ...] = ()) -> list[Path]:
        """Where to look for the pack: the saved path, the same name beside the project, then `fallbacks`."""
        seen: list[Path] = []
        if self.pack_path is not None:
            seen.append(self.pack_path)
            if project_file is not None and not self.pack_path.is_absolute():
                seen.append(project_file.parent / self.pack_path)
            if project_file is not None:
                seen.append(project_file.parent / self.pack_path.name)
        seen.extend(fallbacks)
        unique: list[Path] = []
        for path in seen:
            if path not in unique:
                unique.append(path)
        return unique


def save_project(path: Path, project: Project) -> None:
    text = json.dumps(project.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def load_project(path: Path) -> Project:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ProjectError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise ProjectError(f"{path} is not a Fan Remix Studio project (it is not valid JSON).") from None
    return Project.from_dict(raw, str(path))


def with_project_suffix(path: Path) -> Path:
    return path if path.suffix == PROJECT_SUFFIX else path.with_name(path.name + PROJECT_SUFFIX)


def is_project_file(path: Path) -> bool:
    return Path(path).suffix.lower() == PROJECT_SUFFIX


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


MIGRATIONS: dict[int, Any] = {}
