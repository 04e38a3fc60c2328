"""The built-in demo corpus: small synthetic datasets in the *native* layouts of real ones.

``generate_corpus(mirror, seed, sizes)`` writes a tree that a loopback server
(:mod:`climb.demo.server`) serves like the real services:

    <mirror>/physionet/<slug>/<version>/...   PhysioNet projects (SHA256SUMS.txt made at serve time)
        ptb-xl/1.0.3/            PTB-XL native: ptbxl_database.csv, scp_statements.csv,
                                 records500/ (500 Hz, 16-bit .dat) and records100/
        challenge-2020/1.0.2/    training/{cpsc_2018,georgia,ptb-xl}/gN/*.hea + .mat (Challenge)
    <mirror>/kaggle/<owner>/<name>/...        Kaggle datasets (served as one zip bundle)
        aryashah2k/breast-ultrasound-images-dataset/   Dataset_BUSI_with_GT/<class>/*.png (+ masks)
        sartajbhuvaji/brain-tumor-classification-mri/  Training|Testing/<class>/*.jpg
        bjoernjostein/georgia-12lead-ecg-challenge-database/  WFDB/ (a partial copy of Georgia)
    <mirror>/github/DDVD233/CLIMB/0f767b1/src/datasets/ecg/*_splits.csv   CLIMB's split files
    <mirror>/manual/chexpert/CheXpert-v1.0/   train.csv, valid.csv, train|valid/patient*/study*/*.jpg
    <mirror>/manual/tuab/edf/{train,eval}/{normal,abnormal}/01_tcp_ar/*.edf   TUAB (EDF, TUH labels)
    <mirror>/manual/echonet_dynamic/EchoNet-Dynamic/   FileList.csv, VolumeTracings.csv, Videos/*.avi
    <mirror>/manual/inspect/                  CTPA/*.nii.gz, Final_Impressions_labels.csv (int16 HU)

Every dataset has class-dependent signal (see :mod:`climb.demo.ecg`, :mod:`climb.demo.images`),
realistic nuisances, several samples per patient where the real layout has patient ids, and a
few deliberately broken records (listed in the returned summary under ``broken``) that prepare
must quarantine. The same seed gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from climb.demo import ecg as E
from climb.demo import eeg as EEG
from climb.demo import images as I
from climb.demo import video as V
from climb.labels import get_label_space

ECG7 = tuple(c.name for c in get_label_space("ecg7").classes)
#: the 14 observation columns of CheXpert's train.csv, in the chexpert14 label space's order
CHEXPERT_COLUMNS = tuple(c.name for c in get_label_space("chexpert14").classes)
CXR_FINDINGS = ("Cardiomegaly", "Pleural Effusion", "Lung Opacity", "Pneumothorax")
BUSI = ("normal", "benign", "malignant")
BRAIN = ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")
BRAIN_PREFIX = {
    "glioma_tumor": "gg",
    "meningioma_tumor": "m",
    "no_tumor": "no",
    "pituitary_tumor": "p",
}

PHYSIONET_PTBXL = ("ptb-xl", "1.0.3")
PHYSIONET_CHALLENGE = ("challenge-2020", "1.0.2")
KAGGLE_BUSI = "aryashah2k/breast-ultrasound-images-dataset"
KAGGLE_BRAIN = "sartajbhuvaji/brain-tumor-classification-mri"
KAGGLE_GEORGIA = "bjoernjostein/georgia-12lead-ecg-challenge-database"
GITHUB_CLIMB = ("DDVD233/CLIMB", "0f767b1")


@dataclass(frozen=True)
class CorpusSizes:
    """Records per dataset (before the deliberately broken ones are added)."""

    ptbxl: int = 300
    cpsc2018: int = 240
    georgia: int = 300
    chexpert_patients: int = 150
    busi: int = 240
    brain_tumor: int = 240
    tuab: int = 20  # subjects (one 24-s EDF each: two 10-s windows)
    echonet: int = 40  # 112x112 AVI videos of 20 frames
    inspect: int = 20  # CTPA NIfTI volumes of 12 x 48 x 48

    @classmethod
    def quick(cls) -> CorpusSizes:
        return cls(
            ptbxl=120, cpsc2018=100, georgia=150, chexpert_patients=50, busi=90, brain_tumor=120,
            tuab=16, echonet=30, inspect=16,
        )  # fmt: skip


def _rng(seed: int, name: str) -> np.random.Generator:
    """An independent, order-free stream per dataset: the files of one dataset do not depend on
    which other datasets were generated."""
    h = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def _truncate(path: Path, keep: float = 0.4) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# ----------------------------------------------------------------------------------------- ECG
def write_wfdb(
    directory: Path,
    name: str,
    sig: np.ndarray,
    fs: float,
    comments: list[str] = (),  # type: ignore[assignment]
    *,
    fmt: str = "dat",
    leads: tuple[str, ...] | None = None,
) -> Path:
    """A WFDB record, 16-bit, 1000 adu/mV: ``name.hea`` + ``name.dat`` (PTB-XL) or ``name.mat``
    (Challenge: MATLAB v4 ``val``, format ``16+24``). Written directly (no wfdb round trip,
    which is ~30x slower); readable by ``wfdb.rdrecord``. Returns the header path."""
    import scipy.io

    directory.mkdir(parents=True, exist_ok=True)
    n, c = sig.shape
    names = leads or ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")[:c]
    d = np.round(np.clip(np.nan_to_num(sig, nan=0.0), -32.0, 32.0) * 1000).astype(np.int16)
    if fmt == "mat":
        sigfile, spec = f"{name}.mat", "16+24"
        scipy.io.savemat(str(directory / sigfile), {"val": d.T.copy()}, format="4")
    else:
        sigfile, spec = f"{name}.dat", "16"
        (directory / sigfile).write_bytes(d.astype("<i2").tobytes())
    fs_s = f"{fs:g}"
    lines = [f"{name} {c} {fs_s} {n}"]
    checks = (d.astype(np.int64).sum(axis=0) % 65536).tolist()
    for j in range(c):
        lines.append(f"{sigfile} {spec} 1000.0(0)/mV 16 0 {int(d[0, j])} {checks[j]} 0 {names[j]}")
    lines += [f"#{x}" for x in comments]
    hea = directory / f"{name}.hea"
    hea.write_text("\n".join(lines) + "\n")
    return hea


def _wrsamp(directory: Path, name: str, sig: np.ndarray, fs: float, comments: list[str]) -> None:
    write_wfdb(directory, name, sig, fs, comments)


def _challenge_record(
    directory: Path, rid: str, sig: np.ndarray, fs: float, dx: list[str], age: str, sex: str,
    broken: str | None = None,
) -> None:  # fmt: skip
    """A Challenge-2020 record with ``#Age/#Sex/#Dx`` comments; ``broken`` damages it."""
    comments = [f"Age: {age}", f"Sex: {sex}", f"Dx: {','.join(dx)}", "Rx: Unknown",
                "Hx: Unknown", "Sx: Unknown"]  # fmt: skip
    if broken == "flat":
        sig = np.zeros_like(sig)
    leads = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    if broken == "wrong_leads":
        sig, leads = sig[:, :8], leads[:8]
    hea = write_wfdb(directory, rid, sig, fs, comments, fmt="mat", leads=leads)
    if broken == "bad_header":
        hea.write_text(f"{rid} twelve leads at some rate\nnot a header\n")
    elif broken == "truncated":
        _truncate(directory / f"{rid}.mat", 0.35)


