//! Winnsen's STM32-based board: `90 LEN FN STATION LOCK ... 03`, LEN the
//! whole frame's length, and no checksum, so every other field is checked.
//!
//! - open `90 06 05 ST LK 03` -> `90 07 85 ST LK SS 03`, SS `01` opened, `00` failed
//! - poll `90 07 02 ST MaskLo MaskHi 03` -> `90 07 82 ST Lo Hi 03`, bit set = open
//!
//! There is no documented open-all; the bus opens the doors one by one.

use super::*;

pub struct Winnsen;

const HEAD: u8 = 0x90;
const ETX: u8 = 0x03;
const OPEN: u8 = 0x05;
const OPEN_REPLY: u8 = 0x85;
const POLL: u8 = 0x02;
const POLL_REPLY: u8 = 0x82;
/// The board reports "open" bits: a set bit is an open door.
const ACTIVE_MEANS_CLOSED: bool = false;

impl Codec for Winnsen {
    fn encode(&self, target: &Target, request: &Request) -> Option<Vec<u8>> {
        let st = target.address;
        match *request {
            Request::Open { channel } => Some(vec![HEAD, 0x06, OPEN, st, channel as u8, ETX]),
            Request::OpenAll => None,
            Request::QueryOne { .. } | Request::QueryAll => {
                let mask = pack_lsb_first((0..target.channels).map(|_| true), 2);
                Some(vec![HEAD, 0x07, POLL, st, mask[0], mask[1], ETX])
            }
        }
    }

    fn expect(&self, _request: &Request) -> Expect {
        Expect::Reply
    }

    fn decode(&self, target: &Target, request: &Request, buf: &[u8]) -> Decoded {
        if let Some(skip) = resync(buf, HEAD) {
            return skip;
        }
        let (function, lock) = match *request {
            Request::Open { channel } => (OPEN_REPLY, Some(channel as u8)),
            _ => (POLL_REPLY, None),
        };
        let mut expected = vec![HEAD, 0x07, function, target.address];
        expected.extend(lock);
        let header = &buf[..buf.len().min(expected.len())];
        if header != &expected[..header.len()] {
            return Decoded::Garbage(1);
        }
        if buf.len() < 7 {
            return Decoded::NeedMore;
        }
        if buf[6] != ETX {
            return Decoded::Garbage(1);
        }
        let reply = match *request {
            Request::Open { .. } => match buf[5] {
                0x01 => Reply::OpenAck {
                    accepted: true,
                    door: None,
                },
                0x00 => Reply::OpenAck {
                    accepted: false,
                    door: None,
                },
                _ => return Decoded::Garbage(1),
            },
            Request::QueryAll => {
                Reply::Doors(target.doors(bits_lsb_first(&buf[4..6]), ACTIVE_MEANS_CLOSED))
            }
            Request::QueryOne { channel } => {
                match bits_lsb_first(&buf[4..6]).nth(usize::from(channel) - 1) {
                    Some(bit) => Reply::Door(target.door(bit, ACTIVE_MEANS_CLOSED)),
                    None => return Decoded::Garbage(7),
                }
            }
            Request::OpenAll => return Decoded::Garbage(7),
        };
        Decoded::Reply {
            reply,
            skip: 0,
            len: 7,
        }
    }

    fn parse_request(&self, buf: &[u8]) -> Parsed {
        if let Some(&first) = buf.first()
            && first != HEAD
        {
            return Parsed::Garbage(1);
        }
        if buf.len() < 2 {
            return Parsed::NeedMore;
        }
        let len = usize::from(buf[1]);
        if !(5..=16).contains(&len) {
            return Parsed::Garbage(1);
        }
        if buf.len() < len {
            return Parsed::NeedMore;
        }
        if buf[len - 1] != ETX {
            return Parsed::Garbage(1);
        }
        let station = buf[3];
        let request = match (buf[2], len) {
            (OPEN, 6) => Request::Open {
                channel: u16::from(buf[4]),
            },
            (POLL, 7) => Request::QueryAll,
            _ => return Parsed::Ignored(len),
        };
        Parsed::Request {
            address: station,
            request,
            len,
        }
    }

