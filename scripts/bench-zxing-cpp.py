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


def theirs(images):
    import numpy
    import zxingcpp
    from PIL import Image

    result = {}
    for path in images:
        grey = numpy.asarray(Image.open(path).convert("L"))
        times, text = [], None
        for _ in range(REPEATS):
            start = time.perf_counter()
            found = zxingcpp.read_barcodes(grey)
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
    print(f"{'set':<12} {'images':>6} | {'rxing ok':>8} {'median ms':>9} | {'zxing-cpp ok':>12} {'median ms':>9} | ratio")
    for name in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, name)
        if not os.path.isdir(folder):
            continue
        images = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".png"))
        expected = {p: read_expected(p[:-4] + ".txt") for p in images}
        a, b = ours(images), theirs(images)
        ok_a = sum(1 for p in images if a[p][1] == expected[p])
        ok_b = sum(1 for p in images if b[p][1] == expected[p])
        med_a = statistics.median(t for t, _ in a.values()) / 1000
        med_b = statistics.median(t for t, _ in b.values()) / 1000
        print(f"{name:<12} {len(images):>6} | {ok_a:>8} {med_a:>9.3f} | {ok_b:>12} {med_b:>9.3f} | {med_a / med_b:5.2f}")


if __name__ == "__main__":
    main()
