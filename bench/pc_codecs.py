#!/usr/bin/python3
"""Lossless image codecs side by side on the Fashion-MNIST test set: probkit's
probabilistic-circuit codec against JPEG-XL (cjxl -d 0 -e 9), WebP lossless
(cwebp -lossless -z 9), PNG (optipng -o7) and xz -9e, in one run.

    /usr/bin/python3 bench/pc_codecs.py --model MODEL.pkpc [--images IDX] [--limit 10000]
                                        [--per-image 300] [--runs 3] [--threads 1]

Sizes: every codec codes the same images (a) tiled into one picture (100
columns) and (b) one file per image (the first --per-image images for the
slow external codecs; ours codes every image alone in one container, which
keeps random access).  Every codec's output is decoded and compared with the
input pixels before its size counts.  bpd = 8 * bytes / pixels; ours is
reported with and without the model file amortised over the images.
Speed: images/s coding one image at a time (--threads threads for ours;
cjxl/djxl run as one process per image with --num_threads), timed
alternately ours/peer over --runs rounds, medians.
Writes bench/results/pc_codecs.json.  Needs libjxl-tools, webp, optipng, xz-utils.
"""
import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--model", required=False)
ap.add_argument("--images", default=None, help="IDX images (default: Fashion-MNIST t10k)")
ap.add_argument("--limit", type=int, default=10000)
ap.add_argument("--per-image", type=int, default=300)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--name", default="pc_codecs")
args = ap.parse_args()
harness.set_threads(args.threads)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

for tool in ("cjxl", "djxl", "cwebp", "dwebp", "optipng", "xz"):
    if shutil.which(tool) is None:
        harness.skip(f"{tool} missing: apt-get install libjxl-tools webp optipng xz-utils")
probkit = harness.find_program("probkit")
if probkit is None:
    harness.skip(f"probkit not built (looked in {harness.build_dir()})")
if not args.model or not os.path.exists(args.model):
    harness.skip("--model MODEL.pkpc needed: train one with `probkit pc learn -i train-images-idx3-ubyte.gz "
                 "--k 32 -o MODEL.pkpc`")

data = os.environ.get("PROBKIT_DATA", os.path.join(harness.ROOT, "data"))
src = args.images or os.path.join(data, "fashion-mnist", "t10k-images-idx3-ubyte.gz")
raw = (gzip.open if src.endswith(".gz") else open)(src, "rb").read()
n0, h, w = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
n = min(n0, args.limit)
x = np.frombuffer(raw, np.uint8, offset=16, count=n0 * h * w).reshape(n0, h, w)[:n]
pixels = n * h * w
tmp = tempfile.mkdtemp(prefix="probkit-bench-pc-")


