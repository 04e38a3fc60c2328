"""Datasets of the fundus domain."""
