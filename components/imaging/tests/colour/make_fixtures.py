#!/usr/bin/env python3
"""Colour-managed fixtures for tests/colour.rs, made from a corpus photo with
LittleCMS (through Pillow's ImageCms) and real ICC profiles from Debian's
colord-data, plus a CMYK profile made from Debian's FOGRA29L data and
Ghostscript's LUT-based default CMYK profile (Debian's libgs-common). AVIF
inputs are encoded by libavif's avifenc (Debian's libavif-bin), with the
profile in a `colr` box, and once (Display P3) as H.273 code points instead
(`nclx` 12/13/6), once more with that `colr` box renamed `free` so that only
the AV1 sequence header's code points remain; their decoded pixels come from
avifdec.

Usage: make_fixtures.py CORPUS_PHOTO OUT_DIR [RGB_PROFILE.icc ...]
(extra RGB profiles, e.g. a Display P3 one, which no Debian package ships)
Writes, into OUT_DIR, each case's input file (with its profile embedded), a
colour-managed sRGB reference (untagged PNG, the input's own decoded pixels
converted by LittleCMS), the same pixels read as if untagged (to prove a case
would fail if its profile were ignored), and cases.tsv listing them
(input, reference, untagged; one case a line).
"""
import io
import os
import subprocess
import sys

from PIL import Image, ImageChops, ImageCms

COLORD = "/usr/share/color/icc/colord"
HERE = os.path.dirname(os.path.abspath(__file__))
INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC
CMYK_INTENT = ImageCms.Intent.PERCEPTUAL
GHOSTSCRIPT_CMYK = "/usr/share/color/icc/ghostscript/default_cmyk.icc"
SRGB = ImageCms.createProfile("sRGB")


def save(image, path, **kwargs):
    if path.endswith(".png"):
        kwargs.setdefault("compress_level", 1)
        # Pillow would copy a decoded file's profile into the PNG: untagged means untagged.
        kwargs.setdefault("icc_profile", None)
    image.save(path, **kwargs)
    return path


def to_srgb(image, profile_bytes, intent=INTENT):
    profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
    return ImageCms.profileToProfile(
        image, profile, SRGB, renderingIntent=intent, outputMode="RGB"
    )


def avif(tagged_png, path, icc, nclx=None):
    """avifenc of a tagged PNG, and avifdec's pixels of the result."""
    args = ["--ignore-icc", "--cicp", nclx] if nclx else []
    subprocess.run(["avifenc", "-s", "9", "--min", "0", "--max", "20", *args, tagged_png, path],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["avifdec", "-d", "8", path, path + ".decoded.png"],
                   check=True, stdout=subprocess.DEVNULL)
    return Image.open(path + ".decoded.png").convert("RGB")


def rgb_cases(base, out, extra):
    cases = []
    profiles = [os.path.join(COLORD, f"{name}.icc") for name in ["AdobeRGB1998", "ProPhotoRGB"]]
    for path in profiles + extra:
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path, "rb") as f:
            icc = f.read()
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        tagged = ImageCms.profileToProfile(base, SRGB, profile, renderingIntent=INTENT)
        for ext, kwargs in [
            ("jpg", {"quality": 95, "subsampling": 0}),
            ("png", {}),
            ("webp", {"quality": 95}),
        ]:
            path = save(tagged, os.path.join(out, f"{name}.{ext}"), icc_profile=icc, **kwargs)
            decoded = Image.open(path).convert("RGB")
            cases.append(case(path, decoded, icc))
        png = os.path.join(out, f"{name}.png")
        path = os.path.join(out, f"{name}.avif")
        cases.append(case(path, avif(png, path, icc), icc))
        if name == "DisplayP3":
            path = os.path.join(out, f"{name}-nclx.avif")
            decoded = avif(png, path, icc, nclx="12/13/6")
            cases.append(case(path, decoded, icc))
            # The same code points in the AV1 sequence header alone, as from
            # writers that leave `colr` out: the box renamed `free`.
            with open(path, "rb") as f:
                data = f.read()
            assert data.count(b"colr") == 1, "one colr box"
            bare = os.path.join(out, f"{name}-no-colr.avif")
            with open(bare, "wb") as f:
                f.write(data.replace(b"colr", b"free"))
            cases.append(case(bare, decoded, icc))
    return cases


