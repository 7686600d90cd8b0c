"""A small inventory package: the example repository that `scripts/example` reviews."""
