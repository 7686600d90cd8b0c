"""The self-hosted webhook service: verification, the durable job store, the workers."""
