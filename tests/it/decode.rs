//! The decode pipeline on images the test makes itself (the qrcode crate),
//! so that it does not depend on ../shared.

use locker_kiosk::scanning::payload::Payload;
use locker_kiosk::scanning::{Decoder, Symbology, recognise};
use qrcode::QrCode;

/// A QR code drawn into a `size` x `size` grey frame, `scale` pixels a
/// module, at (`x`, `y`), with some sensor noise.
fn frame_with_qr(text: &str, size: u32, scale: u32, x: u32, y: u32) -> Vec<u8> {
    let code = QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as u32;
    let colors = code.to_colors();
    let mut frame = vec![200u8; (size * size) as usize];
    let mut noise = 12345u32;
    for (i, px) in frame.iter_mut().enumerate() {
        noise = noise.wrapping_mul(1103515245).wrapping_add(12345);
        *px = px.saturating_sub(((noise >> 16) % 24) as u8);
        let _ = i;
    }
    for row in 0..width {
        for col in 0..width {
            if colors[(row * width + col) as usize] == qrcode::Color::Dark {
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (x + col * scale + dx, y + row * scale + dy);
                        frame[(py * size + px) as usize] = 30;
                    }
                }
            }
        }
    }
    frame
}

#[test]
fn a_pickup_qr_in_a_camera_frame_is_found_and_recognised() {
    let text = "LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA";
    let frame = frame_with_qr(text, 480, 5, 150, 100);
    let mut decoder = Decoder::default();
    let found = decoder.decode(&frame, 480, 480).expect("no code found");
    assert_eq!(found.symbology, Symbology::Qr);
    assert_eq!(found.text, text);
    assert_eq!(
        recognise(&found.text),
        Payload::Pickup {
            locker: "demo-1".into(),
            token: "DEMOALICEAAAAAAAAAAAAAAAAA".into()
        }
    );
}

#[test]
fn frames_without_a_code_or_with_garbage_give_nothing_and_never_panic() {
    let mut decoder = Decoder::default();
    assert_eq!(decoder.decode(&vec![128u8; 640 * 480], 640, 480), None);
    let mut state = 7u32;
    let noise: Vec<u8> = (0..320 * 240)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    assert_eq!(decoder.decode(&noise, 320, 240), None);
    // Too small a buffer for the stated size, and empty frames.
    assert_eq!(decoder.decode(&[0u8; 10], 640, 480), None);
    assert_eq!(decoder.decode(&[], 0, 0), None);
}

/// A camera's view of a QR code on a phone held up to the kiosk: the code
/// (with its quiet zone) mapped onto the quadrilateral `corners` of a
/// 640x480 frame (perspective), supersampled, then optionally blurred,
/// noised and washed out by a glare spot.
struct Shot {
    corners: [(f64, f64); 4],
    blur: u32,
    noise: u8,
    glare: Option<(f64, f64, f64)>,
}

const W: usize = 640;
const H: usize = 480;

