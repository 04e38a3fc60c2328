"""climb.store."""
