"""Datasets of the pathology domain."""