/// The homography taking the unit square to `quad` (corners clockwise
/// from top left), solved as the usual 8x8 linear system.
fn homography(quad: &[(f64, f64); 4]) -> [f64; 9] {
    let square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let mut m = [[0.0f64; 9]; 8];
    for (i, ((x, y), (u, v))) in square.iter().zip(quad).enumerate() {
        m[2 * i] = [*x, *y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, *u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, *x, *y, 1.0, -v * x, -v * y, *v];
    }
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (row, values) in m.iter_mut().enumerate() {
            if row != col {
                let f = values[col] / pivot_row[col];
                for (value, pivot_value) in values.iter_mut().zip(pivot_row).skip(col) {
                    *value -= f * pivot_value;
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|i| m[i][8] / m[i][i]).collect();
    [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]
}

/// Inverse of a 3x3 matrix (adjugate over determinant).
fn invert(m: &[f64; 9]) -> [f64; 9] {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        (e * i - f * h) / det,
        (c * h - b * i) / det,
        (b * f - c * e) / det,
        (f * g - d * i) / det,
        (a * i - c * g) / det,
        (c * d - a * f) / det,
        (d * h - e * g) / det,
        (b * g - a * h) / det,
        (a * e - b * d) / det,
    ]
}

fn shoot(text: &str, shot: &Shot) -> Vec<u8> {
    let code = QrCode::new(text.as_bytes()).unwrap();
    let modules = code.width() as f64;
    let colors = code.to_colors();
    let quiet = 4.0;
    let to_card = invert(&homography(&shot.corners));
    let card = |x: f64, y: f64| -> f64 {
        let [a, b, c, d, e, f, g, h, i] = to_card;
        let w = g * x + h * y + i;
        let (u, v) = ((a * x + b * y + c) / w, (d * x + e * y + f) / w);
        if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
            return 110.0; // the kiosk's surroundings
        }
        let (col, row) = (
            (u * (modules + 2.0 * quiet) - quiet).floor(),
            (v * (modules + 2.0 * quiet) - quiet).floor(),
        );
        let inside = col >= 0.0 && row >= 0.0 && col < modules && row < modules;
        let dark = inside && colors[(row * modules + col) as usize] == qrcode::Color::Dark;
        if dark { 35.0 } else { 210.0 }
    };
    let mut frame: Vec<f64> = (0..W * H)
        .map(|i| {
            let (x, y) = ((i % W) as f64, (i / W) as f64);
            [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]
                .iter()
                .map(|(dx, dy)| card(x + dx, y + dy))
                .sum::<f64>()
                / 4.0
        })
        .collect();
    for _ in 0..shot.blur {
        let source = frame.clone();
        for y in 1..H - 1 {
            for x in 1..W - 1 {
                let mut sum = 0.0;
                for dy in [-1i64, 0, 1] {
                    for dx in [-1i64, 0, 1] {
                        sum += source[(y as i64 + dy) as usize * W + (x as i64 + dx) as usize];
                    }
                }
                frame[y * W + x] = sum / 9.0;
            }
        }
    }
    let mut state = 99u32;
    frame
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = ((i % W) as f64, (i / W) as f64);
            let glare = shot.glare.map_or(0.0, |(gx, gy, r)| {
                175.0 * (-((x - gx).powi(2) + (y - gy).powi(2)) / (r * r)).exp()
            });
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = if shot.noise == 0 {
                0.0
            } else {
                (state % (2 * u32::from(shot.noise) + 1)) as f64 - f64::from(shot.noise)
            };
            (v + glare + noise).clamp(0.0, 255.0) as u8
        })
        .collect()
}

#[test]
fn qr_codes_held_at_an_angle_blurred_noisy_or_in_glare_are_read() {
    let text = "LK1:demo-1:DEMOBOBBBBBBBBBBBBBBBBBBBB";
    let straight = [(170.0, 90.0), (470.0, 90.0), (470.0, 390.0), (170.0, 390.0)];
    // The phone tilted back and turned: a strong keystone.
    let tilted = [
        (190.0, 110.0),
        (450.0, 80.0),
        (480.0, 400.0),
        (160.0, 370.0),
    ];
    let shots = [
        (
            "perspective",
            Shot {
                corners: tilted,
                blur: 0,
                noise: 0,
                glare: None,
            },
        ),
        (
            "blur",
            Shot {
                corners: straight,
                blur: 2,
                noise: 0,
                glare: None,
            },
        ),
        (
            "noise",
            Shot {
                corners: straight,
                blur: 0,
                noise: 40,
                glare: None,
            },
        ),
        (
            "glare",
            Shot {
                corners: straight,
                blur: 0,
                noise: 0,
                glare: Some((360.0, 200.0, 60.0)),
            },
        ),
        (
            "all at once",
            Shot {
                corners: tilted,
                blur: 1,
                noise: 20,
                glare: Some((380.0, 300.0, 45.0)),
            },
        ),
    ];
    let mut decoder = Decoder::default();
    for (what, shot) in &shots {
        let frame = shoot(text, shot);
        if let Ok(dir) = std::env::var("SAVE_SHOTS") {
            image::GrayImage::from_raw(W as u32, H as u32, frame.clone())
                .unwrap()
                .save(format!("{dir}/{}.png", what.replace(' ', "-")))
                .unwrap();
        }
        let found = decoder.decode(&frame, W as u32, H as u32);
        assert_eq!(
            found.map(|f| f.text).as_deref(),
            Some(text),
            "not read with {what}"
        );
    }
}