def _scp_statements() -> str:
    rows = [
        ("NORM", "normal ECG", 1, "NORM"),
        ("IMI", "inferior myocardial infarction", 1, "MI"),
        ("ASMI", "anteroseptal myocardial infarction", 1, "MI"),
        ("CLBBB", "complete left bundle branch block", 1, "CD"),
        ("CRBBB", "complete right bundle branch block", 1, "CD"),
        ("IVCD", "non-specific intraventricular conduction disturbance (block)", 1, "CD"),
        ("NDT", "non-diagnostic T abnormalities", 1, "STTC"),
        ("ISC_", "non-specific ischemic", 1, "STTC"),
        ("LVH", "left ventricular hypertrophy", 1, "HYP"),
        ("AFIB", "atrial fibrillation", None, None),
        ("SR", "sinus rhythm", None, None),
    ]
    out = [",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass"]
    for code, desc, diag, cls in rows:
        rhythm = "" if diag else "1.0"
        out.append(f"{code},{desc},{'1.0' if diag else ''},,{rhythm},{cls or ''},{cls or ''}")
    return "\n".join(out) + "\n"


PTBXL_WEIGHTS = {"normal": 0.35, "mi": 0.14, "cd": 0.14, "sttc": 0.12, "hyp": 0.1, "afib": 0.15}
CHALLENGE_WEIGHTS = {"normal": 0.3, "afib": 0.2, "cd": 0.18, "mi": 0.1, "sttc": 0.14, "hyp": 0.08}


