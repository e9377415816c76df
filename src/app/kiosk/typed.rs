//! What the person at the screen has typed: one buffer for every keypad
//! and keyboard, kept by the kiosk and emptied whenever the page changes,
//! so that each screen starts with an empty field.

use super::Page;

/// The text typed so far on the page's keypad or keyboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typed {
    text: String,
}

impl Typed {
    /// Adds `key` unless the field of `page` is full; a keyboard field
    /// never starts with a space.
    pub fn push(&mut self, key: &str, page: Page) {
        let Some(limit) = limit(page) else { return };
        if self.text.is_empty() && key.trim().is_empty() {
            return;
        }
        if self.text.chars().count() + key.chars().count() <= limit {
            self.text.push_str(key);
        }
    }

    pub fn erase(&mut self) {
        self.text.pop();
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// As the screen shows it: secrets as one dot per character.
    pub fn shown(&self, page: Page) -> String {
        if secret(page) {
            "•".repeat(self.text.chars().count())
        } else {
            self.text.clone()
        }
    }
}

/// The longest text the field of `page` takes; `None` where the page has
/// no field.
fn limit(page: Page) -> Option<usize> {
    match page {
        // Pickup codes are 4 to 10 digits by configuration.
        Page::PickupCode => Some(10),
        Page::CourierLogin => Some(8),
        Page::CourierScan | Page::CourierRecipient => Some(40),
        Page::MaintenancePin => Some(12),
        _ => None,
    }
}

/// A courier's code and the admin PIN are not shown to the queue behind.
fn secret(page: Page) -> bool {
    matches!(page, Page::CourierLogin | Page::MaintenancePin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_has_its_own_limit() {
        let mut typed = Typed::default();
        for _ in 0..12 {
            typed.push("1", Page::CourierLogin);
        }
        assert_eq!(typed.as_str(), "11111111");
        for _ in 0..12 {
            typed.push("1", Page::MaintenancePin);
        }
        assert_eq!(typed.as_str().len(), 12);
        typed.push("1", Page::Home);
        assert_eq!(typed.as_str().len(), 12, "no field at home");
    }

    #[test]
    fn secrets_are_dots_and_a_keyboard_field_starts_with_no_space() {
        let mut typed = Typed::default();
        typed.push(" ", Page::CourierScan);
        assert_eq!(typed.as_str(), "");
        typed.push("4711", Page::CourierLogin);
        assert_eq!(typed.shown(Page::CourierLogin), "••••");
        assert_eq!(typed.shown(Page::CourierScan), "4711");
        typed.erase();
        assert_eq!(typed.take(), "471");
        assert_eq!(typed.as_str(), "");
    }
}
