//! The kiosk's screens: the `.slint` files in this folder (a root window,
//! `pages/`, `components/`, a theme, and `api.slint`, whose globals are the
//! only contract with Rust), compiled by build.rs. The adapters that set
//! their models and implement their callbacks are in the main crate's
//! `src/ui/`.
//!
//! A crate of its own so that the generated code (megabytes of Rust) is
//! compiled once, not again for the library's unit tests, and not again
//! when only the Rust side changes.

slint::include_modules!();
