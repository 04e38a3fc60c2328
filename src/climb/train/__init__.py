"""climb.train."""
