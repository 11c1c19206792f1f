"""Where rule packs are found: `--rules` paths, the team's `./rules`, then the bundled packs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dealgate.errors import InputError
from dealgate.yamlsafe import read_yaml_file

PACK_SUFFIXES = (".yaml", ".yml")
BUNDLED = "bundled"


def bundled_rules_dir() -> Path:
    """The packs shipped with dealgate: inside the wheel, or the checkout's top-level rules/."""
    package_dir = Path(__file__).resolve().parent.parent
    packaged = package_dir / "_bundled_rules"
    if packaged.is_dir():
        return packaged
    return package_dir.parent.parent / "rules"


@dataclass(frozen=True)
class PackEntry:
    """A pack file known to the catalog."""

    pack_id: str
    path: Path
    origin: str  # "bundled", or the folder it was found in
    title: str = ""
    problem: str = ""  # why the file could not even be read, if so


class PackCatalog:
    """Pack files by id, searched in order: explicit paths, ./rules, bundled."""

    def __init__(
        self, extra: Sequence[Path] = (), *, cwd: Path | None = None, include_bundled: bool = True
    ) -> None:
        places: list[tuple[Path, str]] = [(path, str(path)) for path in extra]
        local = (cwd or Path.cwd()) / "rules"
        if local.is_dir():
            places.append((local, "./rules"))
        if include_bundled:
            places.append((bundled_rules_dir(), BUNDLED))
        self._entries = _scan(places)

    def entries(self) -> list[PackEntry]:
        """Every pack file found; a pack id found twice is listed where it wins first."""
        return list(self._entries)

    def find(self, pack_id: str, *, exclude: Iterable[Path] = ()) -> PackEntry | None:
        """The first pack with this id, skipping the given files (a pack may shadow its base)."""
        skipped = {path.resolve() for path in exclude}
        for entry in self._entries:
            if entry.pack_id == pack_id and entry.path.resolve() not in skipped:
                return entry
        return None

    def ids(self) -> list[str]:
        return sorted({entry.pack_id for entry in self._entries})


def pack_files(folder: Path) -> list[Path]:
    """The pack files directly inside a folder (its tests/ subfolder holds test cases)."""
    return sorted(
        path for path in folder.iterdir() if path.is_file() and path.suffix in PACK_SUFFIXES
    )


def _scan(places: Sequence[tuple[Path, str]]) -> list[PackEntry]:
    entries: list[PackEntry] = []
    seen: set[Path] = set()
    for place, origin in places:
        files = pack_files(place) if place.is_dir() else [place] if place.is_file() else []
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            entries.append(_entry(path, origin))
    return entries


def _entry(path: Path, origin: str) -> PackEntry:
    try:
        value = read_yaml_file(path).value
    except InputError as error:
        return PackEntry(path.stem, path, origin, problem=str(error.problems[0]))
    if not isinstance(value, dict) or not isinstance(value.get("pack"), str):
        return PackEntry(path.stem, path, origin, problem="not a rule pack (no 'pack' key)")
    title = value.get("title")
    return PackEntry(value["pack"], path, origin, title if isinstance(title, str) else "")
