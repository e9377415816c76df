//! The application service: everything between the UI and the parts
//! (store, lock boards, scanners). It owns the store on a worker thread of
//! its own, so that no database work ever runs on the UI thread.

pub mod admin;
pub mod backups;
pub mod control;
pub mod data_dir;
pub mod demo;
pub mod door_log;
pub mod fleet;
pub mod handout;
pub mod kiosk;
pub mod maintenance;
pub mod notifier;
pub mod outages;
pub mod reconcile;
pub mod service;
pub mod staff_commands;
pub mod system;

pub use service::{CameraStatus, Overview, Service};

/// Spoken guidance's voice, for the screens.
pub use crate::speech;
