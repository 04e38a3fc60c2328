"""Datasets of the mammography domain."""
