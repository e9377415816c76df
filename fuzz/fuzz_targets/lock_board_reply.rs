#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    locker_kiosk::fuzzing::lock_board_reply(data);
});
