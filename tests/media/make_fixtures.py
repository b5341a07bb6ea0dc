#!/usr/bin/env python3
"""Fixtures for tests/media.rs, made with Pillow/LittleCMS (independent of
edgeimg's decoders): TIFFs (8-bit with an Adobe RGB profile, 16-bit RGB
with the same profile, written by hand as Pillow writes no 16-bit RGB,
16-bit grey), a BMP, an animated GIF, a photo-like PNG with its subject at
one edge, JPEGs with 4:2:0 and 4:2:2 chroma and libjpeg's decodes of them;
expected.json holds the sRGB colours a colour-managed viewer shows.
Usage: make_fixtures.py OUTDIR"""
import io
import json
import math
import struct
import sys

from PIL import Image, ImageCms

out = sys.argv[1]
ADOBE = "/usr/share/color/icc/colord/AdobeRGB1998.icc"
W, H = 64, 48
LEFT, RIGHT = (200, 60, 40), (40, 160, 90)


def halves(mode="RGB"):
    img = Image.new(mode, (W, H), LEFT)
    img.paste(RIGHT, (W // 2, 0, W, H))
    return img


adobe = open(ADOBE, "rb").read()
halves().save(f"{out}/adobe8.tif", icc_profile=adobe)

# Expected: LittleCMS' sRGB rendering of the same Adobe RGB values.
to_srgb = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(adobe)),
                                  ImageCms.createProfile("sRGB"), "RGB", "RGB",
                                  renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
srgb = ImageCms.applyTransform(halves(), to_srgb)
expected = {"adobe_left": srgb.getpixel((2, 2)), "adobe_right": srgb.getpixel((W - 3, 2))}


def tiff16_rgb(path, pixels, icc):
    """Baseline uncompressed 16-bit RGB TIFF, little-endian, one strip."""
    data = b"".join(struct.pack("<3H", *(v * 257 for v in px)) for px in pixels)
    entries = []

    def tag(code, typ, count, value):
        entries.append((code, typ, count, value))
    bps_at = 8  # filled below
    n = 11
    ifd_size = 2 + n * 12 + 4
    bps_off = 8 + ifd_size
    icc_off = bps_off + 6
    data_off = icc_off + len(icc) + (len(icc) & 1)
    tag(256, 3, 1, W)
    tag(257, 3, 1, H)
    tag(258, 3, 3, bps_off)
    tag(259, 3, 1, 1)
    tag(262, 3, 1, 2)
    tag(273, 4, 1, data_off)
    tag(277, 3, 1, 3)
    tag(278, 3, 1, H)
    tag(279, 4, 1, len(data))
    tag(284, 3, 1, 1)
    tag(34675, 7, len(icc), icc_off)
    assert len(entries) == n
    ifd = struct.pack("<H", n)
    for code, typ, count, value in entries:
        if typ == 3 and count == 1:
            ifd += struct.pack("<HHIHH", code, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", code, typ, count, value)
    ifd += struct.pack("<I", 0)
    blob = b"II*\0" + struct.pack("<I", bps_at) + ifd + struct.pack("<3H", 16, 16, 16)
    blob += icc + b"\0" * (len(icc) & 1) + data
    open(path, "wb").write(blob)


img = halves()
tiff16_rgb(f"{out}/adobe16.tif", [img.getpixel((x, y)) for y in range(H) for x in range(W)], adobe)
Image.new("I;16", (W, H), 40000).save(f"{out}/grey16.tif")
expected["grey16"] = round(40000 / 65535 * 255)
halves().save(f"{out}/plain.bmp")
# Two pages: the first shows (200, 60, 40) throughout, the second (40, 160, 90).
Image.new("RGB", (W, H), LEFT).save(f"{out}/pages.tif", save_all=True,
                                    append_images=[Image.new("RGB", (W, H), RIGHT)])
expected["plain_left"], expected["plain_right"] = LEFT, RIGHT

frames = [Image.new("RGB", (60, 40), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
frames[0].save(f"{out}/animated.gif", save_all=True, append_images=frames[1:],
               duration=[100, 200, 300], loop=0)

subject = Image.new("RGB", (600, 200), (128, 128, 128))
for y in range(200):
    for x in range(500, 600):
        if (x - 550) ** 2 + (y - 100) ** 2 < 40 ** 2:
            subject.putpixel((x, y), (230, 40, 30) if (x // 3 + y // 3) % 2 else (250, 220, 40))
subject.save(f"{out}/subject.png")

# JPEGs whose chroma changes every few pixels, at an odd size, with chroma
# halved both ways (4:2:0) and across only (4:2:2), beside libjpeg's decode
# of each (Pillow: the accurate integer IDCT, "fancy" chroma upsampling).
chroma = Image.new("RGB", (203, 131))
for y in range(131):
    for x in range(203):
        chroma.putpixel((x, y), (int(127 + 120 * math.sin(x * 0.35)),
                                 int(127 + 120 * math.sin(y * 0.27 + 1)),
                                 255 if (x + y) // 9 % 2 else 20))
for subsampling, name in [(2, "420"), (1, "422")]:
    chroma.save(f"{out}/chroma{name}.jpg", quality=95, subsampling=subsampling)
    Image.open(f"{out}/chroma{name}.jpg").convert("RGB").save(f"{out}/chroma{name}.libjpeg.png")

json.dump(expected, open(f"{out}/expected.json", "w"))
