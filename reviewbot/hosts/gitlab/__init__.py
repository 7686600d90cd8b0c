"""GitLab merge requests behind ``ports.Host``: ``client`` (the only python-gitlab importer),
``values``, ``fetch``, ``render`` (bodies), ``post`` (positions, draft notes, resolving), ``host``,
``service``."""
