//! Decoding over a corpus laid out as `../shared/corpus/zxing`: one folder
//! per set, `N.png` with its expected text in `N.txt`. Reports per set the
//! images decoded correctly and the median and p95 time per image (each
//! image decoded 7 times, its median kept, as in the corpus README).
//!
//! `cargo bench -- decode [CORPUS_DIR]`. The suite's smoke run does one
//! pass over one set, or nothing when there is no corpus.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use locker_kiosk::scanning::Decoder;

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn p95(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 95).div_ceil(100).saturating_sub(1)]
}

/// The whole benchmark over `corpus` (the shared corpus when `None`) when
/// `full`, else its smoke run.
pub fn run(full: bool, corpus: Option<PathBuf>) {
    let corpus = corpus
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/zxing"));
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        println!("no corpus at {}; nothing to measure", corpus.display());
        return;
    };
    let mut sets: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    if !full {
        sets.truncate(1);
    }
    let repeats = if full { 7 } else { 1 };
    let mut decoder = Decoder::default();
    println!(
        "{:<12} {:>7} {:>7} {:>8} {:>11} {:>11}",
        "set", "images", "decoded", "misread", "median ms", "p95 ms"
    );
    let (mut all_images, mut all_decoded, mut all_misread, mut all_times) = (0, 0, 0, Vec::new());
    for set in sets {
        let mut images: Vec<PathBuf> = std::fs::read_dir(&set)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
            .collect();
        images.sort();
        let (mut decoded, mut misread) = (0, 0);
        let mut times = Vec::new();
        for image_path in &images {
            let expected =
                std::fs::read_to_string(image_path.with_extension("txt")).unwrap_or_default();
            let image = image::open(image_path).unwrap().to_luma8();
            let mut runs = Vec::new();
            let mut text = None;
            for _ in 0..repeats {
                let started = Instant::now();
                let found = decoder.decode(image.as_raw(), image.width(), image.height());
                runs.push(started.elapsed());
                text = found.map(|f| f.text);
            }
            runs.sort();
            times.push(median(&runs));
            match text.as_deref() {
                Some(text) if text == expected => decoded += 1,
                Some(text) => {
                    misread += 1;
                    println!("misread: {} as {text:?}", image_path.display());
                }
                None => {}
            }
        }
        times.sort();
        let name = set.file_name().unwrap().to_string_lossy().to_string();
        println!(
            "{name:<12} {:>7} {decoded:>7} {misread:>8} {:>11.3} {:>11.3}",
            images.len(),
            median(&times).as_secs_f64() * 1e3,
            p95(&times).as_secs_f64() * 1e3
        );
        all_images += images.len();
        all_decoded += decoded;
        all_misread += misread;
        all_times.extend(times);
    }
    all_times.sort();
    if !all_times.is_empty() {
        println!(
            "{:<12} {all_images:>7} {all_decoded:>7} {all_misread:>8} {:>11.3} {:>11.3}",
            "all",
            median(&all_times).as_secs_f64() * 1e3,
            p95(&all_times).as_secs_f64() * 1e3
        );
    }
}
