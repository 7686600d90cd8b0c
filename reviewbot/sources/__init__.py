"""Where a change comes from; each source's ``load()`` returns a ChangeSet (see ``ports.Source``).

DiffFileSource(path, stdin=None)    a unified diff file, gzip or not, or "-" for stdin
GitSource(repo, range_spec=None)    a git range, or this branch against the default branch
"""

from reviewbot.sources.diff_file import DiffFileSource
from reviewbot.sources.git import GitSource

__all__ = ["DiffFileSource", "GitSource"]
