use super::*;

fn plan_for(source: (u32, u32), opts: &str) -> Plan {
    plan(source, &opts.parse().unwrap(), &Limits::default()).unwrap()
}

fn region(x: f64, y: f64, width: f64, height: f64) -> Region {
    Region {
        x,
        y,
        width,
        height,
    }
}

/// Every fit, with one or both sizes, enlarging or not, on a 400×200 source.
#[test]
fn every_fit_gives_exact_sizes() {
    let src = (400, 200);
    let whole = region(0.0, 0.0, 400.0, 200.0);
    type Size = (u32, u32);
    // (options, region, resized, canvas, offset)
    let cases: &[(&str, Region, Size, Size, Size)] = &[
        ("", whole, (400, 200), (400, 200), (0, 0)),
        ("w=100", whole, (100, 50), (100, 50), (0, 0)),
        ("h=100", whole, (200, 100), (200, 100), (0, 0)),
        ("w=800", whole, (400, 200), (400, 200), (0, 0)),
        ("w=800,fit=contain", whole, (800, 400), (800, 400), (0, 0)),
        ("w=100,dpr=2", whole, (200, 100), (200, 100), (0, 0)),
        ("w=100,dpr=1.5", whole, (150, 75), (150, 75), (0, 0)),
        ("w=100,h=100", whole, (100, 50), (100, 50), (0, 0)),
        (
            "w=100,h=100,fit=scale-down",
            whole,
            (100, 50),
            (100, 50),
            (0, 0),
        ),
        (
            "w=1000,h=1000,fit=scale-down",
            whole,
            (400, 200),
            (400, 200),
            (0, 0),
        ),
        (
            "w=1000,h=1000,fit=contain",
            whole,
            (1000, 500),
            (1000, 500),
            (0, 0),
        ),
        (
            "w=100,h=100,fit=cover",
            region(100.0, 0.0, 200.0, 200.0),
            (100, 100),
            (100, 100),
            (0, 0),
        ),
        (
            "w=800,h=800,fit=cover",
            region(100.0, 0.0, 200.0, 200.0),
            (800, 800),
            (800, 800),
            (0, 0),
        ),
        (
            "w=100,h=100,fit=crop",
            region(100.0, 0.0, 200.0, 200.0),
            (100, 100),
            (100, 100),
            (0, 0),
        ),
        (
            "w=300,h=300,fit=crop",
            region(50.0, 0.0, 300.0, 200.0),
            (300, 200),
            (300, 200),
            (0, 0),
        ),
        (
            "w=800,h=800,fit=crop",
            whole,
            (400, 200),
            (400, 200),
            (0, 0),
        ),
        ("w=100,fit=cover", whole, (100, 50), (100, 50), (0, 0)),
        ("w=100,h=100,fit=pad", whole, (100, 50), (100, 100), (0, 25)),
        (
            "w=100,h=100,fit=pad,gravity=north",
            whole,
            (100, 50),
            (100, 100),
            (0, 0),
        ),
        (
            "w=100,h=100,fit=pad,gravity=south",
            whole,
            (100, 50),
            (100, 100),
            (0, 50),
        ),
        (
            "w=300,h=100,fit=pad,gravity=west",
            whole,
            (200, 100),
            (300, 100),
            (0, 0),
        ),
        (
            "w=300,h=100,fit=pad,gravity=east",
            whole,
            (200, 100),
            (300, 100),
            (100, 0),
        ),
        (
            "w=300,h=100,fit=pad",
            whole,
            (200, 100),
            (300, 100),
            (50, 0),
        ),
        (
            "w=800,h=800,fit=pad",
            whole,
            (800, 400),
            (800, 800),
            (0, 200),
        ),
        ("w=100,fit=pad", whole, (100, 50), (100, 50), (0, 0)),
    ];
    for (opts, want_region, resized, canvas, offset) in cases {
        let p = plan_for(src, opts);
        assert_eq!(p.region, *want_region, "{opts}: region");
        assert_eq!(
            (p.resized, p.canvas, p.offset),
            (*resized, *canvas, *offset),
            "{opts}"
        );
    }
}

/// Which part of a 400×200 source a 100×100 cover crop keeps, per gravity.
#[test]
fn every_gravity_places_the_crop() {
    let cases: &[(&str, (f64, f64))] = &[
        ("center", (100.0, 0.0)),
        ("north", (100.0, 0.0)),
        ("south", (100.0, 0.0)),
        ("east", (200.0, 0.0)),
        ("west", (0.0, 0.0)),
        ("northeast", (200.0, 0.0)),
        ("northwest", (0.0, 0.0)),
        ("southeast", (200.0, 0.0)),
        ("southwest", (0.0, 0.0)),
        ("0x0", (0.0, 0.0)),
        ("1x1", (200.0, 0.0)),
        ("0.25x0.5", (0.0, 0.0)),
        ("0.5x0.5", (100.0, 0.0)),
        ("0.6x0.5", (140.0, 0.0)),
        ("0.75x0.5", (200.0, 0.0)),
    ];
    for (g, (x, y)) in cases {
        let p = plan_for((400, 200), &format!("w=100,h=100,fit=cover,gravity={g}"));
        assert_eq!((p.region.x, p.region.y), (*x, *y), "gravity={g}");
        assert_eq!(
            (p.region.width, p.region.height),
            (200.0, 200.0),
            "gravity={g}"
        );
    }
    // Portrait source: gravity moves the crop vertically.
    let cases: &[(&str, f64)] = &[
        ("north", 0.0),
        ("center", 100.0),
        ("south", 200.0),
        ("0.5x0.1", 0.0),
        ("0.5x0.7", 180.0),
    ];
    for (g, y) in cases {
        let p = plan_for((200, 400), &format!("w=100,h=100,fit=cover,gravity={g}"));
        assert_eq!((p.region.x, p.region.y), (0.0, *y), "portrait gravity={g}");
    }
}

#[test]
fn output_side_limit_is_checked() {
    let limits = Limits {
        max_output_side: 1000,
        ..Limits::default()
    };
    let ok: Options = "w=1000".parse().unwrap();
    assert!(plan((4000, 2000), &ok, &limits).is_ok());
    for opts in ["w=1001,fit=contain", "w=600,dpr=2", "w=2000,h=10,fit=pad"] {
        let err = plan((4000, 2000), &opts.parse().unwrap(), &limits).unwrap_err();
        assert_eq!((err.status(), err.code()), (422, "pixel_limit"), "{opts}");
    }
}
