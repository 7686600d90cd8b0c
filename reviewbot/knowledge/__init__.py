"""Offline search indexes (SQLite FTS5, BM25; optional dense vectors): documentation and repository.

Everything is read statically: Python with `ast`, docs as text. Nothing indexed is imported or run.
"""

from .docs import BuildStats, DocsIndex, Environment
from .repo import RepoIndex, UpdateStats
from .search_db import Hit, Row, SearchDb

__all__ = ["BuildStats", "DocsIndex", "Environment", "Hit", "RepoIndex", "Row", "SearchDb", "UpdateStats"]
