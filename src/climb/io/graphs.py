"""Readers for graph datasets in their distributed formats, and graph construction.

* :func:`read_tu_dataset` -- the TUDataset raw text format (``<NAME>_A.txt``,
  ``_graph_indicator``, ``_graph_labels``, ``_node_labels``, ``_node_attributes``, optional
  ``_edge_labels`` / ``_edge_attributes``), as PROTEINS is distributed.
* :func:`read_ppi` -- the PPI release, PyG/DGL per-split layout (``{train,valid,test}_graph.json``,
  ``_feats.npy``, ``_labels.npy``, ``_graph_id.npy``) or the GraphSAGE layout (``ppi-G.json``,
  ``ppi-feats.npy``, ``ppi-class_map.json``, ``ppi-id_map.json``).
* :func:`read_braingb_npy`, :func:`read_braingb_abcd`, :func:`read_braingb_mat` -- BrainGB's
  brain-network files (ABIDE.npy, ABCD .npy + id files, PPMI.mat).
* :func:`corr_to_graph` -- a connectivity matrix -> graph (dense as CLIMB, k-nearest or
  thresholded edges).

A graph here is a :class:`Graph`: ``x`` (N, F) float32 node features, ``edge_index`` (2, E)
int64 (0-based, local), optional ``edge_attr`` (E, D) float32, optional ``y``. Everything is
numpy; torch_geometric is only needed by the models and the data layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from climb.core.errors import ClimbError


class GraphFormatError(ClimbError, ValueError):
    """A graph file that does not follow its format (the whole file is rejected)."""


@dataclass
class Graph:
    x: np.ndarray  # (N, F) float32
    edge_index: np.ndarray  # (2, E) int64, local node ids
    edge_attr: np.ndarray | None = None  # (E, D) float32
    y: Any = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


# ----------------------------------------------------------------------------- TU format


def _read_numeric(path: Path, *, dtype: str, min_cols: int = 1) -> np.ndarray:
    """Comma/whitespace separated numbers, one row per line; a clear error on the first bad row."""
    rows: list[list[float]] = []
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    # fast path
    try:
        flat = np.array(text.replace(",", " ").split(), dtype=np.float64)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        ncols = len(lines[0].replace(",", " ").split()) if lines else min_cols
        if ncols >= min_cols and flat.size == len(lines) * ncols:
            out = flat.reshape(len(lines), ncols)
            return out.astype(dtype) if dtype != "float64" else out
    except ValueError:
        pass
    # slow path: find the offending line
    ncols = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").split()
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise GraphFormatError(
                f"non-numeric row {line.strip()[:60]!r}",
                where=f"{path}:{lineno}",
                fix="the TU format has one comma-separated numeric row per line",
            ) from None
        if ncols is None:
            ncols = len(vals)
        if len(vals) != ncols or len(vals) < min_cols:
            raise GraphFormatError(
                f"row has {len(vals)} value(s), expected {max(ncols, min_cols)}",
                where=f"{path}:{lineno}",
            )
        rows.append(vals)
    return np.asarray(rows, dtype=dtype).reshape(len(rows), ncols or min_cols)


def find_tu_prefix(folder: Path, name: str | None = None) -> tuple[Path, str]:
    """Locate ``<NAME>_A.txt`` under ``folder`` (recursively); returns (its folder, NAME)."""
    pattern = f"{name}_A.txt" if name else "*_A.txt"
    hits = sorted(Path(folder).rglob(pattern))
    if not hits:
        raise GraphFormatError(
            f"no TU dataset ({pattern}) under {folder}",
            where=str(folder),
            fix="put the unzipped TUDataset files (e.g. PROTEINS/PROTEINS_A.txt) there",
        )
    return hits[0].parent, hits[0].name[: -len("_A.txt")]


@dataclass
class TUDataset:
    name: str
    folder: Path
    graph_labels: np.ndarray  # (G,) int64 as in the file
    node_graph: np.ndarray  # (N,) int64 0-based graph of each node
    node_labels: np.ndarray | None  # (N,) int64
    node_attributes: np.ndarray | None  # (N, A) float32
    edges: np.ndarray  # (E, 2) int64 0-based global node ids
    edge_labels: np.ndarray | None
    edge_attributes: np.ndarray | None
    node_label_values: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    node_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    edge_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @property
    def num_graphs(self) -> int:
        return int(self.graph_labels.shape[0])

    def graph(self, g: int, *, one_hot_labels: bool = True) -> Graph:
        """Graph ``g`` (0-based): x = one-hot node labels (as PyG's TUDataset default), node
        attributes in ``info['node_attributes']``, local edge index (both directions as in the
        file)."""
        n0, n1 = int(self.node_ptr[g]), int(self.node_ptr[g + 1])
        sel = self.edge_order[self.edge_ptr[g] : self.edge_ptr[g + 1]]
        ei = (self.edges[sel] - n0).T.astype(np.int64)
        if self.node_labels is not None and one_hot_labels:
            lab = self.node_labels[n0:n1]
            idx = np.searchsorted(self.node_label_values, lab)
            x = np.zeros((n1 - n0, len(self.node_label_values)), dtype=np.float32)
            x[np.arange(n1 - n0), idx] = 1.0
        elif self.node_attributes is not None:
            x = self.node_attributes[n0:n1].astype(np.float32)
        else:
            x = np.ones((n1 - n0, 1), dtype=np.float32)
        ea = None
        if self.edge_attributes is not None:
            ea = self.edge_attributes[sel].astype(np.float32)
        info: dict[str, Any] = {}
        if self.node_attributes is not None:
            info["node_attributes"] = self.node_attributes[n0:n1].astype(np.float32)
        if self.node_labels is not None:
            info["node_labels"] = self.node_labels[n0:n1]
        return Graph(x=x, edge_index=ei, edge_attr=ea, y=int(self.graph_labels[g]), info=info)


def read_tu_dataset(folder: str | Path, name: str | None = None) -> TUDataset:
    """Read a TUDataset in its raw text format and check it is consistent.

    Raises :class:`GraphFormatError` (with file and line) for non-numeric rows, indicator /
    label / attribute files of different lengths, graph ids that are not 1..G, edges that point
    outside the node range or join two graphs.
    """
    folder, name = find_tu_prefix(Path(folder), name)

    def f(suffix: str) -> Path:
        return folder / f"{name}_{suffix}.txt"

    for req in ("A", "graph_indicator", "graph_labels"):
        if not f(req).is_file():
            raise GraphFormatError(
                f"TU dataset {name!r} lacks {f(req).name}",
                where=str(folder),
                fix="the TU format needs _A, _graph_indicator and _graph_labels files",
            )
    indicator = _read_numeric(f("graph_indicator"), dtype="int64")[:, 0]
    graph_labels = _read_numeric(f("graph_labels"), dtype="int64")[:, 0]
    edges = _read_numeric(f("A"), dtype="int64", min_cols=2)[:, :2] - 1
    n = indicator.shape[0]
    node_labels = None
    node_attr = None
    if f("node_labels").is_file():
        node_labels = _read_numeric(f("node_labels"), dtype="int64")[:, 0]
    if f("node_attributes").is_file():
        node_attr = _read_numeric(f("node_attributes"), dtype="float32")
    for label, arr in (("node_labels", node_labels), ("node_attributes", node_attr)):
        if arr is not None and arr.shape[0] != n:
            raise GraphFormatError(
                f"{f(label).name} has {arr.shape[0]} rows but {f('graph_indicator').name} has {n}",
                where=str(folder),
                fix="every per-node file must have one row per node (line i = node i)",
            )
    if n == 0:
        raise GraphFormatError("empty graph indicator", where=str(f("graph_indicator")))
    if np.any(np.diff(indicator) < 0):
        raise GraphFormatError(
            "graph indicator is not sorted (nodes of one graph must be consecutive)",
            where=str(f("graph_indicator")),
        )
    g_ids = np.unique(indicator)
    if g_ids[0] != 1 or g_ids[-1] != len(g_ids):
        raise GraphFormatError(
            f"graph ids are not 1..G (found {len(g_ids)} ids from {g_ids[0]} to {g_ids[-1]})",
            where=str(f("graph_indicator")),
        )
    if len(graph_labels) != len(g_ids):
        raise GraphFormatError(
            f"{f('graph_labels').name} has {len(graph_labels)} rows but the indicator names "
            f"{len(g_ids)} graphs",
            where=str(folder),
            fix="one label per graph, line g = graph g",
        )
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        bad = int(np.flatnonzero((edges < 0).any(1) | (edges >= n).any(1))[0])
        raise GraphFormatError(
            f"edge {edges[bad] + 1} points outside nodes 1..{n}",
            where=f"{f('A')}:{bad + 1}",
        )
    node_graph = indicator - 1
    eg = node_graph[edges[:, 0]] if edges.size else np.zeros(0, dtype=np.int64)
    if edges.size and np.any(eg != node_graph[edges[:, 1]]):
        bad = int(np.flatnonzero(eg != node_graph[edges[:, 1]])[0])
        raise GraphFormatError(
            f"edge {edges[bad] + 1} joins nodes of two different graphs",
            where=f"{f('A')}:{bad + 1}",
        )
    edge_labels = None
    edge_attr = None
    if f("edge_labels").is_file():
        edge_labels = _read_numeric(f("edge_labels"), dtype="int64")[:, 0]
    if f("edge_attributes").is_file():
        edge_attr = _read_numeric(f("edge_attributes"), dtype="float32")
    for label, arr in (("edge_labels", edge_labels), ("edge_attributes", edge_attr)):
        if arr is not None and arr.shape[0] != edges.shape[0]:
            raise GraphFormatError(
                f"{f(label).name} has {arr.shape[0]} rows but {f('A').name} has {edges.shape[0]}",
                where=str(folder),
            )
    G = len(g_ids)
    node_ptr = np.concatenate([[0], np.cumsum(np.bincount(node_graph, minlength=G))])
    order = np.argsort(eg, kind="stable")
    edge_ptr = np.concatenate([[0], np.cumsum(np.bincount(eg, minlength=G))])
    return TUDataset(
        name=name,
        folder=folder,
        graph_labels=graph_labels,
        node_graph=node_graph,
        node_labels=node_labels,
        node_attributes=node_attr,
        edges=edges,
        edge_labels=edge_labels,
        edge_attributes=edge_attr,
        node_label_values=np.unique(node_labels)
        if node_labels is not None
        else np.zeros(0, np.int64),
        node_ptr=node_ptr.astype(np.int64),
        edge_order=order.astype(np.int64),
        edge_ptr=edge_ptr.astype(np.int64),
    )


# ----------------------------------------------------------------------------- PPI

PPI_SPLITS = (("train", "train"), ("valid", "val"), ("test", "test"))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise GraphFormatError(f"not valid JSON: {exc}", where=str(path)) from None


def _links(g: dict[str, Any], path: Path) -> np.ndarray:
    links = g.get("links")
    if links is None:
        raise GraphFormatError(
            "node-link JSON without 'links'",
            where=str(path),
            fix="expected networkx node_link_data output",
        )
    return np.asarray([[int(e["source"]), int(e["target"])] for e in links], dtype=np.int64)


def ppi_layout(folder: str | Path) -> tuple[str, Path]:
    """``("pyg", dir)`` for the per-split layout, ``("graphsage", dir)`` for ppi-G.json."""
    folder = Path(folder)
    hits = sorted(folder.rglob("train_graph.json"))
    if hits:
        return "pyg", hits[0].parent
    hits = sorted(folder.rglob("ppi-G.json"))
    if hits:
        return "graphsage", hits[0].parent
    raise GraphFormatError(
        f"no PPI files under {folder}",
        where=str(folder),
        fix="expected train_graph.json/_feats.npy/_labels.npy/_graph_id.npy (PyG/DGL ppi.zip) "
        "or ppi-G.json/ppi-feats.npy/ppi-class_map.json/ppi-id_map.json (GraphSAGE)",
    )


def _split_graphs(
    edges: np.ndarray, feats: np.ndarray, labels: np.ndarray, gid: np.ndarray, split: str, src: str
) -> list[Graph]:
    n = feats.shape[0]
    if labels.shape[0] != n or gid.shape[0] != n:
        raise GraphFormatError(
            f"{split}: {n} feature rows, {labels.shape[0]} label rows, {gid.shape[0]} graph ids",
            where=src,
            fix="the per-split files must have one row per node",
        )
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise GraphFormatError(f"{split}: an edge points outside nodes 0..{n - 1}", where=src)
    out: list[Graph] = []
    eg = gid[edges[:, 0]] if edges.size else np.zeros(0, dtype=gid.dtype)
    if edges.size and np.any(eg != gid[edges[:, 1]]):
        raise GraphFormatError(f"{split}: an edge joins two different graphs", where=src)
    for g in np.unique(gid):
        nodes = np.flatnonzero(gid == g)
        remap = np.full(n, -1, dtype=np.int64)
        remap[nodes] = np.arange(len(nodes))
        e = edges[eg == g]
        ei = remap[e].T if e.size else np.zeros((2, 0), dtype=np.int64)
        out.append(
            Graph(
                x=feats[nodes].astype(np.float32),
                edge_index=np.ascontiguousarray(ei, dtype=np.int64),
                y=labels[nodes].astype(np.int8),
                info={"split": split, "graph_id": int(g)},
            )
        )
    return out


def read_ppi(folder: str | Path, split: str | None = None) -> list[Graph]:
    """All PPI graphs (or those of one official split: train / val / test), node-level
    121 labels in ``Graph.y`` (N, 121) int8, ``info['split']`` and ``info['graph_id']``."""
    layout, d = ppi_layout(folder)
    graphs: list[Graph] = []
    if layout == "pyg":
        for file_split, name in PPI_SPLITS:
            if split is not None and name != split:
                continue
            paths = {s: d / f"{file_split}_{s}" for s in ("graph.json", "feats.npy", "labels.npy")}
            paths["graph_id.npy"] = d / f"{file_split}_graph_id.npy"
            for p in paths.values():
                if not p.is_file():
                    raise GraphFormatError(f"PPI file missing: {p.name}", where=str(d))
            g = _read_json(paths["graph.json"])
            edges = _links(g, paths["graph.json"])
            graphs += _split_graphs(
                edges,
                np.load(paths["feats.npy"]),
                np.load(paths["labels.npy"]),
                np.load(paths["graph_id.npy"]),
                name,
                str(d),
            )
        return graphs
    # GraphSAGE: one graph file with per-node 'val'/'test' flags and no graph ids, so each
    # official split becomes one (disconnected) graph; node-level task, the split is what counts.
    g = _read_json(d / "ppi-G.json")
    id_map = {str(k): int(v) for k, v in _read_json(d / "ppi-id_map.json").items()}
    class_map = _read_json(d / "ppi-class_map.json")
    feats = np.load(d / "ppi-feats.npy")
    nodes = g.get("nodes", [])
    n = len(nodes)
    labels = np.zeros((n, len(next(iter(class_map.values())))), dtype=np.int8)
    split_of = np.empty(n, dtype=object)
    for nd in nodes:
        i = id_map[str(nd["id"])]
        labels[i] = np.asarray(class_map[str(nd["id"])], dtype=np.int8)
        split_of[i] = "test" if nd.get("test") else ("val" if nd.get("val") else "train")
    idx_edges = np.asarray(
        [[id_map[str(e["source"])], id_map[str(e["target"])]] for e in g.get("links", [])],
        dtype=np.int64,
    ).reshape(-1, 2)
    gid = np.array([{"train": 0, "val": 1, "test": 2}[s] for s in split_of], dtype=np.int64)
    for name, code in (("train", 0), ("val", 1), ("test", 2)):
        if split is not None and name != split:
            continue
        nodes = np.flatnonzero(gid == code)
        if not len(nodes):
            continue
        remap = np.full(n, -1, dtype=np.int64)
        remap[nodes] = np.arange(len(nodes))
        e = idx_edges[(gid[idx_edges[:, 0]] == code) & (gid[idx_edges[:, 1]] == code)]
        graphs.append(
            Graph(
                x=feats[nodes].astype(np.float32),
                edge_index=np.ascontiguousarray(remap[e].T, dtype=np.int64),
                y=labels[nodes],
                info={"split": name, "graph_id": code},
            )
        )
    return graphs


# ----------------------------------------------------------------------------- BrainGB


def _check_matrices(corr: np.ndarray, where: str) -> np.ndarray:
    corr = np.asarray(corr)
    if corr.ndim != 3 or corr.shape[1] != corr.shape[2]:
        raise GraphFormatError(
            f"expected a stack of square matrices (N, R, R), got shape {corr.shape}", where=where
        )
    return corr


#: The only callables a raw ``.npy`` of dtype object may name (see :func:`load_npy_no_code`):
#: numpy's own array, dtype and scalar reconstructors, nothing that can run other code.
NPY_PICKLE_ALLOWED = frozenset(
    {
        (mod, name)
        for core in ("numpy.core", "numpy._core")
        for mod, name in (
            (f"{core}.multiarray", "_reconstruct"),
            (f"{core}.multiarray", "scalar"),
            (f"{core}.numeric", "_frombuffer"),
        )
    }
    | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
)


def load_npy_no_code(path: str | Path) -> Any:
    """Read a ``.npy`` file without ever running code from it.

    A numeric array is read by ``np.load(allow_pickle=False)``. An array of dtype object (how
    ``np.save`` stores a dict or strings: numpy's format header, then a pickle of the array)
    is read by an unpickler that resolves only :data:`NPY_PICKLE_ALLOWED`, so it may hold
    (nested) dicts, lists, tuples, strings, numbers and numpy arrays of any dtype, and
    nothing else: a file naming any other callable (``os.system``, ``builtins.exec``, a class
    of some package) is refused with a :class:`GraphFormatError` before anything is called.
    """
    import pickle

    path = Path(path)
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                _shape, _order, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                _shape, _order, dtype = np.lib.format.read_array_header_2_0(fh)
            else:  # 3.0 (utf-8 field names): numpy has no public reader for its header
                _shape, _order, dtype = np.lib.format._read_array_header(fh, version)
        except (ValueError, OSError, SyntaxError) as exc:
            raise GraphFormatError(
                f"{path.name} is not a .npy file ({exc})", where=str(path)
            ) from None
        if not dtype.hasobject:
            fh.seek(0)
            try:
                return np.load(fh, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise GraphFormatError(f"cannot read {path.name}: {exc}", where=str(path)) from None

        class _NoCode(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if (module, name) in NPY_PICKLE_ALLOWED:
                    return super().find_class(module, name)
                raise GraphFormatError(
                    f"{path.name} holds a pickled {module}.{name}: climb never runs code from "
                    "raw files, and a .npy may only hold arrays, dicts, lists, strings and "
                    "numbers",
                    where=str(path),
                    fix="re-save the file with numpy arrays only (e.g. np.savez), or check "
                    "where it came from: it may be crafted to run code when unpickled",
                )

            def persistent_load(self, pid: Any) -> Any:
                raise GraphFormatError(f"{path.name} uses pickle persistent ids", where=str(path))

        try:
            arr = _NoCode(fh).load()
        except GraphFormatError:
            raise
        except Exception as exc:  # truncated or not a pickle at all
            raise GraphFormatError(
                f"cannot read {path.name}: its object data is damaged ({type(exc).__name__})",
                where=str(path),
            ) from None
    if not isinstance(arr, np.ndarray):
        raise GraphFormatError(f"{path.name} does not hold an array", where=str(path))
    return arr


def read_braingb_npy(path: str | Path) -> dict[str, np.ndarray]:
    """BrainGB/FBNetGen-style ``<NAME>.npy``: a dict saved with ``np.save`` holding ``corr``
    (N, R, R), ``label`` (N,) and optionally ``site`` (N,) and ``id``/``subject_id``; returns
    those keys as arrays. Read with :func:`load_npy_no_code` (never unpickled freely)."""
    path = Path(path)
    obj = load_npy_no_code(path)
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict) or "corr" not in obj or "label" not in obj:
        raise GraphFormatError(
            f"{path.name} is not a BrainGB dict with 'corr' and 'label'",
            where=str(path),
            fix="expected np.save(path, {'corr': (N,R,R), 'label': (N,), 'site': (N,)})",
        )
    out = {"corr": _check_matrices(obj["corr"], str(path)), "label": np.asarray(obj["label"])}
    n = out["corr"].shape[0]
    for k in ("site", "id", "subject_id"):
        if k in obj:
            out["id" if k == "subject_id" else k] = np.asarray(obj[k])
    for k, v in out.items():
        if k != "corr" and v.reshape(v.shape[0], -1).shape[0] != n:
            raise GraphFormatError(
                f"'{k}' has {v.shape[0]} entries but 'corr' has {n} matrices", where=str(path)
            )
    out["label"] = out["label"].reshape(n, -1)[:, 0] if out["label"].ndim > 1 else out["label"]
    return out


def _read_id_file(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def read_braingb_abcd(folder: str | Path) -> dict[str, Any]:
    """ABCD as BrainGB distributes it: ``abcd_rest-pearson-HCP2016.npy`` (N, 360, 360, mmap),
    ``ids_HCP2016.txt`` (N ids, same order), ``id2sex.txt`` (``id<sep>M|F`` per line) and an
    optional ``id2site.txt``."""
    folder = Path(folder)
    mats = sorted(folder.rglob("abcd_rest-pearson-HCP2016.npy"))
    ids = sorted(folder.rglob("ids_HCP2016.txt"))
    sex = sorted(folder.rglob("id2sex.txt"))
    if not mats or not ids or not sex:
        raise GraphFormatError(
            "ABCD files missing",
            where=str(folder),
            fix="expected abcd_rest-pearson-HCP2016.npy, ids_HCP2016.txt and id2sex.txt",
        )
    corr = _check_matrices(np.load(mats[0], mmap_mode="r"), str(mats[0]))
    id_list = _read_id_file(ids[0])
    if len(id_list) != corr.shape[0]:
        raise GraphFormatError(
            f"{ids[0].name} has {len(id_list)} ids but the matrix file has {corr.shape[0]}",
            where=str(folder),
        )

    def kv(path: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        for lineno, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = ln.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) < 2:
                raise GraphFormatError(f"expected 'id value', got {ln!r}", where=f"{path}:{lineno}")
            out[parts[0]] = parts[1]
        return out

    sites = sorted(folder.rglob("id2site.txt"))
    return {
        "corr": corr,
        "id": id_list,
        "sex": kv(sex[0]),
        "site": kv(sites[0]) if sites else {},
        "path": mats[0],
    }


def read_braingb_mat(path: str | Path, view: int = 0) -> dict[str, Any]:
    """PPMI.mat (BrainGB): ``X`` (N x 1 cell of R x R x V) and ``label`` (N x 1, -1/1); returns
    ``corr`` (N, R, R) of view ``view`` (CLIMB uses view 0), ``label`` and ``views``."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        m = loadmat(str(path))
    except Exception as exc:  # scipy raises several types for bad files
        raise GraphFormatError(f"cannot read {path.name}: {exc}", where=str(path)) from None
    if "X" not in m or "label" not in m:
        raise GraphFormatError(f"{path.name} lacks variables X and label", where=str(path))
    X = m["X"]
    items = [X.flat[i] for i in range(X.size)] if X.dtype == object else list(X)
    mats = []
    for i, a in enumerate(items):
        a = np.asarray(a)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3 or a.shape[0] != a.shape[1] or view >= a.shape[2]:
            raise GraphFormatError(
                f"X[{i}] has shape {a.shape}, expected (R, R, V) with V > {view}", where=str(path)
            )
        mats.append(a[:, :, view])
    label = np.asarray(m["label"]).reshape(-1)
    if len(label) != len(mats):
        raise GraphFormatError(
            f"label has {len(label)} entries but X has {len(mats)}", where=str(path)
        )
    return {"corr": np.stack(mats).astype(np.float32), "label": label, "views": len(items)}


# ----------------------------------------------------------------------------- construction

EdgeMethod = Literal["dense", "knn", "threshold"]


def corr_to_graph(
    corr: np.ndarray,
    *,
    method: EdgeMethod = "dense",
    k: int = 10,
    threshold: float = 0.3,
    absolute: bool = True,
    self_loops: bool | None = None,
    nan_mask: bool = False,
    pad_to: int | None = None,
) -> Graph:
    """A connectivity matrix (R, R) -> graph, as CLIMB's ``brain_datasets.py`` (§4) by default.

    * node features = rows of the matrix (NaN -> 0; ``nan_mask`` appends the NaN mask, doubling
      the feature size, as CLIMB does); ``pad_to`` zero-pads features (CLIMB pads to a common
      size so one model serves several atlases);
    * ``method="dense"``: every non-zero entry is an edge, diagonal included (CLIMB);
      ``"knn"``: each node keeps its ``k`` strongest connections (by |value| when ``absolute``),
      made symmetric; ``"threshold"``: entries with |value| >= ``threshold``;
    * ``edge_attr`` = the matrix value, shape (E, 1).
    """
    c = np.asarray(corr, dtype=np.float32)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise GraphFormatError(f"expected a square matrix, got shape {c.shape}")
    r = c.shape[0]
    nan = ~np.isfinite(c)
    c0 = np.where(nan, 0.0, c).astype(np.float32)
    x = np.concatenate([c0, nan.astype(np.float32)], axis=1) if nan_mask else c0
    if pad_to is not None:
        if pad_to < x.shape[1]:
            raise GraphFormatError(f"pad_to={pad_to} is smaller than the feature size {x.shape[1]}")
        x = np.pad(x, ((0, 0), (0, pad_to - x.shape[1])))
    w = np.abs(c0) if absolute else c0
    if method == "dense":
        adj = c0 != 0
        if self_loops is False:
            np.fill_diagonal(adj, False)
    elif method == "knn":
        kk = max(1, min(k, r - 1))
        w2 = w.copy()
        np.fill_diagonal(w2, -np.inf)
        nbr = np.argpartition(-w2, kk - 1, axis=1)[:, :kk]
        adj = np.zeros((r, r), dtype=bool)
        adj[np.repeat(np.arange(r), kk), nbr.reshape(-1)] = True
        adj |= adj.T
        if self_loops:
            np.fill_diagonal(adj, True)
    elif method == "threshold":
        adj = w >= threshold
        if not self_loops:
            np.fill_diagonal(adj, False)
    else:
        raise GraphFormatError(
            f"unknown edge method {method!r}", fix="use 'dense', 'knn' or 'threshold'"
        )
    src, dst = np.nonzero(adj)
    ei = np.stack([src, dst]).astype(np.int64)
    return Graph(x=x.astype(np.float32), edge_index=ei, edge_attr=c0[src, dst][:, None])
