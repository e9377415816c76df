#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    locker_kiosk::fuzzing::configuration(data);
});
