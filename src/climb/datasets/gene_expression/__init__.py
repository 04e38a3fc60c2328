"""Datasets of the gene_expression domain."""
