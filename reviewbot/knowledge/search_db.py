"""One SQLite file with an FTS5 table: entries (what a hit shows) and their words (what BM25 ranks).

    db = SearchDb.open(path, kind="docs")  # creates the schema; InputError when not a usable index
    db.add(source, [Row(...), ...])        # rows of one source (a package, a file)
    db.drop(source)                        # its rows go, with their vectors
    db.search("retry backoff", k=5)        # [Hit(row id, score, Row)], best first (BM25)

Ranking is FTS5's `bm25()` with the title column (names, headings) weighted 4 to 1 over the body,
over words made by `text.words` (identifiers split) and the `porter unicode61` tokenizer.
`sources` records each source's version (a package version, a file's content hash) so that a
build only redoes what changed. Dense vectors, when built, are float32 blobs in `vectors`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .text import fts_query, words

SCHEMA_VERSION = "1"
TITLE_WEIGHT = 4.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    info TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entries(
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    signature TEXT NOT NULL DEFAULT '',
    doc TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS entries_source ON entries(source);
CREATE INDEX IF NOT EXISTS entries_name ON entries(name);
CREATE TABLE IF NOT EXISTS aliases(name TEXT NOT NULL, target TEXT NOT NULL, source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_name ON aliases(name);
CREATE INDEX IF NOT EXISTS aliases_source ON aliases(source);
CREATE TABLE IF NOT EXISTS vectors(id INTEGER PRIMARY KEY, v BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, body, tokenize='porter unicode61');
"""


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    name: str
    path: str
    start: int
    end: int
    signature: str = ""
    doc: str = ""
    text: str = ""
    extra: dict = field(default_factory=dict)
    title_words: str = ""  # extra words for the title column (a path, a package)


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    score: float  # higher is better (for BM25: minus FTS5's rank)
    row: Row
    source: str


def _bm25_body(row: Row) -> str:
    return " ".join(words(" ".join((row.signature, row.doc, row.text))))


class SearchDb:
    """The search database of one index (the docs' or a repository's): its entries, words and vectors."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path, *, kind: str) -> SearchDb:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, timeout=30)
            db.executescript(_SCHEMA)
            have = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path}: not a reviewbot index ({exc}); delete it to rebuild") from exc
        if have.get("kind", kind) != kind or have.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise InputError(
                f"{path}: a {have.get('kind')} index of schema {have.get('schema')}, "
                f"not a {kind} index of schema {SCHEMA_VERSION}; delete it to rebuild"
            )
        db.executemany(
            "INSERT OR IGNORE INTO meta VALUES (?, ?)", [("kind", kind), ("schema", SCHEMA_VERSION)]
        )
        db.commit()
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ sources
    def sources(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, version FROM sources").fetchall())

    def source_info(self, name: str) -> str | None:
        row = self.db.execute("SELECT info FROM sources WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_source(self, name: str, version: str, info: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", (name, version, info))

    def drop(self, source: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM entries WHERE source = ?", (source,))]
        self.db.executemany("DELETE FROM fts WHERE rowid = ?", ((i,) for i in ids))
        self.db.executemany("DELETE FROM vectors WHERE id = ?", ((i,) for i in ids))
        self.db.execute("DELETE FROM entries WHERE source = ?", (source,))
        self.db.execute("DELETE FROM aliases WHERE source = ?", (source,))
        self.db.execute("DELETE FROM sources WHERE name = ?", (source,))

    def add(self, source: str, rows: Iterable[Row], aliases: Iterable[tuple[str, str]] = ()) -> int:
        n = 0
        for r in rows:
            cur = self.db.execute(
                "INSERT INTO entries(source, kind, name, path, start, end, signature, doc, text, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    r.kind,
                    r.name,
                    r.path,
                    r.start,
                    r.end,
                    r.signature,
                    r.doc,
                    r.text,
                    json.dumps(r.extra) if r.extra else "{}",
                ),
            )
            title = " ".join(words(f"{r.name} {r.title_words}"))
            self.db.execute(
                "INSERT INTO fts(rowid, title, body) VALUES (?, ?, ?)", (cur.lastrowid, title, _bm25_body(r))
            )
            n += 1
        self.db.executemany("INSERT INTO aliases VALUES (?, ?, ?)", ((a, t, source) for a, t in aliases))
        return n

    def commit(self) -> None:
        self.db.commit()

    # ------------------------------------------------------------------ reads
    def _row(self, r: tuple) -> tuple[int, str, Row]:
        id_, source, kind, name, path, start, end, sig, doc, text, extra = r
        return id_, source, Row(kind, name, path, start, end, sig, doc, text, json.loads(extra))

    _COLS = "e.id, e.source, e.kind, e.name, e.path, e.start, e.end, e.signature, e.doc, e.text, e.extra"

    def search(self, terms: list[str], k: int = 5) -> list[Hit]:
        """BM25 over `terms` (already made into words), best first."""
        if not terms:
            return []
        q = fts_query(terms)
        sql = (
            f"SELECT {self._COLS}, f.rank FROM fts f JOIN entries e ON e.id = f.rowid "
            f"WHERE fts MATCH ? AND rank MATCH 'bm25({TITLE_WEIGHT}, 1.0)' ORDER BY f.rank LIMIT ?"
        )
        try:
            rows = self.db.execute(sql, (q, k)).fetchall()
        except sqlite3.OperationalError as exc:
            raise InputError(f"{self.path}: search failed ({exc})") from exc
        out = []
        for r in rows:
            id_, source, row = self._row(r[:-1])
            out.append(Hit(id_, -float(r[-1]), row, source))
        return out

    def matching(self, ids: list[int], term: str) -> set[int]:
        """Which of `ids` hold `term` (after the same stemming as the index)."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        sql = f"SELECT rowid FROM fts WHERE fts MATCH ? AND rowid IN ({marks})"
        return {r[0] for r in self.db.execute(sql, (fts_query([term]), *ids))}

    def get(self, id_: int) -> Hit | None:
        r = self.db.execute(f"SELECT {self._COLS} FROM entries e WHERE e.id = ?", (id_,)).fetchone()
        if r is None:
            return None
        i, source, row = self._row(r)
        return Hit(i, 0.0, row, source)

    def by_name(self, name: str) -> Hit | None:
        r = self.db.execute(
            f"SELECT {self._COLS} FROM entries e WHERE e.name = ? LIMIT 1", (name,)
        ).fetchone()
        if r is None:
            return None
        i, source, row = self._row(r)
        return Hit(i, 0.0, row, source)

    def alias_targets(self, name: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT target FROM aliases WHERE name = ?", (name,))]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM entries").fetchone()[0]

    def ids_and_texts(self, missing_vectors: bool = True) -> Iterator[tuple[int, str]]:
        cond = "WHERE id NOT IN (SELECT id FROM vectors)" if missing_vectors else ""
        for id_, name, sig, doc, text in self.db.execute(
            f"SELECT id, name, signature, doc, text FROM entries {cond} ORDER BY id"
        ):
            yield id_, "\n".join(x for x in (name, sig, doc, text) if x)

    def put_vectors(self, items: Iterable[tuple[int, bytes]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", items)

    def vectors(self) -> Iterator[tuple[int, bytes]]:
        yield from self.db.execute("SELECT id, v FROM vectors ORDER BY id")
