//! The generic "8A/80" board. Frames end in an XOR checksum of all
//! preceding bytes.
//!
//! - open `8A B L 11 X` (or `8A B L 11 SS X` with a pulse time) -> `8A B L ST X`
//! - query one `80 B L 33 X` -> `80 B L ST X`
//! - query all `80 B 00 33 X` -> `80 B S.. 33 X`, one bit a channel
//!
//! ST `11` / a set bit means the sensor switch is closed, which with the
//! usual "closed when locked" wiring is a closed door.

use super::*;

pub struct EightA;

const OPEN: u8 = 0x8A;
const QUERY: u8 = 0x80;
const OPEN_CMD: u8 = 0x11;
const QUERY_CMD: u8 = 0x33;
const ACTIVE_MEANS_CLOSED: bool = true;

fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out.push(xor(bytes));
    out
}

/// Status bytes in a query-all reply: 3 for up to 24 channels (as
/// captured from 8- and 24-channel boards), one per 8 channels above.
fn status_len(channels: u16) -> usize {
    usize::from(channels).div_ceil(8).max(3)
}

fn status_bytes_in_channel_order(target: &Target, status: &[u8]) -> Vec<u8> {
    match target.status_order {
        StatusOrder::LastByteFirst => status.iter().rev().copied().collect(),
        StatusOrder::FirstByteFirst => status.to_vec(),
    }
}

impl Codec for EightA {
    fn encode(&self, target: &Target, request: &Request) -> Option<Vec<u8>> {
        let b = target.address;
        Some(match *request {
            Request::Open { channel } => match target.pulse_secs {
                Some(secs) => frame(&[OPEN, b, channel as u8, OPEN_CMD, secs]),
                None => frame(&[OPEN, b, channel as u8, OPEN_CMD]),
            },
            Request::OpenAll => frame(&[OPEN, b, 0x00, OPEN_CMD]),
            Request::QueryOne { channel } => frame(&[QUERY, b, channel as u8, QUERY_CMD]),
            Request::QueryAll => frame(&[QUERY, b, 0x00, QUERY_CMD]),
        })
    }

    fn expect(&self, request: &Request) -> Expect {
        match request {
            Request::OpenAll => Expect::MaybeReply,
            _ => Expect::Reply,
        }
    }

    fn decode(&self, target: &Target, request: &Request, buf: &[u8]) -> Decoded {
        let header = match request {
            Request::Open { .. } | Request::OpenAll => OPEN,
            _ => QUERY,
        };
        if let Some(skip) = resync(buf, header) {
            return skip;
        }
        if buf.len() >= 2 && buf[1] != target.address {
            return Decoded::Garbage(1);
        }
        match *request {
            Request::QueryAll => decode_status(target, buf),
            Request::Open { channel } | Request::QueryOne { channel } => {
                decode_single(target, buf, channel as u8, request)
            }
            Request::OpenAll => decode_single(target, buf, 0, request),
        }
    }

    fn parse_request(&self, buf: &[u8]) -> Parsed {
        let Some(&first) = buf.first() else {
            return Parsed::NeedMore;
        };
        if first != OPEN && first != QUERY {
            return Parsed::Garbage(1);
        }
        if buf.len() < 5 {
            return Parsed::NeedMore;
        }
        let (address, channel) = (buf[1], u16::from(buf[2]));
        let request = match (first, buf[3]) {
            (OPEN, OPEN_CMD) if channel == 0 => Request::OpenAll,
            (OPEN, OPEN_CMD) => Request::Open { channel },
            (QUERY, QUERY_CMD) if channel == 0 => Request::QueryAll,
            (QUERY, QUERY_CMD) => Request::QueryOne { channel },
            _ => return Parsed::Garbage(1),
        };
        if buf[4] == xor(&buf[..4]) {
            return Parsed::Request {
                address,
                request,
                len: 5,
            };
        }
        // An open with a pulse time byte.
        if first == OPEN && buf.len() < 6 {
            return Parsed::NeedMore;
        }
        if first == OPEN && buf[5] == xor(&buf[..5]) {
            return Parsed::Request {
                address,
                request,
                len: 6,
            };
        }
        Parsed::Garbage(1)
    }

    fn encode_reply(
        &self,
        target: &Target,
        request: &Request,
        open: &[bool],
        _pulsed: bool,
    ) -> Option<Vec<u8>> {
        let b = target.address;
        let st = |channel: u16| {
            let is_open = open.get(usize::from(channel) - 1).copied().unwrap_or(false);
            if target.raw_bit(is_open, ACTIVE_MEANS_CLOSED) {
                0x11
            } else {
                0x00
            }
        };
        Some(match *request {
            Request::Open { channel } => frame(&[OPEN, b, channel as u8, st(channel)]),
            // Most boards say nothing to an open-all.
            Request::OpenAll => return None,
            Request::QueryOne { channel } => frame(&[QUERY, b, channel as u8, st(channel)]),
            Request::QueryAll => {
                let len = status_len(target.channels);
                let in_order = pack_lsb_first(raw_bits(target, open, ACTIVE_MEANS_CLOSED), len);
                let status = status_bytes_in_channel_order(target, &in_order);
                let mut bytes = vec![QUERY, b];
                bytes.extend(status);
                bytes.push(QUERY_CMD);
                frame(&bytes)
            }
        })
    }
}

