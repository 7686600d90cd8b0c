"""The documentation index: the API of the standard library and the installed packages, read statically.

    docs = DocsIndex.open(settings.cache)            # cache/index/docs-<environment key>.sqlite
    docs.build(progress=bar)                        # everything (reviewbot index docs)
    docs.ensure(["urllib3", "warnings"])            # just what a change imports, when missing or stale
    docs.add_repository(Path("."))                  # the repository's own docs and docstrings
    docs.resolve("urllib3.Retry")                   # -> the entry of urllib3.util.retry.Retry
    docs.search("retry backoff factor", k=5)        # BM25

Where modules come from: the standard library's folder (`sysconfig`'s `stdlib`, without its tests,
IDLE, tkinter, lib2to3, ensurepip, turtledemo and site-packages) and the environment's
site-packages folders, whose distributions are found through their `*.dist-info` metadata and their
RECORD file lists (`importlib.metadata` reads these files; it imports nothing from the packages).
Every module is parsed with `ast` (extract.py): no code from a package is imported or run, so
indexing an untrusted environment is safe. C extensions without Python source are not indexed.

One source per unit: `stdlib:<top-level module>` with the Python version, `dist:<distribution>` with
its version. `ensure` and `build` redo a source only when its recorded version differs from the
installed one (the index is "rebuilt when package versions change", one package at a time), and drop
those no longer installed. `add_repository` adds a repository's README, `docs/**/*.md|rst` (by heading)
and its modules' API as `repo:<folder>`, redone when any of its files changed. The index file is keyed
by the interpreter's prefix and version, so two environments never share one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import sys
import sysconfig
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..ports import Progress
from .extract import ApiEntry, api_entries
from .search_db import Hit, Row, SearchDb
from .text import keywords

STDLIB_SKIP = {
    "test",
    "tests",
    "idlelib",
    "lib2to3",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    "__pycache__",
    "venv",
    "__phello__",
    "pydoc_data",
}


@dataclass(frozen=True, slots=True)
class Environment:
    """Where an interpreter's modules live, read from its paths alone."""

    python: str  # version, e.g. 3.11.7
    stdlib: Path | None
    site: tuple[Path, ...] = ()

    @classmethod
    def current(cls) -> Environment:
        paths = sysconfig.get_paths()
        site = []
        for p in (paths.get("purelib"), paths.get("platlib"), *sys.path):
            if (
                p
                and Path(p).is_dir()
                and Path(p).name in ("site-packages", "dist-packages")
                and Path(p) not in site
            ):
                site.append(Path(p))
        stdlib = Path(paths["stdlib"]) if paths.get("stdlib") else None
        return cls(".".join(map(str, sys.version_info[:3])), stdlib, tuple(site))

    @property
    def key(self) -> str:
        text = "\n".join([self.python, str(self.stdlib), *map(str, self.site)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Unit:
    """One indexing unit: a stdlib top-level module, or an installed distribution."""

    source: str  # stdlib:os | dist:urllib3
    package: str  # python | urllib3 (the distribution's name)
    version: str
    files: tuple[tuple[str, Path, bool], ...]  # (module name, file, is a package __init__)


@dataclass(frozen=True, slots=True)
class BuildStats:
    units: int = 0
    rebuilt: int = 0
    entries: int = 0
    files: int = 0
    failed: int = 0  # files that did not parse
    seconds: float = 0.0
    size_bytes: int = 0
    dropped: tuple[str, ...] = field(default_factory=tuple)


def _module_name(rel: Path) -> tuple[str, bool] | None:
    parts = list(rel.with_suffix("").parts)
    if not parts or any(not p.isidentifier() for p in parts):
        return None
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return (".".join(parts), is_pkg) if parts else None


def _api_row(e: ApiEntry, rel: str, where: dict[str, str]) -> Row:
    """An entry of a module's documented API as a row; ``where``: its package and version."""
    extra = {
        **where,
        "params": e.params,
        "varkw": e.varkw,
        "deprecated": e.deprecated,
        "param_notes": dict(e.param_notes),
    }
    return Row(e.kind, e.name, rel, e.start, e.end, e.signature, e.doc, "", extra)


class DocsIndex:
    def __init__(self, store: SearchDb, env: Environment) -> None:
        self.store = store
        self.env = env
        self._units: dict[str, Unit] | None = None
        self._top: dict[str, str] | None = None  # top-level module -> source

    @classmethod
    def path_for(cls, cache: Path, env: Environment) -> Path:
        return cache / "index" / f"docs-{env.key}.sqlite"

    @classmethod
    def open(cls, cache: Path, env: Environment | None = None) -> DocsIndex:
        env = env or Environment.current()
        return cls(SearchDb.open(cls.path_for(cache, env), kind="docs"), env)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ what is installed
    def units(self) -> dict[str, Unit]:
        if self._units is None:
            self._units = {u.source: u for u in [*self._stdlib_units(), *self._dist_units()]}
            self._top = {}
            for u in self._units.values():
                for mod, _, _ in u.files:
                    self._top.setdefault(mod.split(".")[0], u.source)
        return self._units

    def _stdlib_units(self) -> list[Unit]:
        root = self.env.stdlib
        if root is None or not root.is_dir():
            return []
        groups: dict[str, list[tuple[str, Path, bool]]] = {}
        for f in sorted(root.rglob("*.py")):
            rel = f.relative_to(root)
            if rel.parts[0] in STDLIB_SKIP or any(p in STDLIB_SKIP for p in rel.parts[:-1]):
                continue
            named = _module_name(rel)
            if named is None:
                continue
            groups.setdefault(named[0].split(".")[0], []).append((named[0], f, named[1]))
        return [
            Unit(f"stdlib:{top}", "python", self.env.python, tuple(files)) for top, files in groups.items()
        ]

    def _dist_units(self) -> list[Unit]:
        out = []
        seen: set[str] = set()
        for dist in md.distributions(path=[str(p) for p in self.env.site]):
            name = (dist.metadata["Name"] or "").strip()
            if not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            files = []
            for rel in dist.files or ():
                if rel.suffix != ".py" or ".." in rel.parts:
                    continue
                named = _module_name(Path(rel))
                if named is not None:
                    files.append((named[0], Path(str(dist.locate_file(rel))), named[1]))
            if files:
                out.append(Unit(f"dist:{name}", name, dist.version or "0", tuple(sorted(files))))
        return out

    def unit_of(self, module: str) -> Unit | None:
        self.units()
        assert self._top is not None
        source = self._top.get(module.split(".")[0])
        return self._units[source] if source and self._units else None

    # ------------------------------------------------------------------ building
    def _index(self, unit: Unit) -> tuple[int, int]:
        """(entries, files that did not parse); replaces what the index held for the unit."""
        self.store.drop(unit.source)
        entries = failed = 0
        for mod, path, is_pkg in unit.files:
            try:
                source = path.read_text(encoding="utf-8", errors="replace")
                api = api_entries(source, mod, is_package=is_pkg)
            except (OSError, SyntaxError, ValueError, RecursionError):
                failed += 1
                continue
            rel = f"{unit.package}:{mod.replace('.', '/')}{'/__init__' if is_pkg else ''}.py"
            rows = [_api_row(e, rel, {"package": unit.package, "version": unit.version}) for e in api.entries]
            aliases = [*api.aliases.items(), *((f"{mod}.*", s) for s in api.stars)]
            entries += self.store.add(unit.source, rows, aliases)
        self.store.set_source(unit.source, unit.version, unit.package)
        return entries, failed

    def ensure(self, modules: Iterable[str]) -> list[str]:
        """Index the units that hold these modules when missing or stale; returns the sources redone."""
        have = self.store.sources()
        done = []
        for m in dict.fromkeys(modules):
            unit = self.unit_of(m)
            if unit is not None and have.get(unit.source) != unit.version and unit.source not in done:
                self._index(unit)
                done.append(unit.source)
        if done:
            self.store.commit()
        return done

    def build(self, only: Sequence[str] = (), progress: Progress | None = None) -> BuildStats:
        """Index every unit (or those whose package or top-level module is in `only`)."""
        t0 = time.perf_counter()
        units = list(self.units().values())
        if only:
            wanted = {o.lower() for o in only}
            units = [
                u for u in units if u.package.lower() in wanted or u.source.split(":", 1)[1].lower() in wanted
            ]
        have = self.store.sources()
        dropped = tuple(s for s in have if s not in self.units()) if not only else ()
        for s in dropped:
            self.store.drop(s)
        rebuilt = entries = files = failed = 0
        for i, u in enumerate(units):
            if progress:
                progress(i, len(units), u.source)
            files += len(u.files)
            if have.get(u.source) == u.version:
                continue
            n, bad = self._index(u)
            rebuilt += 1
            entries += n
            failed += bad
            if rebuilt % 20 == 0:
                self.store.commit()
        self.store.commit()
        if progress:
            progress(len(units), len(units), "done")
        size = self.store.path.stat().st_size if self.store.path.exists() else 0
        return BuildStats(
            len(units), rebuilt, entries, files, failed, time.perf_counter() - t0, size, dropped
        )

    def add_repository(self, root: Path) -> int:
        """The repository's own docs (README*, docs/**/*.md|rst, by heading) and the API of its Python
        modules (`src/` or `lib/` stripped from module names), as source `repo:<folder name>`; redone
        when any of its files changed. Returns the entries added (0 when it was up to date)."""
        from .chunks import markdown_chunks, rst_chunks
        from .repo import is_test, list_files

        root = root.resolve()
        files = list_files(root)
        stamp = hashlib.sha256()
        for rel in files:
            st = (root / rel).stat()
            stamp.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        source, version = f"repo:{root.name}", stamp.hexdigest()[:16]
        if self.store.sources().get(source) == version:
            return 0
        self.store.drop(source)
        n = 0
        for rel in files:
            low = rel.lower()
            is_doc = low.startswith("readme") or (low.startswith("docs/") and low.endswith((".md", ".rst")))
            try:
                text = (root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            base = {"package": root.name, "version": "(working tree)"}
            if is_doc:
                cut = markdown_chunks if low.endswith((".md", ".markdown")) else rst_chunks
                rows = [
                    Row("doc", f"{rel} > {c.name}", rel, c.start, c.end, "", c.text, "", base)
                    for c in cut(text)
                ]
                n += self.store.add(source, rows)
            elif rel.endswith(".py") and not is_test(rel):
                parts = rel[:-3].split("/")
                parts = parts[1:] if parts[0] in ("src", "lib") and len(parts) > 1 else parts
                named = _module_name(Path(*parts).with_suffix(".py"))
                if named is None:
                    continue
                try:
                    api = api_entries(text, named[0], is_package=named[1])
                except (SyntaxError, ValueError, RecursionError):
                    continue
                rows = [_api_row(e, rel, base) for e in api.entries]
                n += self.store.add(source, rows, api.aliases.items())
        self.store.set_source(source, version, str(root))
        self.store.commit()
        return n

    # ------------------------------------------------------------------ queries
    def resolve(self, name: str, _depth: int = 0) -> Hit | None:
        """The entry that defines `name`, following re-exports (aliases) and star imports."""
        if _depth > 8 or not name:
            return None
        self.ensure([name])
        hit = self.store.by_name(name)
        if hit is not None:
            return hit
        for target in self.store.alias_targets(name):
            if target != name and (hit := self.resolve(target, _depth + 1)) is not None:
                return hit
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix, rest = ".".join(parts[:i]), ".".join(parts[i:])
            for target in self.store.alias_targets(prefix):
                if target != prefix and (hit := self.resolve(f"{target}.{rest}", _depth + 1)) is not None:
                    return hit
            if i == len(parts) - 1:
                for star in self.store.alias_targets(f"{prefix}.*"):
                    if (hit := self.resolve(f"{star}.{rest}", _depth + 1)) is not None:
                        return hit
        return None

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self.store.search(keywords(query), k)

    def lookup(self, name: str, context: str = "", k: int = 5) -> list[Hit]:
        """What the search route reads for one API use: the resolved entry first, then BM25 over the
        name's words and the use's context, without repeats."""
        first = self.resolve(name)
        hits = [first] if first is not None else []
        for h in self.store.search(keywords(f"{name} {context}"), k + 1):
            if all(h.id != x.id for x in hits):
                hits.append(h)
        return hits[:k]