def _ptbxl(root: Path, n: int, seed: int, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """PTB-XL 1.0.3 native layout; returns the rows (for CLIMB's split file)."""
    import pandas as pd

    rng = _rng(seed, "ptbxl")
    base = root / "physionet" / PHYSIONET_PTBXL[0] / PHYSIONET_PTBXL[1]
    rows: list[dict[str, Any]] = []
    patients: list[tuple[int, E.Patient, int]] = []
    ecg_id = 0
    pid = 15000
    while ecg_id < n:
        pid += int(rng.integers(1, 40))
        pat = E.Patient.draw(rng)
        # folds 9 (val) and 10 (test) get 15 % each so the small demo has usable val/test sets
        fold = int(rng.choice(10, p=[0.0875] * 8 + [0.15, 0.15])) + 1
        for _ in range(int(rng.integers(1, 4))):  # 1-3 records per patient
            if ecg_id >= n:
                break
            ecg_id += 1
            patients.append((pid, pat, fold))
            labels = E.draw_labels(rng, PTBXL_WEIGHTS)
            scp: dict[str, float] = {}
            for c in sorted(labels):
                code = E.SCP[c][int(rng.integers(len(E.SCP[c])))]
                scp[code] = float(rng.choice([50.0, 80.0, 100.0]))
            if "afib" not in labels:
                scp["SR"] = 0.0
            sig = E.synth_ecg(labels, 500, 10, rng, pat)
            sub = f"{(ecg_id // 1000) * 1000:05d}"
            hr_name, lr_name = f"{ecg_id:05d}_hr", f"{ecg_id:05d}_lr"
            _wrsamp(base / "records500" / sub, hr_name, sig, 500, [])
            _wrsamp(base / "records100" / sub, lr_name, sig[::5], 100, [])
            rows.append(
                {
                    "ecg_id": ecg_id,
                    "patient_id": float(pid),
                    "age": float(rng.integers(20, 90)),
                    "sex": int(rng.integers(2)),
                    "height": np.nan,
                    "weight": np.nan,
                    "nurse": np.nan,
                    "site": 0.0,
                    "device": "CS-12   E",
                    "recording_date": f"1990-01-{1 + ecg_id % 28:02d} 10:00:00",
                    "report": "synthetic demo record",
                    "scp_codes": repr(scp),
                    "heart_axis": "",
                    "infarction_stadium1": "",
                    "infarction_stadium2": "",
                    "validated_by": np.nan,
                    "second_opinion": False,
                    "initial_autogenerated_report": False,
                    "validated_by_human": True,
                    "baseline_drift": "",
                    "static_noise": "",
                    "burst_noise": "",
                    "electrodes_problems": "",
                    "extra_beats": "",
                    "pacemaker": "",
                    "strat_fold": fold,
                    "filename_lr": f"records100/{sub}/{lr_name}",
                    "filename_hr": f"records500/{sub}/{hr_name}",
                    "_labels": sorted(labels),
                }
            )
    # broken records: an unparseable label string, a truncated signal, a missing signal file
    broken = summary["broken"].setdefault("ptbxl", [])
    rows[3]["scp_codes"] = "{'NORM': 100.0"
    broken.append({"record": f"HR{rows[3]['ecg_id']:05d}", "kind": "unparseable scp_codes"})
    for i, kind in ((7, "truncated"), (11, "missing_signal")):
        dat = base / (rows[i]["filename_hr"] + ".dat")
        if kind == "truncated":
            _truncate(dat)
        else:
            dat.unlink()
        broken.append({"record": f"HR{rows[i]['ecg_id']:05d}", "kind": kind})
    df = pd.DataFrame([{k: v for k, v in r.items() if k != "_labels"} for r in rows])
    _write(base / "ptbxl_database.csv", df.to_csv(index=False))
    _write(base / "scp_statements.csv", _scp_statements())
    _write(base / "LICENSE.txt", "Synthetic demo data generated by climb (not PTB-XL).\n")
    summary["datasets"]["ptbxl"] = {
        "records": len(rows),
        "patients": len({r["patient_id"] for r in rows}),
    }
    return rows


def _challenge(
    root: Path,
    key: str,
    folder: str,
    prefix: str,
    n: int,
    seed: int,
    summary: dict[str, Any],
    fs_choices: tuple[float, ...],
    seconds: tuple[float, float],
) -> list[dict[str, Any]]:
    """One Challenge-2020 training source: ``training/<folder>/gN/<prefix>NNNN.hea + .mat``."""
    rng = _rng(seed, key)
    base = root / "physionet" / PHYSIONET_CHALLENGE[0] / PHYSIONET_CHALLENGE[1] / "training"
    width = 4 if prefix == "A" else 5
    rows = []
    broken_at = {5: "bad_header", 9: "truncated", 13: "wrong_leads", 17: "flat"}
    for i in range(1, n + 1):
        rid = f"{prefix}{i:0{width}d}"
        labels = E.draw_labels(rng, CHALLENGE_WEIGHTS)
        fs = float(fs_choices[int(rng.integers(len(fs_choices)))])
        secs = float(np.round(rng.uniform(*seconds), 1))
        sig = E.synth_ecg(labels, fs, secs, rng)
        dx = [E.SNOMED[c][int(rng.integers(len(E.SNOMED[c])))] for c in sorted(labels)]
        kind = broken_at.get(i)
        _challenge_record(
            base / folder / f"g{1 + (i - 1) // 50}", rid, sig, fs, dx,
            age=str(int(rng.integers(20, 90))), sex="Male" if rng.random() < 0.5 else "Female",
            broken=kind,
        )  # fmt: skip
        if kind:
            summary["broken"].setdefault(key, []).append({"record": rid, "kind": kind})
        rows.append({"record": rid, "_labels": sorted(labels)})
    summary["datasets"][key] = {"records": n, "patients": n}
    return rows


def _climb_split_csv(
    rows: list[dict[str, Any]], id_of: Callable[[dict[str, Any]], str], seed: int
) -> str:
    """A file shaped like CLIMB's ``*_splits.csv`` (record-level train/val, 7-class labels)."""
    rng = _rng(seed, "climb-splits")
    lines = ["patient,split,label," + ",".join(ECG7)]
    for r in rows:
        mh = [1 if c in r["_labels"] else 0 for c in ECG7]
        label = mh.index(1) if any(mh) else 0
        split = "val" if rng.random() < 0.2 else "train"
        lines.append(f"{id_of(r)},{split},{label}," + ",".join(map(str, mh)))
    return "\n".join(lines) + "\n"


def _georgia_kaggle_copy(root: Path, n: int) -> None:
    """The Kaggle mirror of Georgia holds a partial copy of the same records (duplicates that
    prepare keeps once and quarantines once, as with the real two sources)."""
    src = (
        root
        / "physionet"
        / PHYSIONET_CHALLENGE[0]
        / PHYSIONET_CHALLENGE[1]
        / "training"
        / "georgia"
    )
    dst = root / "kaggle" / KAGGLE_GEORGIA / "WFDB"
    dst.mkdir(parents=True, exist_ok=True)
    for hea in sorted(src.rglob("*.hea"))[:n]:
        for p in hea.parent.glob(hea.stem + ".*"):
            (dst / p.name).write_bytes(p.read_bytes())


# -------------------------------------------------------------------------------------- images
def _save(img: np.ndarray, path: Path, fmt: str, rng: np.random.Generator) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    if fmt == "png16":
        Image.fromarray(img.astype(np.uint16) * 257).save(buf, format="PNG")
    elif fmt == "pngrgb":
        Image.fromarray(np.repeat(img[..., None], 3, axis=2)).save(buf, format="PNG")
    elif fmt == "png":
        Image.fromarray(img).save(buf, format="PNG")
    else:
        Image.fromarray(img).save(buf, format="JPEG", quality=int(rng.integers(80, 96)))
    path.write_bytes(buf.getvalue())


def _chexpert(root: Path, patients: int, seed: int, summary: dict[str, Any]) -> None:
    rng = _rng(seed, "chexpert")
    base = root / "manual" / "chexpert" / "CheXpert-v1.0"
    header = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *CHEXPERT_COLUMNS]
    tables: dict[str, list[list[str]]] = {"train": [], "valid": []}
    n = 0
    for p in range(1, patients + 1):
        part = "valid" if rng.random() < 0.2 else "train"
        sex, age = ("Male", "Female")[int(rng.integers(2))], str(int(rng.integers(18, 90)))
        for s in range(1, int(rng.integers(1, 4)) + 1):  # 1-3 studies per patient
            findings = {f for f in CXR_FINDINGS if rng.random() < 0.28}
            h = int(rng.integers(150, 190))
            w = int(rng.integers(130, 160))
            img = I.chest_xray(findings, h, w, rng)
            rel = f"{part}/patient{p:05d}/study{s}/view1_frontal.jpg"
            _save(img, base / rel, "jpg", rng)
            n += 1
            vals = []
            for c in CHEXPERT_COLUMNS:
                if c == "No Finding":
                    vals.append("" if findings else "1.0")
                elif c in findings:
                    vals.append("-1.0" if rng.random() < 0.1 else "1.0")
                elif c in CXR_FINDINGS:
                    vals.append("0.0" if rng.random() < 0.5 else "")
                else:
                    vals.append("")
            tables[part].append(
                [
                    f"CheXpert-v1.0/{rel}",
                    sex,
                    age,
                    "Frontal",
                    ("AP", "PA")[int(rng.integers(2))],
                    *vals,
                ]
            )
    # broken: a truncated JPEG and a row whose image is missing
    broken = summary["broken"].setdefault("chexpert", [])
    first = tables["train"][2][0]
    _truncate(base / first.split("/", 1)[1], 0.3)
    broken.append({"record": first.split("/", 1)[1], "kind": "truncated JPEG"})
    ghost = [
        "CheXpert-v1.0/train/patient99999/study1/view1_frontal.jpg",
        "Male",
        "50",
        "Frontal",
        "PA",
    ]
    tables["train"].append([*ghost, "1.0", *[""] * 13])
    broken.append(
        {"record": "train/patient99999/study1/view1_frontal.jpg", "kind": "missing image"}
    )
    for part, rows in tables.items():
        lines = [",".join(header)] + [",".join(r) for r in rows]
        _write(base / f"{part}.csv", "\n".join(lines) + "\n")
    summary["datasets"]["chexpert"] = {"records": n + 1, "patients": patients + 1}


