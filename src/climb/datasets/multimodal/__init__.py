"""Datasets of the multimodal domain."""
