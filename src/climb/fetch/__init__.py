"""Fetch: one hardened download engine and a plugin per source kind."""
