"""reviewbot: a self-hosted code-review bot that one model drives."""

__version__ = "0.1.0"
