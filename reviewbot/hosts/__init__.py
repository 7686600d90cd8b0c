"""Code hosts behind ``ports.Host``, one package per host (``github/``, ``gitlab/``: a client, its
values, its positions and its comment bodies), and what they share: ``placement`` (which findings
go inline, which are listed, which were posted before), ``summary`` (the summary comment),
``incremental`` (re-reviewing only what changed since the last reviewed head) and ``markers``
(signed hidden markers). ``platforms/flow.py`` is the one review-and-post flow over them."""
