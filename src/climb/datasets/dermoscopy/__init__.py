"""Datasets of the dermoscopy domain."""
