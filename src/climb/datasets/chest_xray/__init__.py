"""Datasets of the chest_xray domain."""
