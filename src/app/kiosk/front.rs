//! The locker's front as the screens draw it: every door as tall as its
//! compartment and as high above the floor as it is, so that "your parcel
//! is here" points at the right door.

use crate::config::{CompartmentConfig, Config};
use crate::domain::CompartmentNumber;

/// One door on the drawing. Its place and height are in thousandths of
/// the locker's height, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorCell {
    pub compartment: CompartmentNumber,
    pub column: u32,
    pub top: u32,
    pub height: u32,
}

/// Doors are a little taller than their compartment's inside.
const FRAME_MM: u32 = 20;

fn door_height(c: &CompartmentConfig) -> u32 {
    c.size.dimensions().height_mm + FRAME_MM
}

/// Every compartment of the layout on the drawing.
pub fn locker_front(config: &Config) -> Vec<DoorCell> {
    let top_mm = config
        .compartments
        .iter()
        .map(|c| c.position.height_mm + door_height(c))
        .max()
        .unwrap_or(1)
        .max(1);
    config
        .compartments
        .iter()
        .map(|c| {
            let upper_edge = c.position.height_mm + door_height(c);
            DoorCell {
                compartment: c.number,
                column: c.position.column.max(1),
                top: (top_mm - upper_edge) * 1000 / top_mm,
                height: door_height(c) * 1000 / top_mm,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_front_fills_the_height_and_no_door_overlaps_another() {
        let front = locker_front(&Config::demo());
        assert_eq!(front.len(), 24);
        assert!(front.iter().any(|d| d.top == 0), "a door at the top");
        for a in &front {
            assert!(a.top + a.height <= 1000, "{a:?}");
            for b in front.iter().filter(|b| b.column == a.column && b != &a) {
                let apart = a.top + a.height <= b.top || b.top + b.height <= a.top;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }
}
