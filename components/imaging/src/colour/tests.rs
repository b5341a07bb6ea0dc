use super::*;
use cmyk::DEFAULT_CMYK;
use moxcms::ColorProfile;

fn encoded(profile: &ColorProfile) -> ColorProfile {
    parse(&profile.encode().unwrap()).unwrap()
}

#[test]
fn srgb_profiles_are_recognised_and_left_alone() {
    let profile = encoded(&ColorProfile::new_srgb());
    assert!(is_srgb(&profile));
    let mut px = vec![10, 120, 250, 200, 30, 40];
    assert!(!rgb_to_srgb(&mut px, false, &profile));
    assert_eq!(px, [10, 120, 250, 200, 30, 40]);
}

#[test]
fn wide_gamut_profiles_are_converted() {
    for profile in [
        ColorProfile::new_adobe_rgb(),
        ColorProfile::new_display_p3(),
    ] {
        let profile = encoded(&profile);
        assert!(!is_srgb(&profile));
        // A saturated wide-gamut green is outside sRGB: red clips to 0, green
        // stays full; mid grey stays grey.
        let mut px = vec![0, 255, 0, 128, 128, 128];
        assert!(rgb_to_srgb(&mut px, false, &profile));
        assert_eq!(&px[..2], &[0, 255]);
        assert!(px[3..].iter().all(|&v| v.abs_diff(128) <= 2), "{px:?}");
    }
}

#[test]
fn alpha_passes_through_a_conversion() {
    let profile = encoded(&ColorProfile::new_adobe_rgb());
    let mut px = vec![200, 30, 30, 77, 0, 0, 0, 0];
    assert!(rgb_to_srgb(&mut px, true, &profile));
    assert_eq!((px[3], px[7]), (77, 0));
    // LittleCMS (Pillow's ImageCms, relative colorimetric, colord's
    // AdobeRGB1998.icc) gives 233, 24, 24.
    let want = [233u8, 24, 24];
    assert!(
        px[..3].iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 1),
        "{px:?}"
    );
}

#[test]
fn bundled_cmyk_profile_maps_paper_to_white_and_ink_to_dark() {
    let paper_and_black = [0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0];
    let rgb = cmyk_to_srgb(&paper_and_black, None).unwrap();
    assert!(rgb[..3].iter().all(|&v| v >= 250), "paper {rgb:?}");
    assert!(rgb[3..6].iter().all(|&v| v <= 60), "black {rgb:?}");
    // Full cyan: little red, much green and blue.
    assert!(rgb[6] < 60 && rgb[7] > 120 && rgb[8] > 200, "cyan {rgb:?}");
}

#[test]
fn a_non_cmyk_embedded_profile_falls_back_to_the_bundled_one() {
    let adobe = encoded(&ColorProfile::new_adobe_rgb());
    let px = [30, 60, 90, 10];
    assert_eq!(
        cmyk_to_srgb(&px, Some(&adobe)).unwrap(),
        cmyk_to_srgb(&px, None).unwrap()
    );
}

#[test]
fn press_profiles_render_ink_as_littlecms_does_at_perceptual_intent() {
    // Grey ramps of all four inks, then each ink alone, through LittleCMS
    // (Pillow's ImageCms, perceptual intent, into its v4 sRGB, so with
    // black point compensation: full ink is black, not a grey).
    let ink: Vec<u8> = [0u8, 64, 128, 192, 255]
        .iter()
        .flat_map(|&v| [v; 4])
        .chain([255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255])
        .collect();
    let cases: [(&[u8], [[u8; 3]; 9]); 2] = [
        (
            include_bytes!("../../tests/colour/fogra29l.icc"),
            [
                [255, 255, 255],
                [155, 147, 143],
                [86, 80, 77],
                [40, 39, 37],
                [0, 0, 0],
                [0, 158, 222],
                [228, 52, 137],
                [255, 232, 0],
                [51, 42, 42],
            ],
        ),
        (
            DEFAULT_CMYK,
            [
                [255, 255, 255],
                [165, 157, 154],
                [91, 81, 78],
                [39, 33, 31],
                [0, 0, 0],
                [0, 159, 228],
                [230, 0, 126],
                [255, 237, 0],
                [31, 31, 33],
            ],
        ),
    ];
    for (icc, want) in cases {
        let profile = parse(icc).unwrap();
        let got = cmyk_to_srgb(&ink, Some(&profile)).unwrap();
        let close = got
            .chunks_exact(3)
            .zip(want)
            .all(|(g, w)| g.iter().zip(w).all(|(a, b)| a.abs_diff(b) <= 2));
        assert!(
            close,
            "{:?}\nvs LittleCMS {want:?}",
            got.chunks(3).collect::<Vec<_>>()
        );
    }
}
