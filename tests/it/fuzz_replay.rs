//! The fuzz targets of `fuzz/` (src/fuzzing.rs), replayed on stable with a
//! fixed seed: random bytes and mutations of real inputs (the demo
//! configuration, staff requests, pickup and badge codes, tracking
//! numbers, receipts). None may panic, take long, or allocate without
//! bound; the counts go into README.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes while `WATCHING`, and the most at once.
struct Counting;

static WATCHING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.load(Ordering::Relaxed) {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        // SAFETY: passed through to the system allocator unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(
                layout.size().min(LIVE.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// xorshift64*: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        locker_kiosk::config::DEMO_LAYOUT.as_bytes().to_vec(),
        br#"{"actor":"cli:root","request":{"command":"list-compartments"}}"#.to_vec(),
        br#"{"actor":"cli:root","request":{"command":"disable-compartment","number":3,"reason":"x"}}"#
            .to_vec(),
        b"LK1:demo-1:DEMOALICEAAAAAAAAAAAAAAAAA\r\n".to_vec(),
        b"LKC1:demo-1:DANA\n".to_vec(),
        b"1Z999AA10123456784".to_vec(),
        b"9400111899223197428497".to_vec(),
        b"https://example.com/track?id=42".to_vec(),
        // A lock board's bytes: 8A-style frames and CU16-style headers.
        vec![0x8A, 0x01, 0x01, 0x11, 0x9B],
        vec![0x02, 0x00, 0x00, 0x51, 0x03, 0x56],
    ];
    seeds.push(Vec::new());
    seeds
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(4) == 0 {
        let len = rng.below(300);
        return (0..len).map(|_| rng.next() as u8).collect();
    }
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, rng.next() as u8),
            2 if at < input.len() => {
                input.remove(at);
            }
            3 => input.truncate(at),
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let piece: Vec<u8> = other[from..].iter().take(rng.below(64)).copied().collect();
                input.splice(at..at, piece);
            }
            _ => {
                // A run of one byte: long lines, deep nesting.
                let byte = *b"[{\"9 \n".get(rng.below(7)).unwrap_or(&b'[');
                input.splice(at..at, std::iter::repeat_n(byte, rng.below(2000)));
            }
        }
    }
    input
}

#[test]
fn every_fuzz_target_takes_any_input_without_panic_hang_or_unbounded_memory() {
    const LIMIT_BYTES: usize = 64 << 20;
    let seeds = seeds();
    // The seeds are real inputs, so that mutations reach deep.
    assert!(locker_kiosk::app::control::read_request(&seeds[1]).is_ok());
    assert!(locker_kiosk::app::control::read_request(&seeds[2]).is_ok());
    for (name, target) in locker_kiosk::fuzzing::TARGETS {
        let mut rng = Rng(0x1234_5678_9ABC_DEF1 ^ name.len() as u64);
        // Sized to take a few seconds in all on a CI machine.
        let inputs = match name {
            "lock_board_reply" => 10_000,
            "scanned_payload" => 6_000,
            "scanner_input" => 2_500,
            _ => 8_000,
        };
        let (mut slowest, mut peak) = (Duration::ZERO, 0);
        let started = Instant::now();
        for _ in 0..inputs {
            let input = mutate(&mut rng, &seeds);
            LIVE.store(0, Ordering::Relaxed);
            PEAK.store(0, Ordering::Relaxed);
            WATCHING.store(true, Ordering::Relaxed);
            let began = Instant::now();
            let outcome = std::panic::catch_unwind(|| target(&input));
            let took = began.elapsed();
            WATCHING.store(false, Ordering::Relaxed);
            assert!(
                outcome.is_ok(),
                "{name} panicked on {:?}",
                String::from_utf8_lossy(&input)
            );
            slowest = slowest.max(took);
            peak = peak.max(PEAK.load(Ordering::Relaxed));
            assert!(
                took < Duration::from_secs(2),
                "{name} took {took:?} on {} bytes",
                input.len()
            );
            assert!(
                PEAK.load(Ordering::Relaxed) < LIMIT_BYTES,
                "{name} held {} bytes for {} bytes of input",
                PEAK.load(Ordering::Relaxed),
                input.len()
            );
        }
        eprintln!(
            "fuzz replay: {name}: {inputs} inputs in {:?}, none panicked; slowest {slowest:?}, most memory held {} KiB",
            started.elapsed(),
            peak / 1024
        );
    }
}
