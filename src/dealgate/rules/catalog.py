"""Where rule packs are found: `--rules` paths, the team's `./rules`, then the bundled packs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dealgate.errors import InputError
from dealgate.yamlsafe import YamlDocument, read_yaml_file

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
    """Pack files by id, searched in order: explicit paths, ./rules, bundled.

    A pack is looked for first under its own file name (`<id>.yaml`), which reads one file;
    every file is read only when that fails or the full list is asked for.
    """

    def __init__(
        self, extra: Sequence[Path] = (), *, cwd: Path | None = None, include_bundled: bool = True
    ) -> None:
        places: list[tuple[Path, str]] = [(path, str(path)) for path in extra]
        local = (cwd or Path.cwd()) / "rules"
        if local.is_dir():
            places.append((local, "./rules"))
        if include_bundled:
            places.append((bundled_rules_dir(), BUNDLED))
        self._places = places
        self._entries: list[PackEntry] | None = None
        self._read: dict[Path, PackEntry] = {}
        self._documents: dict[Path, YamlDocument] = {}

    def entries(self) -> list[PackEntry]:
        """Every pack file found; a pack id found twice is listed where it wins first."""
        if self._entries is None:
            self._entries = [self._entry(path, origin) for path, origin in _files(self._places)]
        return list(self._entries)

    def find(self, pack_id: str, *, exclude: Iterable[Path] = ()) -> PackEntry | None:
        """The first pack with this id, skipping the given files (a pack may shadow its base)."""
        skipped = {path.resolve() for path in exclude}
        for place, origin in self._places:
            for suffix in PACK_SUFFIXES:
                path = place / f"{pack_id}{suffix}" if place.is_dir() else place
                if path.is_file() and path.resolve() not in skipped:
                    entry = self._entry(path, origin)
                    if entry.pack_id == pack_id:
                        return entry
        for entry in self.entries():  # a pack whose file is named differently
            if entry.pack_id == pack_id and entry.path.resolve() not in skipped:
                return entry
        return None

    def ids(self) -> list[str]:
        return sorted({entry.pack_id for entry in self.entries()})

    def document(self, path: Path) -> YamlDocument:
        """A pack file, parsed once: finding a pack by its id parses the file, and loading the
        pack then reuses that parse (a YAML parse is most of what loading a pack costs)."""
        if path not in self._documents:
            self._documents[path] = read_yaml_file(path)
        return self._documents[path]

    def _entry(self, path: Path, origin: str) -> PackEntry:
        key = path.resolve()
        if key not in self._read:
            self._read[key] = _entry(path, origin, self.document)
        return self._read[key]


def pack_files(folder: Path) -> list[Path]:
    """The pack files directly inside a folder (its tests/ subfolder holds test cases)."""
    return sorted(
        path for path in folder.iterdir() if path.is_file() and path.suffix in PACK_SUFFIXES
    )


def _files(places: Sequence[tuple[Path, str]]) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for place, origin in places:
        found = pack_files(place) if place.is_dir() else [place] if place.is_file() else []
        for path in found:
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append((path, origin))
    return files


def _entry(path: Path, origin: str, read: Callable[[Path], YamlDocument]) -> PackEntry:
    try:
        value = read(path).value
    except InputError as error:
        return PackEntry(path.stem, path, origin, problem=str(error.problems[0]))
    if not isinstance(value, dict) or not isinstance(value.get("pack"), str):
        return PackEntry(path.stem, path, origin, problem="not a rule pack (no 'pack' key)")
    title = value.get("title")
    return PackEntry(value["pack"], path, origin, title if isinstance(title, str) else "")