fn decode_single(target: &Target, buf: &[u8], channel: u8, request: &Request) -> Decoded {
    if buf.len() >= 3 && buf[2] != channel {
        return Decoded::Garbage(1);
    }
    if buf.len() < 5 {
        return Decoded::NeedMore;
    }
    let st = buf[3];
    if buf[4] != xor(&buf[..4]) || !(st == 0x00 || st == 0x11) {
        return Decoded::Garbage(1);
    }
    let door = target.door(st == 0x11, ACTIVE_MEANS_CLOSED);
    let reply = match request {
        Request::QueryOne { .. } => Reply::Door(door),
        Request::OpenAll => Reply::OpenAck {
            accepted: true,
            door: None,
        },
        _ => Reply::OpenAck {
            accepted: true,
            door: Some(door),
        },
    };
    Decoded::Reply {
        reply,
        skip: 0,
        len: 5,
    }
}

fn decode_status(target: &Target, buf: &[u8]) -> Decoded {
    // Only the expected length: a shorter frame that happens to end in
    // `33 X` (the echo of our own query, for one) must not pass as a reply.
    let len = status_len(target.channels) + 4;
    if buf.len() < len {
        return Decoded::NeedMore;
    }
    if buf[len - 2] != QUERY_CMD || buf[len - 1] != xor(&buf[..len - 1]) {
        return Decoded::Garbage(1);
    }
    let status = status_bytes_in_channel_order(target, &buf[2..len - 2]);
    Decoded::Reply {
        reply: Reply::Doors(target.doors(bits_lsb_first(&status), ACTIVE_MEANS_CLOSED)),
        skip: 0,
        len,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::target;
    use super::*;

    fn reply(t: &Target, request: Request, bytes: &[u8]) -> Reply {
        match EightA.decode(t, &request, bytes) {
            Decoded::Reply { reply, skip, len } => {
                assert_eq!(skip + len, bytes.len());
                reply
            }
            other => panic!("{bytes:02X?}: {other:?}"),
        }
    }

    #[test]
    fn requests_match_the_documented_bytes() {
        let t = target(1, 8);
        let enc = |r| EightA.encode(&t, &r).unwrap();
        assert_eq!(
            enc(Request::Open { channel: 1 }),
            [0x8A, 0x01, 0x01, 0x11, 0x9B]
        );
        assert_eq!(enc(Request::OpenAll), [0x8A, 0x01, 0x00, 0x11, 0x9A]);
        assert_eq!(
            enc(Request::QueryOne { channel: 1 }),
            [0x80, 0x01, 0x01, 0x33, 0xB3]
        );
        assert_eq!(enc(Request::QueryAll), [0x80, 0x01, 0x00, 0x33, 0xB2]);
        let pulsed = Target {
            pulse_secs: Some(2),
            ..t
        };
        assert_eq!(
            EightA
                .encode(&pulsed, &Request::Open { channel: 1 })
                .unwrap(),
            [0x8A, 0x01, 0x01, 0x11, 0x02, 0x99]
        );
    }

    #[test]
    fn single_replies_under_both_polarities() {
        let usual = target(1, 8);
        let inverted = Target {
            polarity: SensorPolarity::ClosedWhenOpen,
            ..usual
        };
        let open_ok = [0x8A, 0x01, 0x01, 0x00, 0x8A];
        assert_eq!(
            reply(&usual, Request::Open { channel: 1 }, &open_ok),
            Reply::OpenAck {
                accepted: true,
                door: Some(Door::Open)
            }
        );
        assert_eq!(
            reply(&inverted, Request::Open { channel: 1 }, &open_ok),
            Reply::OpenAck {
                accepted: true,
                door: Some(Door::Closed)
            }
        );
        let query = [0x80, 0x01, 0x01, 0x00, 0x80];
        assert_eq!(
            reply(&usual, Request::QueryOne { channel: 1 }, &query),
            Reply::Door(Door::Open)
        );
        assert_eq!(
            reply(&inverted, Request::QueryOne { channel: 1 }, &query),
            Reply::Door(Door::Closed)
        );
    }

    #[test]
    fn query_all_replies_in_both_byte_orders() {
        let usual = target(1, 8);
        // The captured reply: three status bytes, nothing set.
        assert_eq!(
            reply(
                &usual,
                Request::QueryAll,
                &[0x80, 0x01, 0x00, 0x00, 0x00, 0x33, 0xB2]
            ),
            Reply::Doors(vec![Door::Open; 8])
        );
        // Lock 2's bit in the last byte (the majority's order). The source
        // calls lock 2 "open" here: boards wired closed-when-open.
        let lock2 = [0x80, 0x01, 0x00, 0x00, 0x02, 0x33, 0xB0];
        let inverted = Target {
            polarity: SensorPolarity::ClosedWhenOpen,
            ..usual
        };
        let mut expected = vec![Door::Closed; 8];
        expected[1] = Door::Open;
        assert_eq!(
            reply(&inverted, Request::QueryAll, &lock2),
            Reply::Doors(expected)
        );
        // The minority order puts channels 1-8 in the first byte.
        let first = Target {
            status_order: StatusOrder::FirstByteFirst,
            ..inverted
        };
        assert_eq!(
            reply(&first, Request::QueryAll, &lock2),
            Reply::Doors(vec![Door::Closed; 8])
        );
    }

    #[test]
    fn fifty_channel_boards_send_seven_status_bytes() {
        let t = target(3, 50);
        let mut open = vec![false; 50];
        open[49] = true;
        let bytes = EightA
            .encode_reply(&t, &Request::QueryAll, &open, true)
            .unwrap();
        assert_eq!(bytes.len(), 2 + 7 + 2);
        let Reply::Doors(doors) = reply(&t, Request::QueryAll, &bytes) else {
            panic!()
        };
        assert_eq!(doors.iter().filter(|d| **d == Door::Open).count(), 1);
        assert_eq!(doors[49], Door::Open);
    }

    #[test]
    fn stray_bytes_before_a_frame_are_skipped() {
        let t = target(1, 8);
        let mut bytes = vec![0xFA, 0xFD, 0x99, 0x99];
        bytes.extend([0x8A, 0x01, 0x01, 0x00, 0x8A]);
        assert_eq!(
            EightA.decode(&t, &Request::Open { channel: 1 }, &bytes),
            Decoded::Garbage(4)
        );
        assert!(matches!(
            EightA.decode(&t, &Request::Open { channel: 1 }, &bytes[4..]),
            Decoded::Reply { .. }
        ));
    }

    #[test]
    fn malformed_truncated_and_foreign_frames_are_refused() {
        let t = target(1, 8);
        let open = Request::Open { channel: 1 };
        // Truncated: wait for more.
        assert_eq!(
            EightA.decode(&t, &open, &[0x8A, 0x01, 0x01]),
            Decoded::NeedMore
        );
        // Bad checksum.
        assert_eq!(
            EightA.decode(&t, &open, &[0x8A, 0x01, 0x01, 0x00, 0x8B]),
            Decoded::Garbage(1)
        );
        // Another board's reply.
        assert_eq!(
            EightA.decode(&t, &open, &[0x8A, 0x02, 0x01, 0x00, 0x89]),
            Decoded::Garbage(1)
        );
        // Another channel's reply.
        assert_eq!(
            EightA.decode(&t, &open, &[0x8A, 0x01, 0x02, 0x00, 0x89]),
            Decoded::Garbage(1)
        );
        // A status byte that is neither 00 nor 11.
        let odd = [0x8A, 0x01, 0x01, 0x05];
        assert_eq!(EightA.decode(&t, &open, &frame(&odd)), Decoded::Garbage(1));
        // A Kerong frame on an 8a bus.
        assert_eq!(
            EightA.decode(&t, &open, &[0x02, 0x00, 0x31, 0x03, 0x36]),
            Decoded::Garbage(5)
        );
    }

    #[test]
    fn an_echoed_query_is_not_a_reply() {
        let t = target(1, 8);
        let query = EightA.encode(&t, &Request::QueryAll).unwrap();
        assert_eq!(
            EightA.decode(&t, &Request::QueryAll, &query),
            Decoded::NeedMore
        );
        let mut echoed = query.clone();
        echoed.extend([0x80, 0x01, 0x00, 0x00, 0x00, 0x33, 0xB2]);
        // The echo is skipped byte by byte until the real reply lines up.
        let mut buf = &echoed[..];
        loop {
            match EightA.decode(&t, &Request::QueryAll, buf) {
                Decoded::Garbage(n) => buf = &buf[n..],
                Decoded::Reply { len, .. } => {
                    assert_eq!(buf.len(), len);
                    break;
                }
                Decoded::NeedMore => panic!("stuck"),
            }
        }
    }

    #[test]
    fn the_failed_open_reply_equals_the_request() {
        // With the usual wiring "still closed" is byte-identical to the
        // request: the bus must not take an echo for it blindly.
        let t = target(1, 8);
        let request = EightA.encode(&t, &Request::Open { channel: 1 }).unwrap();
        let failed = EightA
            .encode_reply(&t, &Request::Open { channel: 1 }, &[false; 8], false)
            .unwrap();
        assert_eq!(request, failed);
    }
}
