"""Built-in datasets: one module per dataset under ``climb.datasets.<domain>``.

Modules here hold pure data (a card) and, where built, an adapter. They must not import heavy
libraries (torch, wfdb, pydicom...) at module level: the catalog imports all of them.
"""