def _busi(root: Path, n: int, seed: int, summary: dict[str, Any]) -> None:
    rng = _rng(seed, "busi")
    base = root / "kaggle" / KAGGLE_BUSI / "Dataset_BUSI_with_GT"
    counts = dict.fromkeys(BUSI, 0)
    for i in range(n):
        label = BUSI[i % 3]
        counts[label] += 1
        h, w = int(rng.integers(110, 150)), int(rng.integers(130, 170))
        img = I.ultrasound(label, h, w, rng)
        fmt = ("pngrgb", "png", "png16")[int(rng.integers(3))]
        name = f"{label} ({counts[label]})"
        _save(img, base / label / f"{name}.png", fmt, rng)
        mask = ((img < 40) * 255).astype(np.uint8)
        _save(mask, base / label / f"{name}_mask.png", "png", rng)
    broken = summary["broken"].setdefault("busi", [])
    bad = base / "benign" / "benign (2).png"
    _truncate(bad, 0.3)
    broken.append({"record": "Dataset_BUSI_with_GT/benign/benign (2).png", "kind": "truncated PNG"})
    (base / "malignant" / "malignant (999).png").write_bytes(b"")
    broken.append(
        {"record": "Dataset_BUSI_with_GT/malignant/malignant (999).png", "kind": "empty file"}
    )
    summary["datasets"]["busi"] = {"records": n + 1, "patients": n + 1}


