"""Datasets of the surgical_video domain."""
