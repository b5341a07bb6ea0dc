use super::*;
use crate::testimg;

fn draw(svg: &str, size: (u32, u32)) -> Result<Image, Error> {
    render(&parse(svg.as_bytes(), &Limits::default())?, size)
}

fn pixel(image: &Image, x: u32, y: u32) -> [u8; 4] {
    let at = (y * image.width + x) as usize * 4;
    image.data[at..at + 4].try_into().unwrap()
}

#[test]
fn draws_at_the_size_asked_for_not_its_own() {
    let tree = parse(
        testimg::svg_quadrants(20, 10).as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(size(&tree), (20, 10));
    let image = render(&tree, (300, 150)).unwrap();
    assert_eq!(image.size(), (300, 150));
    for ((x, y), want) in [
        ((75, 37), [255, 0, 0, 255]),
        ((225, 37), [0, 255, 0, 255]),
        ((75, 112), [0, 0, 255, 255]),
        ((225, 112), [255, 255, 255, 255]),
    ] {
        assert_eq!(pixel(&image, x, y), want, "({x}, {y})");
    }
    // A vector edge stays one pixel wide at 15× (a 20 px bitmap scaled up
    // would blur it over ~15).
    let row: Vec<u8> = (140..160).map(|x| pixel(&image, x, 37)[0]).collect();
    let blended = row.iter().filter(|&&r| r != 0 && r != 255).count();
    assert!(blended <= 1, "edge spread over {blended} pixels: {row:?}");
}

#[test]
fn loads_nothing_from_outside_the_file() {
    let dir = std::env::temp_dir().join(format!("edgeimg-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let red = dir.join("red.png");
    std::fs::write(
        &red,
        testimg::png(4, 4, &testimg::pixels(4, 4, |_, _| [255, 0, 0, 255])),
    )
    .unwrap();
    let data_uri = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    let nested = "data:image/svg+xml;utf8,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'%3E%3Crect width='1' height='1' fill='red'/%3E%3C/svg%3E";
    for href in [
        red.to_str().unwrap(),
        &format!("file://{}", red.display()),
        "red.png",
        "http://127.0.0.1:9/x.png",
        data_uri,
        nested,
    ] {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="8" height="8"><image width="8" height="8" href="{href}"/><image width="8" height="8" xlink:href="{href}"/></svg>"#
        );
        let image = draw(&svg, (8, 8)).unwrap();
        assert!(image.data.iter().all(|&b| b == 0), "{href} was drawn");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn refuses_hostile_documents_before_building_them() {
    let laughs = {
        let mut defs = String::from(r#"<g id="l0"><rect width="1" height="1"/></g>"#);
        for i in 1..=12 {
            defs.push_str(&format!(r#"<g id="l{i}">"#));
            for _ in 0..10 {
                defs.push_str(&format!(r##"<use href="#l{}"/>"##, i - 1));
            }
            defs.push_str("</g>");
        }
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><defs>{defs}</defs><use href="#l12"/></svg>"##
        )
    };
    let entities = {
        let mut dtd = String::from(r#"<!ENTITY e0 "lol">"#);
        for i in 1..=9 {
            let refs = format!("&e{};", i - 1).repeat(10);
            dtd.push_str(&format!(r#"<!ENTITY e{i} "{refs}">"#));
        }
        format!(
            r#"<?xml version="1.0"?><!DOCTYPE svg [{dtd}]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&e9;</text></svg>"#
        )
    };
    let deep = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">{}{}</svg>"#,
        "<g>".repeat(5000),
        "</g>".repeat(5000)
    );
    let wide = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">{}</svg>"#,
        "<rect/>".repeat(60_000)
    );
    let cycle = r##"<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g></svg>"##;
    let external = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>&x;</text></svg>"#;
    let cases: &[(&str, &str, &str)] = &[
        ("use billion laughs", &laughs, "too_complex"),
        ("entity billion laughs", &entities, "decode_failed"),
        ("deep nesting", &deep, "too_complex"),
        ("too many nodes", &wide, "too_complex"),
        ("reference cycle", cycle, "too_complex"),
        ("external entity", external, "decode_failed"),
        ("not xml", "<svg", "decode_failed"),
        ("not utf-8", "<svg \u{0}", "decode_failed"),
    ];
    for (name, svg, code) in cases {
        let mut bytes = svg.as_bytes().to_vec();
        if *name == "not utf-8" {
            bytes.push(0xFF);
        }
        let err = parse(&bytes, &Limits::default()).map(|_| ()).unwrap_err();
        assert_eq!((err.status(), err.code()), (422, *code), "{name}: {err}");
    }
}

#[test]
fn scripts_and_handlers_change_nothing() {
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4" onload="document.documentElement.setAttribute('fill','red')"><script>document.querySelector('rect').setAttribute('fill','red')</script><rect width="4" height="4" fill="#00f"/></svg>"##;
    let image = draw(svg, (4, 4)).unwrap();
    assert_eq!(pixel(&image, 2, 2), [0, 0, 255, 255]);
}