def _brain_tumor(root: Path, n: int, seed: int, summary: dict[str, Any]) -> None:
    rng = _rng(seed, "brain_tumor")
    base = root / "kaggle" / KAGGLE_BRAIN
    counts: dict[tuple[str, str], int] = {}
    for i in range(n):
        label = BRAIN[i % 4]
        part = "Testing" if rng.random() < 0.2 else "Training"
        k = counts[(part, label)] = counts.get((part, label), 0) + 1
        size = int(rng.integers(120, 170))
        img = I.brain_mri(label, size, size + int(rng.integers(-10, 10)), rng)
        _save(img, base / part / label / f"{BRAIN_PREFIX[label]} ({k}).jpg", "jpg", rng)
    broken = summary["broken"].setdefault("brain_tumor", [])
    bad = base / "Training" / "no_tumor" / "no (1).jpg"
    _truncate(bad, 0.25)
    broken.append({"record": "Training/no_tumor/no (1).jpg", "kind": "truncated JPEG"})
    _write(base / "Training" / "glioma_tumor" / "gg (999).jpg", "this is not an image\n")
    broken.append({"record": "Training/glioma_tumor/gg (999).jpg", "kind": "not an image"})
    summary["datasets"]["brain_tumor"] = {"records": n + 1, "patients": n + 1}


