"""The installer's steps, one module each; every step is idempotent."""
