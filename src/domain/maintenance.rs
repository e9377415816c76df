//! What staff may do in maintenance, decided without any I/O: who came in,
//! how a compartment's tile is labelled, where a parcel may be moved, how
//! far a deadline is extended, why a parcel is taken out, and what an
//! "open all" came to.

use super::pickup::OpenOutcome;
use super::{
    CompartmentNumber, CompartmentState, CompartmentView, DoorState, ParcelStatus, SizeClass,
    Timestamp,
};

/// Whose PIN opened maintenance: the site's shared admin PIN, or a staff
/// member's own. The audit log names them as [`PinHolder::actor`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinHolder {
    Site,
    Staff(String),
}

impl PinHolder {
    /// How the audit log names them.
    pub fn actor(&self) -> String {
        match self {
            PinHolder::Site => SITE_ACTOR.to_string(),
            PinHolder::Staff(name) => format!("staff:{name}"),
        }
    }

    /// The name shown in maintenance's header; `None` for the shared PIN.
    pub fn name(&self) -> Option<&str> {
        match self {
            PinHolder::Site => None,
            PinHolder::Staff(name) => Some(name),
        }
    }
}

/// Who actions under the site's shared admin PIN are recorded as.
pub const SITE_ACTOR: &str = "staff:maintenance";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffNameError {
    #[error("a staff member's name has 1 to 32 characters")]
    Length,
    #[error("a staff member's name has letters, digits, spaces, dots and dashes only")]
    Characters,
    #[error("`maintenance` names the shared admin PIN; choose another name")]
    Reserved,
}

/// A staff member's name as the audit log will show it: trimmed, 1 to 32
/// characters of letters, digits, spaces, `.`, `-` and `_`.
pub fn staff_name(name: &str) -> Result<String, StaffNameError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(StaffNameError::Length);
    }
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_');
    if !name.chars().all(allowed) {
        return Err(StaffNameError::Characters);
    }
    if name.eq_ignore_ascii_case("maintenance") {
        return Err(StaffNameError::Reserved);
    }
    Ok(name.to_string())
}

/// The one word a compartment's tile shows, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Its lock board does not answer: nothing about it can be trusted.
    Offline,
    Faulty,
    OutOfService,
    Open,
    Expired,
    Occupied,
    /// Held for a courier whose door is open right now.
    Reserved,
    Free,
}

/// The tile of one compartment: its stored state, its door and board, and
/// the status of the parcel in it (if any).
pub fn tile_kind(view: &CompartmentView, parcel: Option<ParcelStatus>) -> TileKind {
    if !view.board_online {
        return TileKind::Offline;
    }
    match &view.state {
        CompartmentState::Faulty { .. } => TileKind::Faulty,
        CompartmentState::OutOfService { .. } => TileKind::OutOfService,
        _ if view.door == DoorState::Open => TileKind::Open,
        _ if parcel == Some(ParcelStatus::Expired) => TileKind::Expired,
        _ if parcel.is_some() => TileKind::Occupied,
        CompartmentState::Reserved => TileKind::Reserved,
        _ => TileKind::Free,
    }
}

/// Why a parcel cannot go into a compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveRefusal {
    #[error("the parcel is already in that compartment")]
    SameCompartment,
    #[error("the parcel is no longer in the locker")]
    NotInLocker,
    #[error("that compartment is not free")]
    NotFree,
    #[error("that compartment's lock board does not answer")]
    BoardOffline,
    #[error("that compartment's door is open")]
    DoorOpen,
    #[error("the parcel does not fit in that compartment")]
    TooSmall,
}

/// A parcel in the locker, as far as moving it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParcelPlace {
    pub compartment: CompartmentNumber,
    pub size: SizeClass,
    pub status: ParcelStatus,
}

/// Whether `parcel` may be moved into `target`: a free, closed compartment
/// on a board that answers, big enough for it.
pub fn check_move(parcel: &ParcelPlace, target: &CompartmentView) -> Result<(), MoveRefusal> {
    if !parcel.status.is_in_locker() {
        return Err(MoveRefusal::NotInLocker);
    }
    if target.number == parcel.compartment {
        return Err(MoveRefusal::SameCompartment);
    }
    if target.state != CompartmentState::Free {
        return Err(MoveRefusal::NotFree);
    }
    if !target.board_online {
        return Err(MoveRefusal::BoardOffline);
    }
    if target.door == DoorState::Open {
        return Err(MoveRefusal::DoorOpen);
    }
    if !target.size.fits(&parcel.size) {
        return Err(MoveRefusal::TooSmall);
    }
    Ok(())
}

/// Where `parcel` may go, the snuggest compartments first (so that the big
/// ones stay free for big parcels), then by number.
pub fn move_targets(parcel: &ParcelPlace, views: &[CompartmentView]) -> Vec<CompartmentNumber> {
    let mut targets: Vec<&CompartmentView> = views
        .iter()
        .filter(|v| check_move(parcel, v).is_ok())
        .collect();
    targets.sort_by_key(|v| (v.size.dimensions().volume(), v.number));
    targets.into_iter().map(|v| v.number).collect()
}

