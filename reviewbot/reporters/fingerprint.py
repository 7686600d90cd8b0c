"""The finding identity and merge live in ``reviewbot.merge``; these names stay for the reporters."""

from ..merge import dedupe, fingerprint, normalize_message, similarity

__all__ = ["dedupe", "fingerprint", "normalize_message", "similarity"]
