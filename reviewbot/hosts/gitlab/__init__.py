"""GitLab merge requests behind ``ports.Host``: ``client`` (the only python-gitlab importer),
``values``, ``fetch``, ``render``, ``summary``, ``post``, ``host``."""
