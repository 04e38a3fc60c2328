"""climb.prepare."""
