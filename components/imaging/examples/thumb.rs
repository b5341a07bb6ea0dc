//! `thumb INPUT OUTPUT [OPTIONS]`: one transform from file to file. A tiny
//! command for benchmarks: built natively or for wasm32-wasip2 (run in Wasmtime).
//! Options default to `width=320,format=jpeg,quality=80`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: thumb INPUT OUTPUT [OPTIONS]");
        return ExitCode::from(2);
    };
    let options = args
        .get(3)
        .map_or("width=320,format=jpeg,quality=80", String::as_str);
    match run(input, output, options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("thumb: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, output: &str, options: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(input)?;
    let options: imaging::Options = options.parse()?;
    let limits = imaging::Limits::default();
    let info = imaging::probe(&bytes, &limits)?;
    let format = imaging::negotiate(&options, None, info.format).format;
    let out = imaging::transform(&bytes, &options, format, &limits)?;
    std::fs::write(output, &out.bytes)?;
    Ok(())
}
