"""Datasets of the ultrasound domain."""
