"""Thin wrappers over the hosting platforms' client libraries (the only importers of them)."""
