#!/usr/bin/env python3
"""AVIF fixtures for tests/avif.rs, made by libavif's own tools (Debian's
libavif-bin: avifenc with libaom, avifdec) from two corpus images: a photo
and a PNG with alpha, cut to 240 px wide.

Usage: make_fixtures.py PHOTO RGBA_PNG OUT_DIR
Writes, into OUT_DIR, one AVIF per case (each subsampling, bit depth, range,
matrix, alpha stored straight and premultiplied, and the irot/imir display
transforms), each with a reference PNG: avifdec's decode of that very file
(libavif's built-in bilinear chroma upsampling), turned the way the
container's irot/imir say to display it, which avifdec itself does not do.
cases.tsv lists them (input, reference; one case a line).
"""
import os
import subprocess
import sys

from PIL import Image

CASES = [
    # name, source ("photo" or "rgba"), avifenc arguments, display transforms
    ("420-8bit-limited", "photo", ["-y", "420", "-d", "8", "-r", "limited"], []),
    ("420-10bit", "photo", ["-y", "420", "-d", "10"], []),
    ("422-12bit", "photo", ["-y", "422", "-d", "12"], []),
    ("444-8bit", "photo", ["-y", "444"], []),
    ("400-monochrome", "photo", ["-y", "400"], []),
    ("444-identity-gbr", "photo", ["-y", "444", "--cicp", "1/13/0"], []),
    ("420-bt2020-matrix", "photo", ["-y", "420", "--cicp", "1/13/9"], []),
    ("420-alpha", "rgba", ["-y", "420"], []),
    ("444-alpha-premultiplied", "rgba", ["-y", "444", "--premultiply"], []),
    # irot turns anti-clockwise (PIL's ROTATE_90 too); imir 0 exchanges top
    # and bottom, 1 left and right; irot applies before imir.
    ("irot1", "photo", ["--irot", "1"], [Image.Transpose.ROTATE_90]),
    ("irot3-imir0", "photo", ["--irot", "3", "--imir", "0"],
     [Image.Transpose.ROTATE_270, Image.Transpose.FLIP_TOP_BOTTOM]),
    ("imir1", "photo", ["--imir", "1"], [Image.Transpose.FLIP_LEFT_RIGHT]),
]


def source(path, mode, out):
    image = Image.open(path).convert(mode)
    image.thumbnail((240, 240), Image.Resampling.LANCZOS)
    dest = os.path.join(out, f"source-{mode}.png")
    image.save(dest, compress_level=1)
    return dest


def main():
    photo, rgba, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    sources = {"photo": source(photo, "RGB", out), "rgba": source(rgba, "RGBA", out)}
    lines = []
    for name, src, args, transforms in CASES:
        avif = os.path.join(out, f"{name}.avif")
        decoded = avif + ".decoded.png"
        subprocess.run(["avifenc", "-s", "9", *args, sources[src], avif],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["avifdec", "-d", "8", "-u", "best", avif, decoded],
                       check=True, stdout=subprocess.DEVNULL)
        reference = Image.open(decoded)
        for t in transforms:
            reference = reference.transpose(t)
        reference_path = avif + ".ref.png"
        reference.save(reference_path, icc_profile=None)
        lines.append(f"{avif}\t{reference_path}\n")
    with open(os.path.join(out, "cases.tsv"), "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