def case(path, decoded, icc):
    """A tagged input, its colour-managed sRGB reference, and its pixels untagged."""
    return {
        "input": path,
        "reference": save(to_srgb(decoded, icc), path + ".ref.png"),
        "untagged": save(decoded, path + ".untagged.png"),
    }


def strip_adobe(jpeg):
    """The same JPEG without its Adobe APP14 segment."""
    out, at = bytearray(jpeg[:2]), 2
    while jpeg[at + 1] != 0xDA:
        length = int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if not (jpeg[at + 1] == 0xEE and jpeg[at + 4 : at + 9] == b"Adobe"):
            out += jpeg[at : at + 2 + length]
        at += 2 + length
    return bytes(out + jpeg[at:])


def cmyk_cases(base, out):
    # Ink from the photo with grey replaced by black (a plausible separation;
    # the profiles below decide what it looks like).
    c, m, y = ImageChops.invert(base).split()
    k = ImageChops.darker(ImageChops.darker(c, m), y).point(lambda v: v * 3 // 4)
    cmyk = Image.merge("CMYK", [ImageChops.subtract(v, k) for v in (c, m, y)] + [k])
    with open(os.path.join(HERE, "fogra29l.icc"), "rb") as f:
        embedded = f.read()
    with open(os.path.join(HERE, "../../src/colour/default_cmyk.icc"), "rb") as f:
        default = f.read()
    # A press profile of lut16 A2B tables into Lab (Debian's libgs-common).
    with open(GHOSTSCRIPT_CMYK, "rb") as f:
        ghostscript = f.read()

    cases = []
    # Pillow writes CMYK JPEGs as Photoshop does: inverted, with Adobe APP14.
    tagged = save(cmyk, os.path.join(out, "cmyk-fogra29.jpg"), quality=95, icc_profile=embedded)
    lut = save(cmyk, os.path.join(out, "cmyk-ghostscript.jpg"), quality=95, icc_profile=ghostscript)
    plain_adobe = save(cmyk, os.path.join(out, "cmyk-adobe.jpg"), quality=95)
    # Plain ink values without an Adobe segment: write the inverse, drop APP14.
    inverse = Image.eval(cmyk, lambda v: 255 - v)
    buf = io.BytesIO()
    inverse.save(buf, "JPEG", quality=95)
    plain = os.path.join(out, "cmyk-plain.jpg")
    with open(plain, "wb") as f:
        f.write(strip_adobe(buf.getvalue()))
    for path, icc in [
        (tagged, embedded),
        (lut, ghostscript),
        (plain_adobe, default),
        (plain, default),
    ]:
        decoded = Image.open(path)
        decoded.load()
        if path == plain:
            # Pillow reads an APP14-less CMYK JPEG as inverted; ink is the inverse.
            decoded = Image.eval(decoded, lambda v: 255 - v)
        other = default if icc is embedded else embedded
        cases.append(
            {
                "input": path,
                # Press profiles are applied at perceptual intent, as libvips
                # does (LittleCMS then compensates the black point).
                "reference": save(to_srgb(decoded, icc, CMYK_INTENT), path + ".ref.png"),
                # The same ink through the other profile: what a reader that
                # ignored (or invented) the profile would show.
                "untagged": save(to_srgb(decoded, other, CMYK_INTENT), path + ".untagged.png"),
            }
        )
    return cases


def main():
    photo, out, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    base = Image.open(photo).convert("RGB")
    base.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    cases = rgb_cases(base, out, extra) + cmyk_cases(base, out)
    with open(os.path.join(out, "cases.tsv"), "w") as f:
        for case in cases:
            f.write("\t".join([case["input"], case["reference"], case["untagged"]]) + "\n")


if __name__ == "__main__":
    main()