# ----------------------------------------------------------------------------------------- EEG
def _tuab(root: Path, subjects: int, seed: int, summary: dict[str, Any]) -> None:
    """TUAB v3 layout (a manual source: placed under raw/tuab by hand), see climb.demo.eeg."""
    EEG.write_tuab_tree(root / "manual" / "tuab", subjects=subjects, seconds=24.0, seed=seed)
    summary["broken"]["tuab"] = [
        {"record": r, "kind": EEG.BROKEN_TUAB[r.split("_w")[0]]}
        for r in EEG.broken_tuab_records(24.0)
    ]
    summary["datasets"]["tuab"] = {
        "records": subjects + len(EEG.BROKEN_TUAB),
        "patients": subjects + len(EEG.BROKEN_TUAB),
    }


def _echonet_inspect(root: Path, sizes: CorpusSizes, seed: int, summary: dict[str, Any]) -> None:
    """EchoNet-Dynamic (AVI) and INSPECT (NIfTI), manual sources, see climb.demo.video."""
    V.write_echonet_tree(root / "manual" / "echonet_dynamic", videos=sizes.echonet, seed=seed)
    V.write_inspect_tree(root / "manual" / "inspect", volumes=sizes.inspect, seed=seed)
    for key, n, broken in (("echonet_dynamic", sizes.echonet, V.BROKEN_ECHONET),
                           ("inspect", sizes.inspect, V.BROKEN_INSPECT)):  # fmt: skip
        summary["broken"][key] = [{"record": r, "kind": k} for r, k in broken.items()]
        summary["datasets"][key] = {"records": n + len(broken), "patients": n + len(broken)}


