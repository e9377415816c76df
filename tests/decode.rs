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