    fn encode_reply(
        &self,
        target: &Target,
        request: &Request,
        open: &[bool],
        pulsed: bool,
    ) -> Option<Vec<u8>> {
        let st = target.address;
        match *request {
            Request::Open { channel } => Some(vec![
                HEAD,
                0x07,
                OPEN_REPLY,
                st,
                channel as u8,
                u8::from(pulsed),
                ETX,
            ]),
            Request::OpenAll => None,
            Request::QueryOne { .. } | Request::QueryAll => {
                let mask = pack_lsb_first(raw_bits(target, open, ACTIVE_MEANS_CLOSED), 2);
                Some(vec![HEAD, 0x07, POLL_REPLY, st, mask[0], mask[1], ETX])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::target;
    use super::*;

    #[test]
    fn frames_match_the_documented_layout() {
        let t = target(1, 16);
        assert_eq!(
            Winnsen.encode(&t, &Request::Open { channel: 5 }).unwrap(),
            [0x90, 0x06, 0x05, 0x01, 0x05, 0x03]
        );
        assert_eq!(
            Winnsen.encode(&t, &Request::QueryAll).unwrap(),
            [0x90, 0x07, 0x02, 0x01, 0xFF, 0xFF, 0x03]
        );
        assert_eq!(Winnsen.encode(&t, &Request::OpenAll), None);
        assert_eq!(
            Winnsen.decode(
                &t,
                &Request::Open { channel: 5 },
                &[0x90, 0x07, 0x85, 0x01, 0x05, 0x00, 0x03]
            ),
            Decoded::Reply {
                reply: Reply::OpenAck {
                    accepted: false,
                    door: None
                },
                skip: 0,
                len: 7
            }
        );
    }

    #[test]
    fn poll_bits_mean_open_and_polarity_inverts_them() {
        let t = target(1, 16);
        let reply = [0x90, 0x07, 0x82, 0x01, 0b0000_0001, 0b1000_0000, 0x03];
        let Decoded::Reply {
            reply: Reply::Doors(doors),
            ..
        } = Winnsen.decode(&t, &Request::QueryAll, &reply)
        else {
            panic!()
        };
        assert_eq!(doors[0], Door::Open);
        assert_eq!(doors[15], Door::Open);
        assert_eq!(doors.iter().filter(|d| **d == Door::Open).count(), 2);
        let inverted = Target {
            polarity: SensorPolarity::ClosedWhenOpen,
            ..t
        };
        assert!(matches!(
            Winnsen.decode(&inverted, &Request::QueryOne { channel: 1 }, &reply),
            Decoded::Reply {
                reply: Reply::Door(Door::Closed),
                ..
            }
        ));
    }

    #[test]
    fn without_a_checksum_every_field_is_checked() {
        let t = target(1, 16);
        let open5 = Request::Open { channel: 5 };
        // Another station, another lock, a missing trailer, an unknown result.
        for bad in [
            [0x90, 0x07, 0x85, 0x02, 0x05, 0x01, 0x03],
            [0x90, 0x07, 0x85, 0x01, 0x06, 0x01, 0x03],
            [0x90, 0x07, 0x85, 0x01, 0x05, 0x01, 0x04],
            [0x90, 0x07, 0x85, 0x01, 0x05, 0x07, 0x03],
        ] {
            assert_eq!(
                Winnsen.decode(&t, &open5, &bad),
                Decoded::Garbage(1),
                "{bad:02X?}"
            );
        }
        assert_eq!(
            Winnsen.decode(&t, &open5, &[0x90, 0x07, 0x85]),
            Decoded::NeedMore
        );
        assert_eq!(
            Winnsen.decode(&t, &open5, &[0xFA, 0xFD, 0x90]),
            Decoded::Garbage(2)
        );
    }
}
