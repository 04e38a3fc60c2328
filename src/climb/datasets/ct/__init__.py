"""Datasets of the ct domain."""
