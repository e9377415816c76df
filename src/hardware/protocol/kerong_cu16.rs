//! Kerong's legacy CU frames (KR-CU16, old CU12): `02 ADDR CMD 03 SUM`,
//! SUM the low byte of the sum of the preceding bytes; the board number in
//! ADDR's high nibble, the lock (0-based) in its low nibble.
//!
//! - status `30` -> `02 ADDR 35 H1 H2 I1 I2 03 SUM` (H1/H2: bit set = locked)
//! - unlock `31`, unlock all `33`: no documented reply; the bus reads the
//!   status afterwards to see what happened.

use super::*;

pub struct KerongCu16;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const STATUS: u8 = 0x30;
const UNLOCK: u8 = 0x31;
const STATUS_ALL_BOARDS: u8 = 0x32;
const UNLOCK_ALL: u8 = 0x33;
const STATUS_REPLY: u8 = 0x35;
const SET_TIME: u8 = 0x37;
const DELAYED_UNLOCK: u8 = 0x39;
const ACTIVE_MEANS_CLOSED: bool = true;
const REPLY_LEN: usize = 9;

fn frame(addr: u8, cmd: u8) -> Vec<u8> {
    let head = [STX, addr, cmd, ETX];
    let mut out = head.to_vec();
    out.push(sum(&head));
    out
}

impl Codec for KerongCu16 {
    fn encode(&self, target: &Target, request: &Request) -> Option<Vec<u8>> {
        let board = target.address << 4;
        Some(match *request {
            Request::Open { channel } => frame(board | ((channel - 1) as u8 & 0x0F), UNLOCK),
            Request::OpenAll => frame(board, UNLOCK_ALL),
            Request::QueryOne { .. } | Request::QueryAll => frame(board, STATUS),
        })
    }

    fn expect(&self, request: &Request) -> Expect {
        match request {
            Request::Open { .. } | Request::OpenAll => Expect::NoReply,
            _ => Expect::Reply,
        }
    }

    fn decode(&self, target: &Target, request: &Request, buf: &[u8]) -> Decoded {
        if let Some(skip) = resync(buf, STX) {
            return skip;
        }
        if buf.len() >= 2 && buf[1] >> 4 != target.address {
            return Decoded::Garbage(1);
        }
        if buf.len() >= 3 && buf[2] != STATUS_REPLY {
            return Decoded::Garbage(1);
        }
        if buf.len() < REPLY_LEN {
            return Decoded::NeedMore;
        }
        if buf[7] != ETX || buf[8] != sum(&buf[..8]) {
            return Decoded::Garbage(1);
        }
        let doors = target.doors(bits_lsb_first(&buf[3..5]), ACTIVE_MEANS_CLOSED);
        let reply = match *request {
            Request::QueryOne { channel } => match doors.get(usize::from(channel) - 1) {
                Some(door) => Reply::Door(*door),
                None => return Decoded::Garbage(REPLY_LEN),
            },
            Request::QueryAll => Reply::Doors(doors),
            // Opens have no reply: a status frame here is not one.
            Request::Open { .. } | Request::OpenAll => return Decoded::Garbage(REPLY_LEN),
        };
        Decoded::Reply {
            reply,
            skip: 0,
            len: REPLY_LEN,
        }
    }

    fn parse_request(&self, buf: &[u8]) -> Parsed {
        if let Some(&first) = buf.first()
            && first != STX
        {
            return Parsed::Garbage(1);
        }
        if buf.len() < 5 {
            return Parsed::NeedMore;
        }
        if buf[3] != ETX || buf[4] != sum(&buf[..4]) {
            return Parsed::Garbage(1);
        }
        let (address, lock) = (buf[1] >> 4, u16::from(buf[1] & 0x0F));
        let request = match buf[2] {
            STATUS => Request::QueryAll,
            UNLOCK => Request::Open { channel: lock + 1 },
            UNLOCK_ALL => Request::OpenAll,
            STATUS_ALL_BOARDS | SET_TIME | DELAYED_UNLOCK => return Parsed::Ignored(5),
            _ => return Parsed::Garbage(1),
        };
        Parsed::Request {
            address,
            request,
            len: 5,
        }
    }

