"""Thin readers for native formats, on top of the field's libraries."""
