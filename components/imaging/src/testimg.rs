//! Synthetic images in every format, for tests.

use crate::{exif, Format};

/// RGBA pixels from a function of (x, y).
pub fn pixels(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| f(x, y))
        .collect()
}

/// Four solid quadrants: red top-left, green top-right, blue bottom-left, white bottom-right.
pub fn quadrants(w: u32, h: u32) -> Vec<u8> {
    pixels(w, h, |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => [255, 0, 0, 255],
        (false, true) => [0, 255, 0, 255],
        (true, false) => [0, 0, 255, 255],
        (false, false) => [255, 255, 255, 255],
    })
}

fn rgb(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
}

pub fn jpeg(w: u32, h: u32, rgba: &[u8], orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    if let Some(o) = orientation {
        enc.add_exif_metadata(&exif::with_orientation(o)).unwrap();
    }
    enc.encode(&rgb(rgba), w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

pub fn png(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    let mut writer = enc.write_header().unwrap();
    writer.write_image_data(rgba).unwrap();
    writer.finish().unwrap();
    out
}

pub fn gif(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w as u16, h as u16, &[]).unwrap();
        let mut data = rgba.to_vec();
        let frame = gif::Frame::from_rgba(w as u16, h as u16, &mut data);
        enc.write_frame(&frame).unwrap();
        // A second, different frame: only the first is used.
        let mut black = vec![0u8; rgba.len()];
        black.chunks_mut(4).for_each(|p| p[3] = 255);
        enc.write_frame(&gif::Frame::from_rgba(w as u16, h as u16, &mut black))
            .unwrap();
    }
    out
}

pub fn webp(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(rgba, w, h, image_webp::ColorType::Rgba8)
        .unwrap();
    out
}

/// A structurally valid AVIF header (ftyp + meta/iprp/ipco/ispe), no image data.
pub fn avif(w: u32, h: u32) -> Vec<u8> {
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }
    let mut ispe = vec![0u8; 4];
    ispe.extend_from_slice(&w.to_be_bytes());
    ispe.extend_from_slice(&h.to_be_bytes());
    let ipco = bx(b"ipco", &bx(b"ispe", &ispe));
    let mut meta = vec![0u8; 4];
    meta.extend(bx(b"hdlr", &[0u8; 24]));
    meta.extend(bx(b"iprp", &ipco));
    let mut out = bx(b"ftyp", b"avif\0\0\0\0avifmif1miaf");
    out.extend(bx(b"meta", &meta));
    out
}

/// An AVIF of `rgba` by ravif (4:4:4, full range), at `bits` 8 or 10.
pub fn avif_of(w: u32, h: u32, rgba: &[u8], bits: u8) -> Vec<u8> {
    let px: Vec<ravif::RGBA8> = rgba
        .chunks_exact(4)
        .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
        .collect();
    let depth = if bits == 10 {
        ravif::BitDepth::Ten
    } else {
        ravif::BitDepth::Eight
    };
    ravif::Encoder::new()
        .with_quality(95.0)
        .with_alpha_quality(95.0)
        .with_speed(10)
        .with_bit_depth(depth)
        .encode_rgba(ravif::Img::new(&px, w as usize, h as usize))
        .unwrap()
        .avif_file
}

/// `w`×`h` quadrants in `format`.
pub fn encode(format: Format, w: u32, h: u32) -> Vec<u8> {
    let px = quadrants(w, h);
    match format {
        Format::Jpeg => jpeg(w, h, &px, None),
        Format::Png => png(w, h, &px),
        Format::Gif => gif(w, h, &px),
        Format::Webp => webp(w, h, &px),
        Format::Avif => avif_of(w, h, &px, 8),
        Format::Svg => svg_quadrants(w, h).into_bytes(),
        Format::Tiff | Format::Bmp | Format::Ico | Format::Qoi => raster(format, w, h, &px),
    }
}

/// RGBA through the `image` crate's encoder for `format` (TIFF, BMP, ICO, QOI).
pub fn raster(format: Format, w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    use image::codecs::{bmp::BmpEncoder, ico::IcoEncoder, qoi::QoiEncoder, tiff::TiffEncoder};
    use image::{ExtendedColorType::Rgba8, ImageEncoder};
    let mut out = Vec::new();
    let cursor = std::io::Cursor::new(&mut out);
    match format {
        Format::Tiff => TiffEncoder::new(cursor).write_image(rgba, w, h, Rgba8),
        Format::Bmp => {
            BmpEncoder::new(&mut std::io::Cursor::new(&mut out)).write_image(rgba, w, h, Rgba8)
        }
        Format::Ico => IcoEncoder::new(cursor).write_image(rgba, w, h, Rgba8),
        Format::Qoi => QoiEncoder::new(cursor).write_image(rgba, w, h, Rgba8),
        other => panic!("{other} is not written by the image crate"),
    }
    .unwrap();
    out
}

/// The four quadrants as an SVG of `w`×`h` user units.
pub fn svg_quadrants(w: u32, h: u32) -> String {
    let (hw, hh) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
<rect width="{hw}" height="{hh}" fill="#f00"/><rect x="{hw}" width="{hw}" height="{hh}" fill="#0f0"/>
<rect y="{hh}" width="{hw}" height="{hh}" fill="#00f"/><rect x="{hw}" y="{hh}" width="{hw}" height="{hh}" fill="#fff"/>
</svg>"##
    )
}

pub const ALL: [Format; 10] = Format::ALL;
