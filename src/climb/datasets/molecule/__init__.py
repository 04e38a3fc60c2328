"""Datasets of the molecule domain."""
