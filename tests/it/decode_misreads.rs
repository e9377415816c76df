//! A decode is a claim: generated EAN-13, UPC-A, ITF and Code 128 images, cut,
//! occluded and tilted, must never be read as something they are not
//! (an EAN-8 inside an EAN-13's bars is the classic 1D misread). Reading
//! nothing is allowed; reading wrong is not.

use locker_kiosk::scanning::Decoder;

const L: [&str; 10] = [
    "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
    "0110111", "0001011",
];
const G: [&str; 10] = [
    "0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001",
    "0001001", "0010111",
];
const R: [&str; 10] = [
    "1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100",
    "1001000", "1110100",
];
const PARITY: [&str; 10] = [
    "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLG", "LGGGGL", "LGLGLG",
    "LGLGGL",
];
const ITF: [&str; 10] = [
    "nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn",
];

fn digits(text: &str) -> Vec<usize> {
    text.bytes().map(|b| (b - b'0') as usize).collect()
}

/// 12 digits and their check digit.
fn ean13(first12: &str) -> String {
    let d = digits(first12);
    let sum: usize = d
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 2 == 0 { v } else { 3 * v })
        .sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

/// The modules (true = bar) of an EAN-13.
fn ean13_modules(code: &str) -> Vec<bool> {
    let d = digits(code);
    let mut bits = String::from("101");
    for (i, parity) in PARITY[d[0]].chars().enumerate() {
        bits += if parity == 'L' {
            L[d[i + 1]]
        } else {
            G[d[i + 1]]
        };
    }
    bits += "01010";
    for &v in &d[7..13] {
        bits += R[v];
    }
    bits += "101";
    bits.chars().map(|c| c == '1').collect()
}

/// The modules of an ITF code (even digit count), wide = 3 narrow.
fn itf_modules(code: &str) -> Vec<bool> {
    let d = digits(code);
    let mut out = vec![true, false, true, false];
    for pair in d.chunks(2) {
        let (bars, spaces) = (ITF[pair[0]].as_bytes(), ITF[pair[1]].as_bytes());
        for i in 0..5 {
            let width = |c: u8| if c == b'w' { 3 } else { 1 };
            out.extend(std::iter::repeat_n(true, width(bars[i])));
            out.extend(std::iter::repeat_n(false, width(spaces[i])));
        }
    }
    out.extend([true, true, true, false, true]);
    out
}

/// A grey image of `modules`, `scale` px each, with a white margin.
fn image(modules: &[bool], scale: usize) -> (Vec<u8>, usize, usize) {
    let margin = 15 * scale;
    let (width, height) = (modules.len() * scale + 2 * margin, 90);
    let mut luma = vec![235u8; width * height];
    for y in 10..height - 10 {
        for (m, &bar) in modules.iter().enumerate() {
            if bar {
                for x in 0..scale {
                    luma[y * width + margin + m * scale + x] = 25;
                }
            }
        }
    }
    (luma, width, height)
}

fn crop(luma: &[u8], width: usize, height: usize, from: usize, to: usize) -> (Vec<u8>, usize) {
    let new = to - from;
    let mut out = Vec::with_capacity(new * height);
    for y in 0..height {
        out.extend_from_slice(&luma[y * width + from..y * width + to]);
    }
    (out, new)
}

fn rotate(luma: &[u8], width: usize, height: usize, degrees: f64) -> Vec<u8> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
    let mut out = vec![235u8; width * height];
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f64 - cx, y as f64 - cy);
            let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
            if sx >= 0.0 && sy >= 0.0 && (sx as usize) < width && (sy as usize) < height {
                out[y * width + x] = luma[sy as usize * width + sx as usize];
            }
        }
    }
    out
}

/// Every variant of one code's image: whole, cut on either side, a stripe
/// over it, tilted.
fn variants(modules: &[bool], scale: usize) -> Vec<(String, Vec<u8>, usize, usize)> {
    let (luma, width, height) = image(modules, scale);
    let margin = 15 * scale;
    let mut all = vec![("whole".to_string(), luma.clone(), width, height)];
    // About 40 cuts whatever the length (a long Code 128 is cut coarser).
    for cut in (3..modules.len() * 2 / 3).step_by((modules.len() / 24).max(4)) {
        let (left, w) = crop(&luma, width, height, margin + cut * scale, width);
        all.push((format!("left cut {cut}"), left, w, height));
        let (right, w) = crop(&luma, width, height, 0, width - margin - cut * scale);
        all.push((format!("right cut {cut}"), right, w, height));
    }
    for at in (0..modules.len()).step_by((modules.len() / 8).max(12)) {
        for shade in [235u8, 25] {
            let mut covered = luma.clone();
            for y in 0..height {
                for x in 0..4 * scale {
                    let x = margin + at * scale + x;
                    if x < width {
                        covered[y * width + x] = shade;
                    }
                }
            }
            all.push((format!("stripe at {at} ({shade})"), covered, width, height));
        }
    }
    for degrees in [-12.0, -6.0, -3.0, 3.0, 6.0, 12.0] {
        all.push((
            format!("tilted {degrees}°"),
            rotate(&luma, width, height, degrees),
            width,
            height,
        ));
    }
    all
}

