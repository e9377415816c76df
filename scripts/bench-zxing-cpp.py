#!/usr/bin/env python3
"""Side by side: the kiosk's decode pipeline (rxing) and ZXing-C++ on the
same images, in the same run, on the same machine.

    python3 scripts/bench-zxing-cpp.py [CORPUS_DIR]

CORPUS_DIR is laid out like ../shared/corpus/zxing: one folder per set,
N.png with its expected text in N.txt. Installs zxing-cpp (pip) if needed
and builds the release binary. Each image is decoded 7 times by each
decoder, grayscale, single thread; the per-image median is kept.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEATS = 7


def ensure_zxing():
    try:
        import zxingcpp  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "zxing-cpp", "pillow", "numpy"])


def ours(images):
    """Per-image (median micros, text) from `locker-kiosk decode --json`."""
    binary = os.path.join(ROOT, "target", "release", "locker-kiosk")
    runs = {path: [] for path in images}
    texts = {}
    for _ in range(REPEATS):
        out = subprocess.run([binary, "decode", "--json", *images], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            runs[row["file"]].append(row["micros"])
            texts[row["file"]] = row["text"]
    return {p: (statistics.median(runs[p]), texts.get(p)) for p in images}


def theirs(images, **options):
    """Per-image (median micros, text) from ZXing-C++ with `options`."""
    import numpy
    import zxingcpp
    from PIL import Image

    result = {}
    for path in images:
        grey = numpy.asarray(Image.open(path).convert("L"))
        times, text = [], None
        for _ in range(REPEATS):
            start = time.perf_counter()
            found = zxingcpp.read_barcodes(grey, **options)
            times.append((time.perf_counter() - start) * 1e6)
            text = found[0].text if found else None
        result[path] = (statistics.median(times), text)
    return result


def read_expected(path):
    """The expected text: UTF-8 where it is, else Latin-1 (as some of the
    corpus's binary QR payloads are), like the decoders' own output."""
    raw = open(path, "rb").read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "corpus", "zxing")
    ensure_zxing()
    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    # ZXing-C++ twice: its defaults, and without rotation and inversion
    # (closer to what our pipeline tries).
    configs = [("rxing (ours)", None), ("zxing-cpp", {}), ("zxing-cpp fast", {"try_rotate": False, "try_invert": False})]
    header = f"{'set':<12} {'images':>6}"
    for name, _ in configs:
        header += f" | {name:>14} ok {'median ms':>9}"
    print(header + " | ratio to each zxing-cpp")
    groups = {"QR": [], "1D": []}
    for set_name in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, set_name)
        if not os.path.isdir(folder):
            continue
        images = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".png"))
        expected = {p: read_expected(p[:-4] + ".txt") for p in images}
        results = [ours(images) if options is None else theirs(images, **options) for _, options in configs]
        groups["QR" if set_name.startswith("qr") else "1D"].append((images, expected, results))
        print(row(set_name, images, expected, results))
    for group, sets in groups.items():
        images = [p for s in sets for p in s[0]]
        expected = {k: v for s in sets for k, v in s[1].items()}
        results = [{k: v for s in sets for k, v in s[2][i].items()} for i in range(len(configs))]
        print(row(f"all {group}", images, expected, results))


def row(name, images, expected, results):
    line = f"{name:<12} {len(images):>6}"
    medians = []
    for result in results:
        ok = sum(1 for p in images if result[p][1] == expected[p])
        median = statistics.median(t for t, _ in result.values()) / 1000
        medians.append(median)
        line += f" | {ok:>17} {median:>9.3f}"
    ratios = " ".join(f"{medians[0] / m:5.2f}" for m in medians[1:])
    return line + f" | {ratios}"


if __name__ == "__main__":
    main()
