"""Task kinds (binary, multiclass, multilabel, regression, segmentation, node): targets, heads,
losses, scores, metrics and selection scores, one plugin each (docs/development.md)."""

from climb.tasks.base import TaskKind, TaskSpec
from climb.tasks.registry import get_kind, kind_names, register_kind

__all__ = ["TaskKind", "TaskSpec", "get_kind", "kind_names", "register_kind"]