/// The extensions staff can give with one touch, in hours.
pub const EXTENSION_HOURS: [u32; 2] = [24, 72];

/// A new deadline `hours` after the current one, or after `now` when that
/// has passed: an expired parcel gets the full extension from now.
pub fn extended_deadline(now: Timestamp, current: Option<Timestamp>, hours: u32) -> Timestamp {
    let from = current.map_or(now, |deadline| deadline.max(now));
    from.plus_secs(i64::from(hours) * 3600)
}

/// Why staff took a parcel out of the locker (recorded with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovalReason {
    /// Given to the recipient in person (at the desk, say).
    HandedToRecipient,
    /// Damaged: kept by staff for the carrier.
    Damaged,
    /// The compartment was empty: the record goes.
    NotInCompartment,
    Other,
}

impl RemovalReason {
    pub const ALL: [RemovalReason; 4] = [
        RemovalReason::HandedToRecipient,
        RemovalReason::Damaged,
        RemovalReason::NotInCompartment,
        RemovalReason::Other,
    ];

    /// The reason [`RemovalReason::name`] names.
    pub fn from_name(name: &str) -> Option<RemovalReason> {
        RemovalReason::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            RemovalReason::HandedToRecipient => "handed_to_recipient",
            RemovalReason::Damaged => "damaged",
            RemovalReason::NotInCompartment => "not_in_compartment",
            RemovalReason::Other => "other",
        }
    }
}

/// Why staff send a parcel back to its sender (recorded with it; the
/// carrier's next courier takes it back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnReason {
    RefusedByRecipient,
    WrongAddress,
    RecalledBySender,
}

impl ReturnReason {
    pub fn name(self) -> &'static str {
        match self {
            ReturnReason::RefusedByRecipient => "refused_by_recipient",
            ReturnReason::WrongAddress => "wrong_address",
            ReturnReason::RecalledBySender => "recalled_by_sender",
        }
    }
}

/// Why staff open one door from the doors tab (recorded with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DoorOpenReason {
    Inspection,
    ParcelStuck,
}

impl DoorOpenReason {
    pub fn name(self) -> &'static str {
        match self {
            DoorOpenReason::Inspection => "inspection",
            DoorOpenReason::ParcelStuck => "parcel stuck",
        }
    }
}

/// Why staff take a compartment out of service (recorded with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceReason {
    Broken,
    Cleaning,
}

impl ServiceReason {
    pub fn name(self) -> &'static str {
        match self {
            ServiceReason::Broken => "broken",
            ServiceReason::Cleaning => "cleaning",
        }
    }
}

/// Why staff open every door at once (recorded with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenAllReason {
    /// Emptying the locker (moving out, a deep clean).
    Emptying,
    /// Checking every door and lock.
    Inspection,
    /// Fire, flood, police: everything open now.
    Emergency,
}

impl OpenAllReason {
    pub fn name(self) -> &'static str {
        match self {
            OpenAllReason::Emptying => "emptying",
            OpenAllReason::Inspection => "inspection",
            OpenAllReason::Emergency => "emergency",
        }
    }
}

/// What opening every door came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenAllSummary {
    pub opened: usize,
    pub already_open: usize,
    /// Doors that need a look, by number: jammed, then no reply.
    pub jammed: Vec<CompartmentNumber>,
    pub no_reply: Vec<CompartmentNumber>,
}

