"""``climb status``: where each dataset stands (access, fetched, prepared, stale, runs)."""
