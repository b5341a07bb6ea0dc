//! Arbitrary bytes through probe + transform: any input must give an image or
//! an error with a 4xx/5xx status, never a panic, and respect the limits.
#![no_main]

use imaging::{negotiate_animated, placeholder, probe, transform, Format, Limits, Options};
use libfuzzer_sys::fuzz_target;

/// Small limits keep each run fast; the limits themselves are under test too.
const LIMITS: Limits = Limits {
    max_input_bytes: 1 << 20,
    max_pixels: 4_000_000,
    max_side: 4096,
    max_output_side: 512,
    max_frames: 64,
    max_animation_pixels: 4_000_000,
    max_svg_nodes: 5_000,
};

const OPTIONS: [&str; 10] = [
    "",
    "w=64",
    "w=50,h=50,fit=cover,g=0.2x0.9",
    "w=40,h=30,fit=pad,bg=102030",
    "h=33,fit=crop,rotate=90,flip=h",
    "w=20,blur=2,sharpen=1",
    "w=16,dpr=2,metadata=keep",
    "w=300,h=10,fit=contain",
    "w=40,h=40,fit=cover,g=auto",
    "w=32,anim=false",
];
const OUTPUTS: [Format; 3] = [Format::Jpeg, Format::Png, Format::Webp];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let options: Options = OPTIONS[usize::from(selector) % OPTIONS.len()]
        .parse()
        .unwrap();
    let Ok(info) = probe(bytes, &LIMITS) else {
        return;
    };
    let output = if selector & 0x80 != 0 {
        OUTPUTS[usize::from(selector >> 3) % OUTPUTS.len()]
    } else {
        negotiate_animated(&options, Some("image/webp"), info.format, info.frames > 1).format
    };
    if selector == 0 {
        // What upload does with every file.
        if let Err(e) = placeholder(bytes, &LIMITS) {
            assert!((400..600).contains(&e.status()));
        }
    }
    match transform(bytes, &options, output, &LIMITS) {
        Ok(out) => {
            assert!(out.width.max(out.height) <= LIMITS.max_output_side);
            assert!(!out.bytes.is_empty());
        }
        Err(e) => assert!((400..600).contains(&e.status())),
    }
});
