"""MIMIC-IV prepare benchmark: ``climb prepare mimic_iv`` (polars, streaming) on generated
MIMIC-shaped tables vs a plain pandas implementation of the same EHR features.

Generated with ``climb.datasets.multimodal._mimic_synthetic`` (the real table layouts, gzipped
CSVs, the documented lab and chart itemids; about 0.4 of the admissions are shorter than 48 h
or die before it and are excluded). Each measurement runs in its own process, so the peak RSS
(``ru_maxrss``) is that of the measured code alone:

- ``ours``: the whole ``climb.prepare.pipeline.prepare("mimic_iv")`` (cohort, one streaming
  pass per event table, hourly bins + masks + time since last value, text rendering, the store
  with the ehr and static fields; ``ecg=False, cxr=False``: this benchmark is about the tables);
- ``pandas``: ``pd.read_csv`` of each whole event table, the same window / availability rules,
  hourly bin means, the dense (admissions, items, bins) grid with forward fill and time since the
  last value, and the most recent value per item (the text's input): what a user writes by
  hand. Run on a subset (``--pandas-adm`` admissions, same density), as the issue asks.

Both are run on the subset (same inputs: a direct ratio) and ours also on the large set; the
projection to the full MIMIC-IV (313,645,063 chartevents and 118,171,367 labevents rows,
431,231 admissions in v2.2) is linear in rows from the two measured sizes (time and peak RSS).

    python benchmarks/mimic_prepare.py --quick     # 5 M chartevents + 1 M labevents rows
    python benchmarks/mimic_prepare.py             # 50 M + 10 M (the issue's size; long)

The last line of output is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FULL_CHART = 313_645_063
FULL_LAB = 118_171_367
FULL_ADM = 431_231


def generate(raw: Path, admissions: int, chart_per_adm: int, lab_per_adm: int) -> dict[str, int]:
    from climb.datasets.multimodal._mimic_synthetic import write_mimic

    marker = raw / ".bench.json"
    want = {"admissions": admissions, "chart": chart_per_adm, "lab": lab_per_adm}
    if marker.is_file() and json.loads(marker.read_text()) == want:
        return want
    shutil.rmtree(raw, ignore_errors=True)
    write_mimic(
        raw,
        patients=admissions // 2,
        admissions_per_patient=2,
        lab_rows_per_admission=lab_per_adm,
        chart_rows_per_admission=chart_per_adm,
        ecg=False,
        cxr=False,
        seed=0,
    )
    marker.write_text(json.dumps(want))
    return want


# ------------------------------------------------------------------ measured code (subprocess)


def run_ours(root: Path) -> dict[str, Any]:
    from climb.core.adapter import PrepareOptions
    from climb.datasets.multimodal._mimic import MimicIVAdapter
    from climb.prepare.pipeline import prepare

    shutil.rmtree(root / "stores", ignore_errors=True)
    adapter = MimicIVAdapter(ecg=False, cxr=False)
    t = time.perf_counter()
    # the feature stage alone (cohort + event passes + bins + text), memoized for prepare
    adapter.tasks(root / "raw" / "mimic_iv", PrepareOptions(splits="subject"))
    features_s = time.perf_counter() - t
    res = prepare("mimic_iv", root, adapter=adapter, workers=1)
    return {
        "seconds": time.perf_counter() - t,
        "features_seconds": features_s,
        "samples": sum(res.counts.values()),
    }


def run_pandas(root: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from climb.io.ehr import ITEMS, item_index

    raw = root / "raw" / "mimic_iv"
    t = time.perf_counter()
    adm = pd.read_csv(
        raw / "hosp" / "admissions.csv.gz",
        parse_dates=["admittime", "dischtime", "deathtime"],
    )
    adm["pred"] = adm.admittime + pd.Timedelta(hours=48)
    end = adm.dischtime.where(adm.deathtime.isna(), np.minimum(adm.dischtime, adm.deathtime))
    adm = adm[end >= adm.pred].reset_index(drop=True)
    adm["adm"] = np.arange(len(adm))
    n, n_items, n_bins = len(adm), len(ITEMS), 48
    grid = np.full((n, n_items, n_bins), np.nan, dtype=np.float32)
    lasts = []
    for module, table in (("hosp", "labevents"), ("icu", "chartevents")):
        ev = pd.read_csv(raw / module / f"{table}.csv.gz")  # the whole table, as users do
        ev["charttime"] = pd.to_datetime(ev.charttime)
        ev["storetime"] = pd.to_datetime(ev.storetime)
        ev = ev.merge(adm[["hadm_id", "adm", "admittime", "dischtime", "pred"]], on="hadm_id")
        avail = ev.storetime.fillna(ev.charttime)
        ok = (
            ev.valuenum.notna()
            & (ev.charttime >= ev.admittime)
            & (ev.charttime <= ev.dischtime)
            & (ev.charttime < ev.pred)
            & (avail < ev.pred)
        )
        ev = ev[ok].drop_duplicates(["adm", "itemid", "charttime", "valuenum"])
        lasts.append(ev.sort_values("charttime").groupby(["adm", "itemid"]).tail(1))
        idx = item_index(ITEMS, table)
        ev = ev[ev.itemid.isin(list(idx))].copy()
        ev["item"] = ev.itemid.map(idx)
        ev["bin"] = ((ev.charttime - ev.admittime).dt.total_seconds() // 3600).astype(int)
        ev = ev[(ev.bin >= 0) & (ev.bin < n_bins)]
        m = ev.groupby(["adm", "item", "bin"]).valuenum.mean()
        a, i, b = (m.index.get_level_values(k).to_numpy() for k in range(3))
        grid[a, i, b] = m.to_numpy()
    mask = ~np.isnan(grid)
    values = pd.DataFrame(grid.reshape(-1, n_bins).T).ffill().fillna(0).T.to_numpy()
    steps = np.cumsum(np.ones_like(grid), axis=2)
    last_seen = np.where(mask, steps, 0)
    last_seen = np.maximum.accumulate(last_seen, axis=2)
    delta = np.where(last_seen > 0, steps - last_seen, steps - 1)
    feats = np.concatenate([values.reshape(grid.shape), mask, delta], axis=1)
    last = pd.concat(lasts)
    return {
        "seconds": time.perf_counter() - t,
        "samples": int(n),
        "checksum": float(np.nansum(feats[:, :n_items])),
        "last_values": len(last),
    }


def _hwm_mb() -> float:
    """Peak RSS of this process image (VmHWM: reset at exec, unlike ru_maxrss, which a child
    inherits from the parent that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, root: str) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = (run_ours if kind == "ours" else run_pandas)(Path(root))
    out["peak_rss_mb"] = _hwm_mb()
    print(json.dumps(out))


