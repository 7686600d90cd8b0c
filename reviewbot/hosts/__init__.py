"""Code hosts behind ``ports.Host``, one package per host (``github/``), and what they share
(``incremental``: re-reviewing only what changed since the last reviewed head)."""
