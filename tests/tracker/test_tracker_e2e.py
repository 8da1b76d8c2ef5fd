"""End-to-end test of `kestrel track`, `eval` and `report` on a tiny synthetic GOT-10k dataset
with SMAT exported from random weights (the boxes mean nothing; the plumbing, file formats,
resume, shards, batching, broken sequences and the metrics do).

    /usr/bin/python3 tests/tracker/test_tracker_e2e.py KESTREL_BIN WORK_DIR

Checks, in order: the C++ tracker against an independent Python rendering of the official loop
(reference_loop.py); track's output and --visualize; eval's files, manifest and agreement with
track; --resume; --runs; shards merged by report; a batch-2 engine giving the same boxes;
broken sequences reported by name and file and skipped; report's AO/SR/fps against the
toolkit's formulas recomputed here with numpy; the plot; the test split's zip; usage errors.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def run(args, expect=0, what=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    label = what or " ".join(str(a) for a in args[:2])
    if p.returncode != expect:
        print(f"--- {label}: exit {p.returncode}, expected {expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    check(p.returncode == expect, f"{label}: exit {expect}")
    return p


def lines(path):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line.strip()]


def boxes(path):
    return np.loadtxt(path, delimiter=",", ndmin=2)


# ---------------------------------------------------------------- the toolkit's formulas
def toolkit_iou(r1, r2, bound):
    """got10k.utils.metrics.rect_iou with bound, written out again with numpy."""
    r1, r2 = r1.copy(), r2.copy()
    for r in (r1, r2):
        r[:, 0] = np.clip(r[:, 0], 0, bound[0])
        r[:, 1] = np.clip(r[:, 1], 0, bound[1])
        r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
        r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
    x1 = np.maximum(r1[:, 0], r2[:, 0])
    y1 = np.maximum(r1[:, 1], r2[:, 1])
    x2 = np.minimum(r1[:, 0] + r1[:, 2], r2[:, 0] + r2[:, 2])
    y2 = np.minimum(r1[:, 1] + r1[:, 3], r2[:, 1] + r2[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = r1[:, 2] * r1[:, 3] + r2[:, 2] * r2[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def toolkit_metrics(results, split_dir, names):
    ious, times = [], []
    for name in names:
        seq = os.path.join(split_dir, name)
        anno = np.loadtxt(os.path.join(seq, "groundtruth.txt"), delimiter=",", ndmin=2)
        cover = np.loadtxt(os.path.join(seq, "cover.label"))
        meta = dict(line.split(": ", 1) for line in lines(os.path.join(seq, "meta_info.ini"))[1:] if ": " in line)
        bound = tuple(int(v) for v in meta["resolution"].strip("()").split(","))
        run = 1
        while os.path.exists(os.path.join(results, name, f"{name}_{run:03d}.txt")):
            b = boxes(os.path.join(results, name, f"{name}_{run:03d}.txt"))
            ious.append(toolkit_iou(b[1:], anno[1:], bound)[cover[1:] > 0])
            run += 1
        t = np.loadtxt(os.path.join(results, name, f"{name}_time.txt"), delimiter=",")
        t = t[~np.isnan(t)]
        times.append(t[t > 0])
    ious, times = np.concatenate(ious), np.concatenate(times)
    return {"ao": np.mean(ious), "sr50": np.mean(ious > 0.5), "sr75": np.mean(ious > 0.75),
            "fps": np.mean(1.0 / times), "curve": np.mean(ious[:, None] > np.linspace(0, 1, 101)[None, :], axis=0)}


# ---------------------------------------------------------------- set-up
def make_dataset(kestrel, root, splits, counts, frames, seed):
    if os.path.exists(os.path.join(root, splits[0], "list.txt")):
        return
    if subprocess.run([kestrel, "synth", "--help"], capture_output=True).returncode == 0:
        args = [kestrel, "synth", "-o", root, "--splits", ",".join(splits), "--frames", frames, "--size", "320x180",
                "--seed", seed, "--train", 0, "--val", 0, "--test", 0, "--calib", 0]
        for split, count in zip(splits, counts):
            args[args.index(f"--{split}") + 1] = count
        run(args, what=f"synth {root}")
    else:
        for split, count in zip(splits, counts):
            run([PY, os.path.join(HERE, "tiny_got10k.py"), root, "--split", split, "--sequences", count,
                 "--frames", frames, "--seed", seed], what=f"tiny_got10k {root}/{split}")


def main():
    kestrel, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    data, smat = os.path.join(work, "data"), os.path.join(work, "smat")
    make_dataset(kestrel, data, ["val", "test"], [3, 2], 8, 5)
    if not os.path.exists(os.path.join(smat, "track_b2.onnx")):
        run([PY, os.path.join(ROOT, "python/smat/export.py"), "--seed", 0, "--out-dir", smat], what="SMAT export")
        run([PY, os.path.join(HERE, "export_batched.py"), "--seed", 0, "--batch", 2, "--out",
             os.path.join(smat, "track_b2.onnx")], what="batched export")
    t_onnx, k_onnx = os.path.join(smat, "smat_template.onnx"), os.path.join(smat, "smat_track.onnx")
    t_eng, k_eng = os.path.join(smat, "template.engine"), os.path.join(smat, "track.engine")
    run([kestrel, "build", t_onnx, "-o", t_eng], what="build template engine")
    run([kestrel, "build", k_onnx, "-o", k_eng], what="build track engine")
    val = os.path.join(data, "val")
    names = lines(os.path.join(val, "list.txt"))
    seq0 = os.path.join(val, names[0])
    init = lines(os.path.join(seq0, "groundtruth.txt"))[0]
    n_frames = len([f for f in os.listdir(seq0) if f.endswith(".jpg")])
    for d in ("out", "vis"):
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    out = os.path.join(work, "out")
    os.makedirs(out)

    # ------------------------------------------------------------ track
    track_boxes = os.path.join(out, "track.txt")
    vis = os.path.join(work, "vis")
    run([kestrel, "track", "--template-engine", t_onnx, "--track-engine", k_onnx, "--images", seq0, "--init", init,
         "-o", track_boxes, "--visualize", vis], what="track (ONNX)")
    tb = boxes(track_boxes)
    check(tb.shape == (n_frames, 4), f"track: one box per frame ({tb.shape})")
    check(np.allclose(tb[0], [float(v) for v in init.split(",")]), "track: the first box is the initial box")
    check(all((b[0] >= 0 and b[1] >= 0 and b[2] >= 10 and b[3] >= 10 and b[0] + b[2] <= 320.001 and
               b[1] + b[3] <= 180.001) for b in tb[1:]), "track: boxes clipped to the image with a 10-px margin")
    shots = sorted(os.listdir(vis)) if os.path.isdir(vis) else []
    check(len(shots) == n_frames and all(open(os.path.join(vis, s), "rb").read(2) == b"\xff\xd8" for s in shots),
          "track --visualize: one JPEG per frame")
    run([PY, os.path.join(HERE, "reference_loop.py"), "--images", seq0, "--init", init, "--boxes", track_boxes],
        what="C++ tracker = official loop in Python (frame by frame)")
    p = run([kestrel, "track", "--template-engine", t_eng, "--track-engine", k_eng, "--images", seq0, "--init", init],
            what="track (engines, boxes to stdout)")
    check(np.allclose(np.loadtxt(p.stdout.splitlines(), delimiter=","), tb, atol=0.002),
          "track: engine files give the ONNX run's boxes")

    # ------------------------------------------------------------ eval, files, manifest
    full = os.path.join(out, "full")
    run([kestrel, "eval", "--dataset", data, "--split", "val", "--template-engine", t_eng, "--track-engine", k_eng,
         "-o", full], what="eval val")
    for name in names:
        n = len([f for f in os.listdir(os.path.join(val, name)) if f.endswith(".jpg")])
        b = os.path.join(full, name, f"{name}_001.txt")
        t = os.path.join(full, name, f"{name}_time.txt")
        ok = os.path.exists(b) and os.path.exists(t)
        check(ok and len(lines(b)) == n and all(len(l.split(",")) == 4 for l in lines(b)), f"eval: {name}_001.txt")
        check(ok and len(lines(t)) == n and all(float(v) > 0 for v in lines(t)), f"eval: {name}_time.txt")
        if ok:
            gt0 = [float(v) for v in lines(os.path.join(val, name, "groundtruth.txt"))[0].split(",")]
            check(np.allclose(boxes(b)[0], gt0), f"eval: {name} frame 1 holds the initial box")
    check(np.allclose(boxes(os.path.join(full, names[0], f"{names[0]}_001.txt")), tb, atol=0.002),
          "eval: the same boxes as track")
    manifest = lines(os.path.join(full, "shard_0_of_1.txt"))
    check("name: full" in manifest and "finished: 3" in manifest, "eval: manifest")
    check(not [f for f in os.listdir(os.path.join(full, names[0])) if ".tmp" in f], "eval: no temporary files left")

    # ------------------------------------------------------------ resume
    stamp = {n: os.stat(os.path.join(full, n, f"{n}_001.txt")).st_mtime_ns for n in names}
    os.remove(os.path.join(full, names[1], f"{names[1]}_time.txt"))
    p = run([kestrel, "eval", "--dataset", data, "--split", "val", "--template-engine", t_eng, "--track-engine", k_eng,
             "-o", full, "--resume"], what="eval --resume")
    check("1 tracked now, 2 already" in p.stderr, "eval --resume: only the unfinished sequence is tracked again")
    check(all(os.stat(os.path.join(full, n, f"{n}_001.txt")).st_mtime_ns == stamp[n] for n in (names[0], names[2])),
          "eval --resume: finished sequences untouched")

    # ------------------------------------------------------------ runs
    runs = os.path.join(out, "runs")
    run([kestrel, "eval", "--dataset", data, "--split", "val", "--sequences", names[0], "--template-engine", t_eng,
         "--track-engine", k_eng, "-o", runs, "--runs", 2, "-q"], what="eval --runs 2")
    r1, r2 = (os.path.join(runs, names[0], f"{names[0]}_00{r}.txt") for r in (1, 2))
    check(os.path.exists(r2) and open(r1).read() == open(r2).read(), "eval --runs 2: two identical runs")
    check(all(len(l.split(",")) == 2 for l in lines(os.path.join(runs, names[0], f"{names[0]}_time.txt"))),
          "eval --runs 2: one time column per run")

    # ------------------------------------------------------------ shards, merged by report
    for k in (0, 1):
        run([kestrel, "eval", "--dataset", data, "--split", "val", "--template-engine", t_eng, "--track-engine",
             k_eng, "-o", os.path.join(out, f"shard{k}"), "--shard", f"{k}/2", "--name", "sharded", "-q"],
            what=f"eval --shard {k}/2")
    check(sorted(os.listdir(os.path.join(out, "shard0"))) == sorted([names[0], names[2], "shard_0_of_2.txt"]),
          "shard 0/2 holds sequences 0 and 2")
    full_json, shard_json = os.path.join(out, "full.json"), os.path.join(out, "shards.json")
    run([kestrel, "report", full, "--dataset", data, "--json", full_json], what="report full")
    p = run([kestrel, "report", os.path.join(out, "shard0"), os.path.join(out, "shard1"), "--dataset", data, "--json",
             shard_json], what="report of two shards")
    a, b = (json.load(open(f))["sets"] for f in (full_json, shard_json))
    check(len(b) == 1 and b[0]["name"] == "sharded", "report: the two shards are one result set")
    check(all(a[0][k] == b[0][k] for k in ("ao", "sr50", "sr75", "frames")), "report: merged shards = unsharded run")
    p = run([kestrel, "report", os.path.join(out, "shard0"), "--dataset", data], expect=1, what="report, one shard only")
    check("shard 1/2 has no manifest" in p.stdout, "report: names the missing shard")

    # ------------------------------------------------------------ metrics as the toolkit computes them
    mine = a[0]
    ref = toolkit_metrics(full, val, names)
    check(all(abs(mine[k] - ref[k]) < 1e-12 for k in ("ao", "sr50", "sr75")), "report: AO, SR0.5, SR0.75 = toolkit")
    check(abs(mine["fps"] - ref["fps"]) < 1e-6 * ref["fps"], "report: fps = mean of 1/t")
    check(np.allclose(mine["success_curve"], ref["curve"], atol=1e-12), "report: success curve = toolkit")
    png = os.path.join(out, "report.png")
    run([kestrel, "report", full, os.path.join(out, "shard0"), os.path.join(out, "shard1"), "--dataset", data,
         "--plot", png], what="report --plot")
    check(os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "report --plot: a PNG")

    # ------------------------------------------------------------ batched engine
    batched = os.path.join(out, "batched")
    p = run([kestrel, "eval", "--dataset", data, "--split", "val", "--template-engine", t_eng, "--track-engine",
             os.path.join(smat, "track_b2.onnx"), "-o", batched, "--batch", 2, "-q"], what="eval, batch-2 engine")
    check("tracking 2 sequences at a time" in p.stderr, "eval: the batch-2 engine runs sequences in lock step")
    worst = max(float(np.abs(boxes(os.path.join(batched, n, f"{n}_001.txt")) -
                             boxes(os.path.join(full, n, f"{n}_001.txt"))).max()) for n in names)
    check(worst < 0.05, f"eval: batched boxes = one-by-one boxes (max difference {worst:.4f} px)")
    p = run([kestrel, "eval", "--dataset", data, "--split", "val", "--sequences", names[0], "--template-engine", t_eng,
             "--track-engine", k_eng, "-o", os.path.join(out, "b1"), "--batch", 4, "-q"], what="eval --batch 4, batch-1 engine")
    check("tracked one by one" in p.stderr, "eval: a batch-1 engine falls back to one by one")

    # ------------------------------------------------------------ broken sequences
    broken = os.path.join(work, "broken")
    make_dataset(kestrel, broken, ["val"], [5], 6, 11)
    bval = os.path.join(broken, "val")
    bnames = lines(os.path.join(bval, "list.txt"))
    damaged = os.path.join(work, "damaged")
    shutil.rmtree(damaged, ignore_errors=True)
    shutil.copytree(broken, damaged)
    dval = os.path.join(damaged, "val")
    os.remove(os.path.join(dval, bnames[0], "groundtruth.txt"))                      # missing groundtruth
    gt = lines(os.path.join(dval, bnames[1], "groundtruth.txt"))
    open(os.path.join(dval, bnames[1], "groundtruth.txt"), "w").write("\n".join(gt[:-2]) + "\n")  # mismatched
    with open(os.path.join(dval, bnames[2], "00000004.jpg"), "r+b") as f:           # unreadable image
        f.truncate(300)
    gt = lines(os.path.join(dval, bnames[3], "groundtruth.txt"))
    gt[0] = "10,10,0,20"                                                             # zero-size first box
    open(os.path.join(dval, bnames[3], "groundtruth.txt"), "w").write("\n".join(gt) + "\n")
    bres = os.path.join(out, "broken")
    p = run([kestrel, "eval", "--dataset", damaged, "--split", "val", "--template-engine", t_eng, "--track-engine",
             k_eng, "-o", bres], expect=1, what="eval with broken sequences")
    err = p.stderr
    check(f"{bnames[0]}: groundtruth.txt: missing" in err, "broken: missing groundtruth named")
    check(f"{bnames[1]}: groundtruth.txt: 4 boxes for 6 frames" in err, "broken: mismatched groundtruth named")
    check(f"{bnames[2]}: 00000004.jpg:" in err, "broken: unreadable image named")
    check(f"{bnames[3]}: groundtruth.txt: the first box" in err, "broken: zero-size first box named")
    check(os.path.exists(os.path.join(bres, bnames[4], f"{bnames[4]}_001.txt")), "broken: the good sequence is tracked")
    check(not any(os.path.exists(os.path.join(bres, n)) for n in bnames[:4]), "broken: no results for broken sequences")
    check(sum(1 for l in lines(os.path.join(bres, "shard_0_of_1.txt")) if l.startswith("failed: ")) == 4,
          "broken: the manifest lists the 4 failures")
    p = run([kestrel, "report", bres, "--dataset", damaged], expect=1, what="report of a run with broken sequences")
    check("failed during eval" in p.stdout and "| broken | 1/5 |" in p.stdout, "report: lists what is missing")

    # ------------------------------------------------------------ test split and its zip
    test_res = os.path.join(out, "test_run")
    run([kestrel, "eval", "--dataset", data, "--split", "test", "--template-engine", t_eng, "--track-engine", k_eng,
         "-o", test_res, "-q"], what="eval test split")
    tnames = lines(os.path.join(data, "test", "list.txt"))
    zpath = test_res + ".zip"
    members = zipfile.ZipFile(zpath).namelist() if os.path.exists(zpath) else []
    want = sorted(f"{n}/{n}_{s}.txt" for n in tnames for s in ("001", "time"))
    check(sorted(members) == want, f"eval test: {os.path.basename(zpath)} holds {len(want)} result files")
    if members:
        z = zipfile.ZipFile(zpath)
        check(z.testzip() is None and all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()),
              "eval test: stored zip with good CRCs")
        n0 = tnames[0]
        check(z.read(f"{n0}/{n0}_001.txt") == open(os.path.join(test_res, n0, f"{n0}_001.txt"), "rb").read(),
              "eval test: zip members equal the files")
    p = run([kestrel, "report", test_res, "--dataset", data, "--split", "test"], what="report test split")
    check("only speeds" in p.stdout, "report test: speeds only")

    # ------------------------------------------------------------ usage errors
    run([kestrel, "track", "--template-engine", t_eng, "--track-engine", k_eng, "--images", seq0, "--init", "1,2,3"],
        expect=2, what="track: bad --init")
    run([kestrel, "track", "--template-engine", t_eng, "--track-engine", t_eng, "--images", seq0, "--init", init],
        expect=2, what="track: a template network given as the tracking network")
    run([kestrel, "eval", "--dataset", os.path.join(work, "nowhere"), "--template-engine", t_eng, "--track-engine",
         k_eng, "-o", os.path.join(out, "x")], expect=2, what="eval: missing dataset")
    run([kestrel, "eval", "--dataset", data, "--template-engine", t_eng, "--track-engine", k_eng, "-o",
         os.path.join(out, "x"), "--shard", "2/2"], expect=2, what="eval: bad --shard")
    run([kestrel, "eval", "--dataset", data, "--template-engine", t_eng, "--track-engine", k_eng, "-o",
         os.path.join(out, "x"), "--sequences", "nope"], expect=2, what="eval: unknown sequence")

    print(f"\n{len(failures)} check(s) failed" if failures else "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
