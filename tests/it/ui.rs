//! The real Slint UI, headless (Slint's testing backend), bound to the real
//! service and store exactly as `main` binds it.

use crate::common;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use locker_kiosk::config::Config;
use locker_kiosk::ui::{self, Kiosk, StatusLevel};
use slint::ComponentHandle;

#[test]
fn home_screen_shows_the_locker_and_its_state() {
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_service, window) = common::start_kiosk(store, Config::demo(), &runtime);

    let kiosk = window.global::<Kiosk>();
    assert_eq!(kiosk.get_locker_name(), "Demo Locker");
    // The overview arrives from the store thread, not from a blocking read.
    common::pump_until(&window, "the overview", 10, |w| {
        w.global::<Kiosk>().get_total_compartments() == 24
    });
    assert_eq!(kiosk.get_free_compartments(), 20);
    assert_eq!(kiosk.get_status_text(), "20 of 24 compartments free.");
    // The same facts in German.
    ui::set_language(&window, "de");
    assert_eq!(kiosk.get_status_text(), "20 von 24 Fächern frei.");
    ui::set_language(&window, "en");
    assert_eq!(kiosk.get_status_level(), StatusLevel::Ok);

    // Both choices are on screen as buttons a person (or a screen reader) can press.
    for label in ["Pick up a parcel", "Deliver parcels"] {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&window, label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(found.len(), 1, "{label}");
        let size = found[0].size();
        assert!(
            size.height >= 56.0,
            "{label} is too small to touch: {size:?}"
        );
    }
}

#[test]
fn larger_text_and_high_contrast_chosen_at_home_last_into_pickup_and_courier_visits() {
    use locker_kiosk::ui::{Page, Theme};
    if common::init_testing_backend() == common::Backend::PassedInChild {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = common::seeded_store(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_service, window) = common::start_kiosk(store, Config::demo(), &runtime);
    let toggle = |label: &str| {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(&window, label)
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Checkbox))
            .collect();
        assert_eq!(found.len(), 1, "{label}");
        found[0].invoke_accessible_default_action();
    };
    let chosen = |w: &ui::AppWindow| {
        let theme = w.global::<Theme>();
        (theme.get_large_text(), theme.get_high_contrast())
    };
    for flow in ["Pick up a parcel", "Deliver parcels"] {
        toggle("Larger text");
        toggle("High contrast");
        assert_eq!(chosen(&window), (true, true));
        common::press(&window, flow);
        assert_ne!(common::page(&window), Page::Home, "{flow}");
        assert_eq!(chosen(&window), (true, true), "kept for {flow}");
        common::press(&window, "Back");
        common::pump_until(&window, "home again", 5, |w| common::page(w) == Page::Home);
        assert_eq!(chosen(&window), (false, false), "the next person");
    }
}

/// The theme's colours, as `theme.slint` writes them: (normal, high contrast).
fn theme_colours() -> std::collections::HashMap<String, (String, String)> {
    let theme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/theme.slint")).unwrap();
    theme
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("out property <color> ")?;
            let (name, value) = rest.split_once(": high-contrast ? ")?;
            let (contrast, normal) = value.trim_end_matches(';').split_once(" : ")?;
            Some((name.to_string(), (normal.to_string(), contrast.to_string())))
        })
        .collect()
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |hex: &str| {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    };
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

#[test]
fn every_text_colour_meets_wcag_aa_on_what_it_is_drawn_on_in_both_themes() {
    let colours = theme_colours();
    // Text on the screens' grounds, and text on every strong colour (the
    // status strip, selected tabs, highlighted doors, buttons).
    let pairs = [
        ("text", "background"),
        ("text", "surface"),
        ("text", "disabled"),
        ("text-muted", "background"),
        ("text-muted", "surface"),
        ("danger", "background"),
        ("danger", "surface"),
        ("accent-text", "accent"),
        ("accent-text", "secondary"),
        ("accent-text", "warning"),
        ("accent-text", "danger"),
    ];
    let mut failures = Vec::new();
    for (text, ground) in pairs {
        let (Some(fg), Some(bg)) = (colours.get(text), colours.get(ground)) else {
            panic!("theme.slint has no {text} or {ground}: {colours:?}");
        };
        for (mode, fg, bg) in [("normal", &fg.0, &bg.0), ("high contrast", &fg.1, &bg.1)] {
            let ratio = contrast(fg, bg);
            if ratio < 4.5 {
                failures.push(format!("{mode}: {text} on {ground} is {ratio:.2}:1"));
            }
        }
    }
    assert!(failures.is_empty(), "below 4.5:1: {failures:#?}");
    // And no text colour bypasses the theme, where this test cannot see it.
    for entry in walkdir(concat!(env!("CARGO_MANIFEST_DIR"), "/ui")) {
        let source = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in source.lines().enumerate() {
            let line = line.trim();
            let fixed = line.starts_with("color: #") || line.starts_with("color: rgb");
            assert!(
                !fixed || line.contains("// theme-exempt:"),
                "{}:{}: a text colour outside the theme: {line}",
                entry.display(),
                n + 1
            );
        }
    }
}

fn walkdir(dir: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![std::path::PathBuf::from(dir)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "slint") {
                found.push(path);
            }
        }
    }
    found
}