impl OpenAllSummary {
    pub fn of(outcomes: &[(CompartmentNumber, OpenOutcome)]) -> OpenAllSummary {
        let mut summary = OpenAllSummary::default();
        for (compartment, outcome) in outcomes {
            match outcome {
                OpenOutcome::Opened => summary.opened += 1,
                OpenOutcome::AlreadyOpen => summary.already_open += 1,
                OpenOutcome::Jammed => summary.jammed.push(*compartment),
                OpenOutcome::NoReply | OpenOutcome::NotSent => summary.no_reply.push(*compartment),
            }
        }
        summary.jammed.sort_unstable();
        summary.no_reply.sort_unstable();
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_are_named_in_the_log_as_they_are_called() {
        assert_eq!(staff_name("  Sam Lee "), Ok("Sam Lee".into()));
        assert_eq!(staff_name("Zoë-Ann"), Ok("Zoë-Ann".into()));
        assert_eq!(staff_name(""), Err(StaffNameError::Length));
        assert_eq!(staff_name(&"x".repeat(33)), Err(StaffNameError::Length));
        assert_eq!(staff_name("sam:admin"), Err(StaffNameError::Characters));
        assert_eq!(staff_name("Maintenance"), Err(StaffNameError::Reserved));
        assert_eq!(PinHolder::Staff("Sam Lee".into()).actor(), "staff:Sam Lee");
        assert_eq!(PinHolder::Site.actor(), "staff:maintenance");
    }
    use crate::domain::Position;

    fn view(number: CompartmentNumber, size: SizeClass) -> CompartmentView {
        CompartmentView {
            number,
            size,
            position: Position::default(),
            state: CompartmentState::Free,
            door: DoorState::Closed,
            board_online: true,
        }
    }

    fn parcel_in(compartment: CompartmentNumber, size: SizeClass) -> ParcelPlace {
        ParcelPlace {
            compartment,
            size,
            status: ParcelStatus::Deposited,
        }
    }

    #[test]
    fn tiles_show_the_most_urgent_fact() {
        let mut v = view(1, SizeClass::S);
        assert_eq!(tile_kind(&v, None), TileKind::Free);
        v.state = CompartmentState::Reserved;
        assert_eq!(tile_kind(&v, None), TileKind::Reserved);
        v.state = CompartmentState::Occupied;
        assert_eq!(
            tile_kind(&v, Some(ParcelStatus::Deposited)),
            TileKind::Occupied
        );
        assert_eq!(
            tile_kind(&v, Some(ParcelStatus::Expired)),
            TileKind::Expired
        );
        v.door = DoorState::Open;
        assert_eq!(tile_kind(&v, Some(ParcelStatus::Expired)), TileKind::Open);
        v.state = CompartmentState::OutOfService {
            reason: "repair".into(),
        };
        assert_eq!(tile_kind(&v, None), TileKind::OutOfService);
        v.state = CompartmentState::Faulty {
            reason: "jammed".into(),
        };
        assert_eq!(tile_kind(&v, None), TileKind::Faulty);
        v.board_online = false;
        assert_eq!(tile_kind(&v, None), TileKind::Offline);
    }

    #[test]
    fn a_parcel_moves_only_into_a_free_closed_big_enough_compartment() {
        let parcel = parcel_in(3, SizeClass::M);
        assert_eq!(check_move(&parcel, &view(5, SizeClass::M)), Ok(()));
        assert_eq!(check_move(&parcel, &view(5, SizeClass::Xl)), Ok(()));
        assert_eq!(
            check_move(&parcel, &view(3, SizeClass::M)),
            Err(MoveRefusal::SameCompartment)
        );
        assert_eq!(
            check_move(&parcel, &view(5, SizeClass::S)),
            Err(MoveRefusal::TooSmall)
        );
        let mut busy = view(5, SizeClass::L);
        busy.state = CompartmentState::Occupied;
        assert_eq!(check_move(&parcel, &busy), Err(MoveRefusal::NotFree));
        let mut open = view(5, SizeClass::L);
        open.door = DoorState::Open;
        assert_eq!(check_move(&parcel, &open), Err(MoveRefusal::DoorOpen));
        let mut offline = view(5, SizeClass::L);
        offline.board_online = false;
        assert_eq!(
            check_move(&parcel, &offline),
            Err(MoveRefusal::BoardOffline)
        );
        let collected = ParcelPlace {
            status: ParcelStatus::Collected,
            ..parcel
        };
        assert_eq!(
            check_move(&collected, &view(5, SizeClass::M)),
            Err(MoveRefusal::NotInLocker)
        );
    }

    #[test]
    fn move_targets_put_the_snuggest_compartments_first() {
        let views = [
            view(1, SizeClass::Xl),
            view(2, SizeClass::S),
            view(3, SizeClass::M),
            view(4, SizeClass::M),
            view(5, SizeClass::L),
        ];
        let parcel = parcel_in(4, SizeClass::M);
        assert_eq!(move_targets(&parcel, &views), vec![3, 5, 1]);
    }

    #[test]
    fn extensions_count_from_the_deadline_or_from_now_when_it_passed() {
        let now = Timestamp(1_000_000_000);
        let day = 24 * 3600 * 1000;
        let later = now.plus_millis(5000);
        assert_eq!(
            extended_deadline(now, Some(later), 24),
            later.plus_millis(day)
        );
        let passed = now.plus_millis(-5000);
        assert_eq!(
            extended_deadline(now, Some(passed), 24),
            now.plus_millis(day)
        );
        assert_eq!(extended_deadline(now, None, 72), now.plus_millis(3 * day));
    }

    #[test]
    fn open_all_summaries_name_the_doors_to_look_at() {
        let summary = OpenAllSummary::of(&[
            (4, OpenOutcome::Opened),
            (9, OpenOutcome::NoReply),
            (2, OpenOutcome::Jammed),
            (1, OpenOutcome::AlreadyOpen),
            (3, OpenOutcome::Opened),
            (8, OpenOutcome::NoReply),
        ]);
        assert_eq!(summary.opened, 2);
        assert_eq!(summary.already_open, 1);
        assert_eq!(summary.jammed, vec![2]);
        assert_eq!(summary.no_reply, vec![8, 9]);
    }
}
