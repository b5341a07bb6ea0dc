//! Arbitrary option strings: parsing never panics, and whatever parses prints
//! a canonical form that parses back to the same value.
#![no_main]

use imaging::Options;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(options) = s.parse::<Options>() {
        let canonical = options.to_string();
        let again: Options = canonical.parse().expect("canonical form parses");
        assert_eq!(again, options);
        assert_eq!(again.to_string(), canonical);
    }
});
