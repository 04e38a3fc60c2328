"""climb.report."""