# ------------------------------------------------------------------------------------ the whole
STEPS = ("ptbxl", "cpsc2018", "georgia", "chexpert", "busi", "brain_tumor", "tuab",
         "echonet_dynamic + inspect", "climb splits")  # fmt: skip


def generate_corpus(
    mirror: str | Path,
    seed: int = 0,
    sizes: CorpusSizes | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the demo corpus under ``mirror`` (see the module doc) and return a summary:
    ``{"seed", "sizes", "datasets": {key: {records, patients}}, "broken": {key: [...]}}``,
    also saved as ``<mirror>/corpus.json``."""
    root = Path(mirror)
    root.mkdir(parents=True, exist_ok=True)
    sizes = sizes or CorpusSizes()
    summary: dict[str, Any] = {"seed": seed, "sizes": asdict(sizes), "datasets": {}, "broken": {}}
    done = progress or (lambda name: None)
    ptbxl_rows = _ptbxl(root, sizes.ptbxl, seed, summary)
    done("ptbxl")
    cpsc_rows = _challenge(
        root, "cpsc2018", "cpsc_2018", "A", sizes.cpsc2018, seed, summary, (500.0,), (6.0, 20.0)
    )
    done("cpsc2018")
    ga_rows = _challenge(
        root, "georgia", "georgia", "E", sizes.georgia, seed, summary, (500.0, 500.0, 250.0, 1000.0),
        (10.0, 10.0),
    )  # fmt: skip
    _georgia_kaggle_copy(root, 8)
    summary["broken"]["georgia"].append(
        {"record": "8 records of the Kaggle copy", "kind": "duplicate record ids"}
    )
    done("georgia")
    # PTB-XL's Challenge copy (the ptbxl card's second source; the native layout wins)
    rng = _rng(seed, "ptbxl-challenge")
    for r in ptbxl_rows[:6]:
        dx = [E.SNOMED[c][0] for c in r["_labels"]]
        sig = E.synth_ecg(set(r["_labels"]), 500, 10, rng)
        base = root / "physionet" / PHYSIONET_CHALLENGE[0] / PHYSIONET_CHALLENGE[1] / "training"
        _challenge_record(
            base / "ptb-xl" / "g1", f"HR{r['ecg_id']:05d}", sig, 500, dx, "60", "Male"
        )
    _chexpert(root, sizes.chexpert_patients, seed, summary)
    done("chexpert")
    _busi(root, sizes.busi, seed, summary)
    done("busi")
    _brain_tumor(root, sizes.brain_tumor, seed, summary)
    done("brain_tumor")
    _tuab(root, sizes.tuab, seed, summary)
    done("tuab")
    _echonet_inspect(root, sizes, seed, summary)
    done("echonet_dynamic + inspect")
    gh = root / "github" / GITHUB_CLIMB[0] / GITHUB_CLIMB[1] / "src" / "datasets" / "ecg"
    _write(
        gh / "ptbxl_splits.csv",
        _climb_split_csv(ptbxl_rows, lambda r: f"HR{r['ecg_id']:05d}", seed),
    )
    _write(gh / "CPSC_splits.csv", _climb_split_csv(cpsc_rows, lambda r: r["record"], seed))
    _write(gh / "Ga_splits.csv", _climb_split_csv(ga_rows, lambda r: r["record"], seed))
    done("climb splits")
    _write(root / "corpus.json", json.dumps(summary, indent=1, sort_keys=True))
    return summary


def tree_digest(folder: str | Path) -> str:
    """sha256 over relative paths and bytes of every file under ``folder`` (determinism checks)."""
    h = hashlib.sha256()
    base = Path(folder)
    for p in sorted(base.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(base).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


__all__ = ["STEPS", "CorpusSizes", "generate_corpus", "tree_digest"]
