//! `locker-kiosk decode FILE...`: the scanning pipeline on image files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use crate::scanning::{Decoder, recognise};

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Image files (PNG or JPEG)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per file: file, symbology, text, kind, micros
    #[arg(long)]
    pub json: bool,
}

pub fn decode(args: &DecodeArgs) -> ExitCode {
    let mut decoder = Decoder::default();
    let mut failed = false;
    for file in &args.files {
        let name = file.display().to_string();
        let image = match image::open(file) {
            Ok(image) => image.to_luma8(),
            Err(e) => {
                eprintln!("locker-kiosk decode: {name}: {e}");
                failed = true;
                continue;
            }
        };
        let started = Instant::now();
        let found = decoder.decode(image.as_raw(), image.width(), image.height());
        let micros = started.elapsed().as_micros() as u64;
        match (&found, args.json) {
            (Some(code), false) => println!("{name}\t{}\t{}", code.symbology.name(), code.text),
            (None, false) => println!("{name}\tnone"),
            (_, true) => {
                let kind = found
                    .as_ref()
                    .map_or("unknown", |c| recognise(&c.text).kind());
                println!(
                    "{}",
                    json!({
                        "file": name,
                        "symbology": found.as_ref().map(|c| c.symbology.name()),
                        "text": found.as_ref().map(|c| c.text.clone()),
                        "kind": kind,
                        "micros": micros,
                    })
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
