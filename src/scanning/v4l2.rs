//! The camera, through nokhwa's V4L2 backend. We ask for YUYV or GREY and
//! take the luma plane straight from the buffer (no detour through RGB);
//! MJPEG is the fallback for cameras that offer nothing else. A camera that
//! cannot be opened, or stops delivering frames (unplugged), is reported
//! offline and reopened in the background until it is back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nokhwa::Camera;
use nokhwa::pixel_format::LumaFormat;
use nokhwa::utils::{
    CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use super::camera::Frame;

const REOPEN_EVERY: Duration = Duration::from_secs(2);
/// Formats in the order we prefer them: luma for free first.
const PREFERRED: [FrameFormat; 4] = [
    FrameFormat::GRAY,
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::MJPEG,
];

/// What the capture loop reports about the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraEvent {
    Online { width: u32, height: u32 },
    Offline,
}

/// The luma plane of a frame in `format`; `None` when the buffer is short
/// or cannot be decoded.
pub fn luma_from(format: FrameFormat, bytes: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let pixels = (width as usize).checked_mul(height as usize)?;
    match format {
        FrameFormat::GRAY => bytes.get(..pixels).map(<[u8]>::to_vec),
        // Y0 U Y1 V: every other byte is luma.
        FrameFormat::YUYV => {
            let packed = bytes.get(..pixels * 2)?;
            Some(packed.iter().step_by(2).copied().collect())
        }
        // The Y plane comes first.
        FrameFormat::NV12 => bytes.get(..pixels).map(<[u8]>::to_vec),
        FrameFormat::MJPEG => {
            let image =
                image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).ok()?;
            let luma = image.to_luma8();
            (luma.width() == width && luma.height() == height).then(|| luma.into_raw())
        }
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            let rgb = bytes.get(..pixels * 3)?;
            let swap = format == FrameFormat::RAWBGR;
            Some(
                rgb.chunks_exact(3)
                    .map(|p| {
                        let (r, b) = if swap { (p[2], p[0]) } else { (p[0], p[2]) };
                        // ITU-R BT.601 weights, in integers.
                        ((u32::from(r) * 299 + u32::from(p[1]) * 587 + u32::from(b) * 114) / 1000)
                            as u8
                    })
                    .collect(),
            )
        }
    }
}

/// The V4L2 index of `/dev/videoN`, following udev's by-id/by-path links.
pub fn device_index(device: &Path) -> Option<u32> {
    let real = std::fs::canonicalize(device).unwrap_or_else(|_| device.to_path_buf());
    real.file_name()?
        .to_str()?
        .strip_prefix("video")?
        .parse()
        .ok()
}

/// Opens the camera at the nearest of our preferred formats.
fn open(device: &Path, width: u32, height: u32, fps: u32) -> Result<Camera, String> {
    let index = device_index(device)
        .ok_or_else(|| format!("{} is not a V4L2 video device", device.display()))?;
    let mut last_error = String::new();
    for format in PREFERRED {
        let wanted = CameraFormat::new(Resolution::new(width, height), format, fps);
        let requested = RequestedFormat::new::<LumaFormat>(RequestedFormatType::Closest(wanted));
        match Camera::new(CameraIndex::Index(index), requested) {
            Ok(mut camera) if camera.camera_format().format() == format => {
                camera.open_stream().map_err(|e| e.to_string())?;
                return Ok(camera);
            }
            Ok(_) => continue,
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(if last_error.is_empty() {
        "the camera offers no YUYV, GREY, NV12 or MJPEG format".into()
    } else {
        last_error
    })
}

/// Captures frames until `stopping()`, reopening the camera whenever it
/// is lost. Runs on a thread of its own.
pub fn capture(
    device: PathBuf,
    (width, height, fps): (u32, u32, u32),
    push: impl Fn(Frame),
    report: impl Fn(CameraEvent),
    stopping: impl Fn() -> bool,
) {
    let mut reported_offline = false;
    while !stopping() {
        let mut camera = match open(&device, width, height, fps) {
            Ok(camera) => camera,
            Err(e) => {
                if !reported_offline {
                    tracing::warn!(device = %device.display(), error = %e, "camera offline; retrying in the background");
                    report(CameraEvent::Offline);
                    reported_offline = true;
                }
                sleep_unless(REOPEN_EVERY, &stopping);
                continue;
            }
        };
        let format = camera.camera_format();
        tracing::info!(device = %device.display(), %format, "camera online");
        report(CameraEvent::Online {
            width: format.width(),
            height: format.height(),
        });
        reported_offline = false;
        while !stopping() {
            match camera.frame() {
                Ok(buffer) => {
                    let size = buffer.resolution();
                    match luma_from(
                        buffer.source_frame_format(),
                        buffer.buffer(),
                        size.width(),
                        size.height(),
                    ) {
                        Some(luma) => push(Frame {
                            luma,
                            width: size.width(),
                            height: size.height(),
                        }),
                        None => tracing::debug!("skipping a frame that cannot be read"),
                    }
                }
                Err(e) => {
                    tracing::warn!(device = %device.display(), error = %e, "camera lost; reopening");
                    report(CameraEvent::Offline);
                    reported_offline = true;
                    break;
                }
            }
        }
        let _ = camera.stop_stream();
    }
}

fn sleep_unless(duration: Duration, stopping: &impl Fn() -> bool) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < duration && !stopping() {
        std::thread::sleep(step);
        slept += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_comes_straight_from_yuyv_grey_and_nv12() {
        // 2x2 YUYV: Y0 U Y1 V per pair of pixels.
        let yuyv = [10, 128, 20, 128, 30, 128, 40, 128];
        assert_eq!(
            luma_from(FrameFormat::YUYV, &yuyv, 2, 2),
            Some(vec![10, 20, 30, 40])
        );
        assert_eq!(
            luma_from(FrameFormat::GRAY, &[1, 2, 3, 4], 2, 2),
            Some(vec![1, 2, 3, 4])
        );
        let nv12 = [1, 2, 3, 4, 128, 128];
        assert_eq!(
            luma_from(FrameFormat::NV12, &nv12, 2, 2),
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(
            luma_from(FrameFormat::RAWRGB, &[255, 255, 255, 0, 0, 0], 2, 1),
            Some(vec![255, 0])
        );
    }

    #[test]
    fn short_or_broken_buffers_are_skipped() {
        assert_eq!(luma_from(FrameFormat::YUYV, &[1, 2, 3], 2, 2), None);
        assert_eq!(luma_from(FrameFormat::MJPEG, b"not a jpeg", 2, 2), None);
        assert_eq!(luma_from(FrameFormat::GRAY, &[], u32::MAX, u32::MAX), None);
    }

    #[test]
    fn mjpeg_is_decoded_to_luma() {
        let image = image::GrayImage::from_fn(16, 8, |x, _| image::Luma([(x * 16) as u8]));
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(image)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let luma = luma_from(FrameFormat::MJPEG, &jpeg, 16, 8).unwrap();
        assert_eq!(luma.len(), 128);
        assert!(luma[15] > luma[0] + 150, "{luma:?}");
    }

    #[test]
    fn video_devices_by_name() {
        assert_eq!(device_index(Path::new("/dev/video3")), Some(3));
        assert_eq!(device_index(Path::new("/dev/ttyUSB0")), None);
    }
}