def measure(kind: str, root: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data-dir", default=None, help="keep the generated tables here (reused)")
    ap.add_argument("--pandas-adm", type=int, default=1000)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(*a.child)
        return
    chart_per_adm, lab_per_adm = 500, 100
    n_adm = 10_000 if a.quick else 100_000  # 5 M / 50 M chartevents rows
    base = Path(a.data_dir) if a.data_dir else Path(tempfile.mkdtemp(prefix="climb-mimic-bench-"))
    try:
        t = time.perf_counter()
        generate(base / "small" / "raw" / "mimic_iv", a.pandas_adm, chart_per_adm, lab_per_adm)
        generate(base / "large" / "raw" / "mimic_iv", n_adm, chart_per_adm, lab_per_adm)
        gen_s = time.perf_counter() - t
        rows_small = a.pandas_adm * (chart_per_adm + lab_per_adm)
        rows_large = n_adm * (chart_per_adm + lab_per_adm)
        ours_small = measure("ours", base / "small")
        pandas_small = measure("pandas", base / "small")
        ours_large = measure("ours", base / "large")
        if pandas_small["samples"] != ours_small["samples"]:
            raise SystemExit(
                f"cohorts differ: ours {ours_small['samples']}, pandas {pandas_small['samples']}"
            )
        full_rows = FULL_CHART + FULL_LAB
        # linear fits through the two measured sizes (ours) / through zero (pandas: whole tables)
        slope_rss = (ours_large["peak_rss_mb"] - ours_small["peak_rss_mb"]) / (
            rows_large - rows_small
        )
        slope_s = (ours_large["seconds"] - ours_small["seconds"]) / (rows_large - rows_small)
        proj_rss = ours_large["peak_rss_mb"] + slope_rss * (full_rows - rows_large)
        proj_s = ours_large["seconds"] + slope_s * (full_rows - rows_large)
        pandas_rss_per_row = pandas_small["peak_rss_mb"] / rows_small
        out = {
            "quick": a.quick,
            "load_avg": os.getloadavg()[0],
            "cpus": os.cpu_count(),
            "generate_s": round(gen_s, 1),
            "rows_small": rows_small,
            "rows_large": rows_large,
            "chartevents_rows_large": n_adm * chart_per_adm,
            "labevents_rows_large": n_adm * lab_per_adm,
            "ours_small_s": round(ours_small["seconds"], 2),
            "ours_small_features_s": round(ours_small["features_seconds"], 2),
            "pandas_small_s": round(pandas_small["seconds"], 2),
            "ours_small_rss_mb": round(ours_small["peak_rss_mb"]),
            "pandas_small_rss_mb": round(pandas_small["peak_rss_mb"]),
            "speed_ratio_small": round(pandas_small["seconds"] / ours_small["seconds"], 2),
            "features_speed_ratio_small": round(
                pandas_small["seconds"] / ours_small["features_seconds"], 2
            ),
            "rss_ratio_small": round(pandas_small["peak_rss_mb"] / ours_small["peak_rss_mb"], 2),
            "ours_large_s": round(ours_large["seconds"], 1),
            "ours_large_features_s": round(ours_large["features_seconds"], 1),
            "ours_large_rows_per_s": round(rows_large / ours_large["seconds"]),
            "ours_large_rss_mb": round(ours_large["peak_rss_mb"]),
            "ours_rss_mb_per_million_rows": round(slope_rss * 1e6, 1),
            "projected_full_mimic_rss_gib": round(proj_rss / 1024, 2),
            "projected_full_mimic_hours": round(proj_s / 3600, 2),
            "pandas_projected_full_mimic_rss_gib": round(pandas_rss_per_row * full_rows / 1024, 1),
            "goal_peak_rss_gib": 8,
        }
        print(json.dumps(out))
    finally:
        if not a.data_dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
