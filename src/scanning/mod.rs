//! Scanning: camera frames, handheld scanners, barcode decoding and the
//! payloads we recognise. Built by the scanning work (issue 4); until then
//! the kiosk takes typed codes only, and says so.
