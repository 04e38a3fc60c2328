"""Datasets of the brain_network domain."""
