"""The self-hosted webhook service (issue 12): verification, the durable job store."""
