"""The walkthrough: what a change does, per file, from a deterministic walk (no model).

    walk(changeset, skipped) -> Walkthrough

Functions and classes added, removed, renamed or changed (signature changes named), tests,
configuration and dependency files, and what the review left out and why. ``reporters.walkthrough``
renders it for the terminal, Markdown (reports, summaries, ``/describe``) and JSON.
"""

from .model import FileWalk, Symbol, Walkthrough
from .walk import walk

__all__ = ["FileWalk", "Symbol", "Walkthrough", "walk"]