/// (images, read right, read wrong: what and as what).
fn check(codes: &[(String, Vec<bool>)]) -> (usize, usize, Vec<String>) {
    let mut decoder = Decoder::default();
    let (mut images, mut right, mut wrong) = (0, 0, Vec::new());
    for (text, modules) in codes {
        for scale in [2, 3] {
            for (what, luma, width, height) in variants(modules, scale) {
                images += 1;
                let Some(found) = decoder.decode(&luma, width as u32, height as u32) else {
                    continue;
                };
                // A UPC-A is an EAN-13 with a leading 0, read either way.
                let same =
                    found.text == *text || (text.starts_with('0') && found.text == text[1..]);
                if same {
                    right += 1;
                } else {
                    wrong.push(format!(
                        "{text} ({what}, scale {scale}) read as {} {:?}",
                        found.symbology.label(),
                        found.text
                    ));
                }
            }
        }
    }
    (images, right, wrong)
}

/// Checks every variant of `codes`: nothing read wrong, and each code read
/// right at least twice (whole, at both scales).
fn none_misread(codes: &[(String, Vec<bool>)], what: &str) {
    let (images, right, wrong) = check(codes);
    eprintln!(
        "misreads: {images} generated {what} images, {right} read right, {} read wrong",
        wrong.len()
    );
    assert!(wrong.is_empty(), "misreads:\n{}", wrong.join("\n"));
    assert!(
        right >= 2 * codes.len(),
        "too few read at all: {right} of {images}"
    );
}

/// The next number of a xorshift generator: the same codes on every run.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// xorshift: the same codes on every run.
fn numbers(count: usize, digits: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            (0..digits)
                .map(|_| char::from(b'0' + (xorshift(&mut state) % 10) as u8))
                .collect()
        })
        .collect()
}

#[test]
fn cut_occluded_or_tilted_ean13_upca_and_itf_codes_are_never_misread() {
    let mut codes: Vec<(String, Vec<bool>)> = Vec::new();
    for first12 in numbers(10, 12, 0x9E37_79B9) {
        let code = ean13(&first12);
        codes.push((code.clone(), ean13_modules(&code)));
    }
    // UPC-A: EAN-13 with a leading 0.
    for first11 in numbers(5, 11, 0x51_7CC1) {
        let code = ean13(&format!("0{first11}"));
        codes.push((code.clone(), ean13_modules(&code)));
    }
    for itf in numbers(6, 14, 0x2545_F491) {
        codes.push((itf.clone(), itf_modules(&itf)));
    }
    none_misread(&codes, "EAN-13, UPC-A and ITF");
}

/// Tracking-number-like texts: letters and digits, 10 to 20 long.
fn tracking_texts(count: usize, seed: u64) -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let mut state = seed;
    (0..count)
        .map(|i| {
            (0..10 + (i * 7) % 11)
                .map(|_| {
                    let pick = xorshift(&mut state) % ALPHABET.len() as u64;
                    char::from(ALPHABET[pick as usize])
                })
                .collect()
        })
        .collect()
}

/// Code 128 symbol widths (bar, space, ...), values 0 to 106 (106: stop).
const CODE128: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

/// The modules of `text` in Code 128 set B (start B, data, mod-103
/// check, stop).
fn code128_modules(text: &str) -> Vec<bool> {
    let mut values = vec![104usize];
    values.extend(text.bytes().map(|b| usize::from(b - 32)));
    let check = values
        .iter()
        .enumerate()
        .map(|(i, v)| i.max(1) * v)
        .sum::<usize>()
        % 103;
    values.push(check);
    values.push(106);
    let mut out = Vec::new();
    for value in values {
        for (i, width) in CODE128[value].bytes().enumerate() {
            out.extend(std::iter::repeat_n(i % 2 == 0, usize::from(width - b'0')));
        }
    }
    // The stop's final bar, two modules wide.
    out.extend([true, true]);
    out
}

/// Code 128 (the carriers' labels): cut, occluded or tilted, read right
/// or not at all.
#[test]
fn cut_occluded_or_tilted_code128_labels_are_never_misread() {
    let codes: Vec<(String, Vec<bool>)> = tracking_texts(10, 0x85EB_CA6B)
        .into_iter()
        .map(|text| {
            let modules = code128_modules(&text);
            (text, modules)
        })
        .collect();
    none_misread(&codes, "Code 128");
}
