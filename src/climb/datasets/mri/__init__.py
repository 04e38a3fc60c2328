"""Datasets of the mri domain."""
