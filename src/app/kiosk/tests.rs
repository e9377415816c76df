//! The kiosk driver on its own: inputs in, effects and views out, with
//! the time given by hand. No store, no doors, no window.