def run(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def size(path):
    return os.path.getsize(path)


def read_png(path):
    return np.asarray(Image.open(path).convert("L"))


# ---- inputs -----------------------------------------------------------------------
cols = 100
rows = (n + cols - 1) // cols
tile = np.zeros((rows * h, cols * w), np.uint8)
for i in range(n):
    r, c = divmod(i, cols)
    tile[r * h:(r + 1) * h, c * w:(c + 1) * w] = x[i]
tile_png = os.path.join(tmp, "tile.png")
Image.fromarray(tile).save(tile_png)
idx = os.path.join(tmp, "test.idx")
with open(idx, "wb") as f:
    f.write(bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + h.to_bytes(4, "big") + w.to_bytes(4, "big"))
    f.write(x.tobytes())
m = min(args.per_image, n)
single = []
for i in range(m):
    p = os.path.join(tmp, f"img{i:05d}.png")
    Image.fromarray(x[i]).save(p)
    single.append(p)

results = {}


def record(name, tiled_bytes, per_image_bytes, per_image_count, note=""):
    results[name] = {
        "tiled_bpd": None if tiled_bytes is None else 8.0 * tiled_bytes / pixels,
        "per_image_bpd": None if per_image_bytes is None else 8.0 * per_image_bytes / (per_image_count * h * w),
        "per_image_count": per_image_count,
        "note": note,
    }


# ---- classical codecs ---------------------------------------------------------------
nt = str(args.threads)
jxl = os.path.join(tmp, "tile.jxl")
run(["cjxl", tile_png, jxl, "-d", "0", "-e", "9", "--num_threads", nt])
run(["djxl", jxl, os.path.join(tmp, "tile_d.png"), "--num_threads", nt])
assert np.array_equal(read_png(os.path.join(tmp, "tile_d.png")), tile), "JPEG-XL tiled round trip differs"
jxl_single = 0
for p in single:
    run(["cjxl", p, p + ".jxl", "-d", "0", "-e", "9", "--num_threads", nt])
    jxl_single += size(p + ".jxl")
run(["djxl", single[0] + ".jxl", single[0] + ".d.png"])
assert np.array_equal(read_png(single[0] + ".d.png"), x[0])
record("JPEG-XL (cjxl -d 0 -e 9)", size(jxl), jxl_single, m)

webp = os.path.join(tmp, "tile.webp")
run(["cwebp", "-lossless", "-z", "9", "-quiet", tile_png, "-o", webp])
run(["dwebp", webp, "-o", os.path.join(tmp, "tile_w.png")])
assert np.array_equal(read_png(os.path.join(tmp, "tile_w.png")), tile), "WebP tiled round trip differs"
webp_single = 0
for p in single:
    run(["cwebp", "-lossless", "-z", "9", "-quiet", p, "-o", p + ".webp"])
    webp_single += size(p + ".webp")
record("WebP lossless (cwebp -lossless -z 9)", size(webp), webp_single, m)

opng = os.path.join(tmp, "tile_o.png")
run(["optipng", "-o7", "-quiet", "-out", opng, tile_png])
assert np.array_equal(read_png(opng), tile)
png_single = 0
for p in single[: min(m, 100)]:  # optipng -o7 is slow; 100 images suffice for a mean
    run(["optipng", "-o7", "-quiet", "-out", p + ".o.png", p])
    png_single += size(p + ".o.png")
record("PNG (optipng -o7)", size(opng), png_single, min(m, 100))

rawf = os.path.join(tmp, "raw.bin")
with open(rawf, "wb") as f:
    f.write(x.tobytes())
run(["xz", "-9e", "-k", "-f", rawf])
assert np.array_equal(np.frombuffer(subprocess.run(["xz", "-dc", rawf + ".xz"], check=True, capture_output=True).stdout,
                                    np.uint8), x.reshape(-1))
xz_single = 0
for i in range(m):
    p = os.path.join(tmp, f"raw{i}.bin")
    with open(p, "wb") as f:
        f.write(x[i].tobytes())
    run(["xz", "-9e", "-f", p])
    xz_single += size(p + ".xz")
record("xz -9e (raw bytes)", size(rawf + ".xz"), xz_single, m)

# ---- ours -------------------------------------------------------------------------------
env = dict(os.environ, OMP_NUM_THREADS=nt)
out_sep, out_str = os.path.join(tmp, "sep.pkpz"), os.path.join(tmp, "str.pkpz")
subprocess.run([probkit, "pc", "compress", "-m", args.model, "-i", idx, "-o", out_sep], check=True, env=env,
               stdout=subprocess.DEVNULL)
subprocess.run([probkit, "pc", "compress", "-m", args.model, "-i", idx, "-o", out_str, "--stream"], check=True,
               env=env, stdout=subprocess.DEVNULL)
for f in (out_sep, out_str):
    dec = os.path.join(tmp, "dec.idx")
    subprocess.run([probkit, "pc", "decompress", "-m", args.model, "-i", f, "-o", dec], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    assert open(dec, "rb").read()[16:] == x.tobytes(), f"probkit round trip differs ({f})"
model_bytes = size(args.model)
ev = json.loads(subprocess.run([probkit, "pc", "eval", "-m", args.model, "-i", idx, "--json", "--naive", "2",
                                "--limit", str(min(n, 200))], check=True, env=env, capture_output=True).stdout)
results["probkit pc (HCLT), images coded alone"] = {
    "tiled_bpd": None, "per_image_bpd": 8.0 * size(out_sep) / pixels, "per_image_count": n,
    "note": "one container, every image decodable on its own"}
results["probkit pc (HCLT), streamed"] = {
    "tiled_bpd": 8.0 * size(out_str) / pixels, "per_image_bpd": None, "per_image_count": n,
    "note": "one rANS stream for all images"}
results["probkit pc (HCLT), images alone + model amortised"] = {
    "tiled_bpd": 8.0 * (size(out_str) + model_bytes) / pixels,
    "per_image_bpd": 8.0 * (size(out_sep) + model_bytes) / pixels, "per_image_count": n,
    "note": f"model file {model_bytes} bytes ({'version-2 quantised' if open(args.model, 'rb').read(5)[4] == 2 else 'float32'}); "
            f"tiled column: streamed + model"}

# ---- speed: one image at a time ------------------------------------------------------------
ns = min(m, 50)
sub = os.path.join(tmp, "sub.idx")
with open(sub, "wb") as f:
    f.write(bytes([0, 0, 8, 3]) + ns.to_bytes(4, "big") + h.to_bytes(4, "big") + w.to_bytes(4, "big"))
    f.write(x[:ns].tobytes())
sub_out = os.path.join(tmp, "sub.pkpz")


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


cpu = {"ours_encode": [], "ours_decode": [], "cjxl": [], "djxl": []}


def ours_enc():
    t = time.perf_counter()
    subprocess.run([probkit, "pc", "compress", "-m", args.model, "-i", sub, "-o", sub_out], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def ours_dec():
    t = time.perf_counter()
    subprocess.run([probkit, "pc", "decompress", "-m", args.model, "-i", sub_out, "-o", os.path.join(tmp, "s.idx")],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def jxl_enc():
    t = time.perf_counter()
    for p in single[:ns]:
        run(["cjxl", p, p + ".jxl", "-d", "0", "-e", "9", "--num_threads", nt])
    return time.perf_counter() - t


def jxl_dec():
    t = time.perf_counter()
    for p in single[:ns]:
        run(["djxl", p + ".jxl", p + ".d.png", "--num_threads", nt])
    return time.perf_counter() - t


speed = {"ours_encode": [], "ours_decode": [], "cjxl": [], "djxl": []}
for r in range(args.runs):
    pairs = [("ours_encode", ours_enc), ("cjxl", jxl_enc), ("ours_decode", ours_dec), ("djxl", jxl_dec)]
    if r % 2:
        pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
    for k, fn in pairs:
        c0 = child_cpu()
        speed[k].append(ns / fn())
        cpu[k].append(ns / (child_cpu() - c0))
med = {k: statistics.median(v) for k, v in speed.items()}
med_cpu = {k: statistics.median(v) for k, v in cpu.items()}

payload = {
    "name": args.name,
    "images": n, "height": h, "width": w, "source": src, "model": os.path.abspath(args.model),
    "model_k": ev.get("k"), "model_bytes": model_bytes,
    "theoretical_bpd_first_200": ev.get("theoretical_bpd"),
    "incremental_speedup_vs_naive": ev.get("speedup"),
    "codecs": results,
    "speed_images_per_cpu_s": {"median": med_cpu, "runs": cpu,
                               "ratio_encode_ours_over_cjxl": med_cpu["ours_encode"] / med_cpu["cjxl"],
                               "ratio_decode_ours_over_djxl": med_cpu["ours_decode"] / med_cpu["djxl"],
                               "note": "images per CPU-second (user+sys of the child processes): robust to a "
                                       "loaded machine, unlike wall time"},
    "speed_images_per_s": {"median": med, "runs": speed, "images_per_run": ns, "threads": args.threads,
                           "ratio_encode_ours_over_cjxl": med["ours_encode"] / med["cjxl"],
                           "ratio_decode_ours_over_djxl": med["ours_decode"] / med["djxl"],
                           "note": "ours includes loading the model once per run (one process for ns images); "
                                   "cjxl/djxl start one process per image"},
    "machine": harness.machine_info(),
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "versions": {t: subprocess.run([t, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
                 for t in ("cjxl", "xz")},
}
harness.write_result(args.name, payload)
print(f"{'codec':55s} {'tiled bpd':>10s} {'per-image bpd':>14s}")
for k, v in results.items():
    t = "-" if v["tiled_bpd"] is None else f"{v['tiled_bpd']:.4f}"
    p = "-" if v["per_image_bpd"] is None else f"{v['per_image_bpd']:.4f}"
    print(f"{k:55s} {t:>10s} {p:>14s}")
print("images/s (median, wall):", {k: round(v, 1) for k, v in med.items()})
print("images per CPU-second (median):", {k: round(v, 1) for k, v in med_cpu.items()})
shutil.rmtree(tmp, ignore_errors=True)
