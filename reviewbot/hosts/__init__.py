"""Code hosts behind ``ports.Host``, one package per host (``github/``, ``gitlab/``: its client,
its values, its positions and suggestion syntax, its posting), and what they share:

placement.py    which findings go inline, which are listed, which were posted before
summary.py      the summary comment, edited in place on every run
bodies.py       the Markdown of one finding (inline comment, listed line) and its hidden markers
markers.py      the markers' signatures, so only the bot's own are read back
checkout.py     what a fetch takes from a git checkout: the diff the API refuses, files at head, the interdiff
incremental.py  re-reviewing only what changed since the last reviewed head; what a run posts
service.py      what the webhook service's hosts do alike (open changes, a reply's recover)

``platforms/flow.py`` is the one review-and-post flow over them.
"""