    fn encode_reply(
        &self,
        target: &Target,
        request: &Request,
        open: &[bool],
        _pulsed: bool,
    ) -> Option<Vec<u8>> {
        match request {
            Request::Open { .. } | Request::OpenAll => None,
            Request::QueryOne { .. } | Request::QueryAll => {
                let locks = pack_lsb_first(raw_bits(target, open, ACTIVE_MEANS_CLOSED), 2);
                // Infrared "occupied" bits: this board has no IR sensors.
                let mut bytes = vec![
                    STX,
                    target.address << 4,
                    STATUS_REPLY,
                    locks[0],
                    locks[1],
                    0,
                    0,
                    ETX,
                ];
                bytes.push(sum(&bytes));
                Some(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::target;
    use super::*;

    #[test]
    fn requests_match_the_documented_bytes() {
        let t = target(0, 16);
        let enc = |r| KerongCu16.encode(&t, &r).unwrap();
        assert_eq!(enc(Request::QueryAll), [0x02, 0x00, 0x30, 0x03, 0x35]);
        assert_eq!(
            enc(Request::Open { channel: 1 }),
            [0x02, 0x00, 0x31, 0x03, 0x36]
        );
        assert_eq!(
            enc(Request::Open { channel: 16 }),
            [0x02, 0x0F, 0x31, 0x03, 0x45]
        );
        assert_eq!(enc(Request::OpenAll), [0x02, 0x00, 0x33, 0x03, 0x38]);
        assert_eq!(
            KerongCu16.expect(&Request::Open { channel: 1 }),
            Expect::NoReply
        );
    }

    #[test]
    fn status_replies_under_both_polarities() {
        // Locks 1-8 all locked except lock 3; locks 9-16 all locked.
        let mut bytes = vec![0x02, 0x00, 0x35, 0b1111_1011, 0xFF, 0x00, 0x00, 0x03];
        bytes.push(sum(&bytes));
        let t = target(0, 16);
        let Decoded::Reply {
            reply: Reply::Doors(doors),
            len: 9,
            ..
        } = KerongCu16.decode(&t, &Request::QueryAll, &bytes)
        else {
            panic!()
        };
        assert_eq!(doors.iter().filter(|d| **d == Door::Open).count(), 1);
        assert_eq!(doors[2], Door::Open);
        let inverted = Target {
            polarity: SensorPolarity::ClosedWhenOpen,
            ..t
        };
        assert_eq!(
            KerongCu16.decode(&inverted, &Request::QueryOne { channel: 3 }, &bytes),
            Decoded::Reply {
                reply: Reply::Door(Door::Closed),
                skip: 0,
                len: 9
            }
        );
    }

    #[test]
    fn bad_frames_are_refused() {
        let t = target(0, 16);
        let good = KerongCu16
            .encode_reply(&t, &Request::QueryAll, &[false; 16], true)
            .unwrap();
        let mut bad_sum = good.clone();
        bad_sum[8] ^= 1;
        assert_eq!(
            KerongCu16.decode(&t, &Request::QueryAll, &bad_sum),
            Decoded::Garbage(1)
        );
        assert_eq!(
            KerongCu16.decode(&t, &Request::QueryAll, &good[..6]),
            Decoded::NeedMore
        );
        let other_board = KerongCu16
            .encode_reply(&target(1, 16), &Request::QueryAll, &[false; 16], true)
            .unwrap();
        assert_eq!(
            KerongCu16.decode(&t, &Request::QueryAll, &other_board),
            Decoded::Garbage(1)
        );
        let mut stray = vec![0xFA, 0xFD];
        stray.extend(&good);
        assert_eq!(
            KerongCu16.decode(&t, &Request::QueryAll, &stray),
            Decoded::Garbage(2)
        );
    }
}
