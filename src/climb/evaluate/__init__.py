"""climb.evaluate."""
