#!/usr/bin/env python3
"""Writes the fuzzer's seeds for the formats of issue 26 (SVG, TIFF, BMP,
ICO, QOI, animated GIF and WebP), each after the selector byte the
`transform` target reads first. Needs Pillow. Run from this directory."""
import io
import struct

from PIL import Image


def save(name, selector, data):
    with open(f"seeds/{name}", "wb") as f:
        f.write(bytes([selector]) + data)


def pil(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def quadrants(size, mode="RGB"):
    img = Image.new(mode, size)
    w, h = size
    for (x, y, c) in [(0, 0, (255, 0, 0)), (w // 2, 0, (0, 255, 0)),
                      (0, h // 2, (0, 0, 255)), (w // 2, h // 2, (255, 255, 255))]:
        img.paste(c + ((255,) if mode == "RGBA" else ()), (x, y, x + w // 2, y + h // 2))
    return img


def qoi(img):
    """QOI by the spec's simplest op (QOI_OP_RGBA for every pixel)."""
    img = img.convert("RGBA")
    out = b"qoif" + struct.pack(">IIBB", img.width, img.height, 4, 0)
    for px in img.get_flattened_data() if hasattr(img, "get_flattened_data") else img.getdata():
        out += b"\xff" + bytes(px)
    return out + b"\0" * 7 + b"\x01"


rgb = quadrants((24, 16))
save("seed.tiff", 1, pil(rgb, "TIFF"))
save("seed-16bit.tiff", 2, pil(rgb.convert("I;16"), "TIFF"))
save("seed.bmp", 3, pil(rgb, "BMP"))
save("seed.ico", 4, pil(quadrants((16, 16), "RGBA"), "ICO", sizes=[(16, 16)]))
save("seed.qoi", 5, qoi(rgb))
save("seed.svg", 8, b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="16">'
     b'<rect width="12" height="8" fill="red"/><circle cx="18" cy="12" r="4" fill="#00f"/>'
     b'<use href="#x"/><g id="x"><path d="M0 0L24 16" stroke="green"/></g></svg>')
laughs = b"".join(b'<g id="l%d">%s</g>' % (i, b'<use href="#l%d"/>' % (i - 1) * 4) for i in range(1, 8))
save("seed-use-laughs.svg", 0, b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
     b'<g id="l0"><rect width="1" height="1"/></g>' + laughs + b'<use href="#l7"/></svg>')
frames = [quadrants((20, 12)).rotate(180 * i) for i in range(3)]
save("seed-animated.gif", 0x80 | (2 << 3), pil(frames[0], "GIF", save_all=True,
     append_images=frames[1:], duration=[50, 100, 150], loop=0))
save("seed-animated.webp", 0x80 | (2 << 3), pil(frames[0], "WEBP", save_all=True,
     append_images=frames[1:], duration=[50, 100, 150], loop=2, quality=50))
