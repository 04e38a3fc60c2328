"""The neutral core every other layer imports, and which imports nothing of climb above it.

- :mod:`climb.core.errors` -- :class:`ClimbError` and its kinds (message, where, fix);
- :mod:`climb.core.paths` -- the data root and cache locations;
- :mod:`climb.core.console` -- the shared rich console;
- :mod:`climb.core.schema` -- store schema types: :class:`FieldSpec`, :class:`RaggedFieldSpec`,
  the default codec and the one task-kind vocabulary :data:`TASK_KINDS`;
- :mod:`climb.core.adapter` -- the Adapter protocol types (``BaseAdapter``, ``RecordRef``,
  ``Sample``, ``PrepareOptions``, ``RecordError``);
- :mod:`climb.core.registry` -- a small generic name -> object registry with did-you-mean.
"""
