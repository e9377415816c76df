//! Kerong CU12 / CU24 / CU48 (the newer frame):
//! `02 ADDR LOCK CMD ASK DLEN 03 SUM DATA...`. The DLEN data bytes follow
//! the SUM, and SUM (low byte of the sum) covers every other byte, data
//! included. LOCK is 0-based; LOCK = channel count means "all" (`0C` on a
//! CU12). ASK in replies: `10` ok, `11` failed, `12` timeout, `13` unknown
//! command, `14` checksum error.
//!
//! - status `80` -> data = lock mask, bit 0 of the first byte = lock 1,
//!   bit set = locked (closed with the usual wiring)
//! - unlock `81` -> ASK says whether the lock was pulsed

use super::*;

pub struct KerongCu;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const STATUS: u8 = 0x80;
const UNLOCK: u8 = 0x81;
const ASK_OK: u8 = 0x10;
const ACTIVE_MEANS_CLOSED: bool = true;
const HEADER_LEN: usize = 8;

fn frame(addr: u8, lock: u8, cmd: u8, ask: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![STX, addr, lock, cmd, ask, data.len() as u8, ETX, 0];
    out.extend_from_slice(data);
    out[7] = sum(&out);
    out
}

fn lock_byte(target: &Target, request: &Request) -> u8 {
    match *request {
        Request::Open { channel } | Request::QueryOne { channel } => (channel - 1) as u8,
        Request::OpenAll => target.channels as u8,
        Request::QueryAll => 0,
    }
}

impl Codec for KerongCu {
    fn encode(&self, target: &Target, request: &Request) -> Option<Vec<u8>> {
        let cmd = match request {
            Request::Open { .. } | Request::OpenAll => UNLOCK,
            Request::QueryOne { .. } | Request::QueryAll => STATUS,
        };
        Some(frame(
            target.address,
            lock_byte(target, request),
            cmd,
            0,
            &[],
        ))
    }

    fn expect(&self, request: &Request) -> Expect {
        match request {
            Request::OpenAll => Expect::MaybeReply,
            _ => Expect::Reply,
        }
    }

    fn decode(&self, target: &Target, request: &Request, buf: &[u8]) -> Decoded {
        if let Some(skip) = resync(buf, STX) {
            return skip;
        }
        let cmd = match request {
            Request::Open { .. } | Request::OpenAll => UNLOCK,
            _ => STATUS,
        };
        let expected = [STX, target.address, lock_byte(target, request), cmd];
        let header = &buf[..buf.len().min(4)];
        if header != &expected[..header.len()] {
            return Decoded::Garbage(1);
        }
        if buf.len() < HEADER_LEN {
            return Decoded::NeedMore;
        }
        let len = HEADER_LEN + usize::from(buf[5]);
        if buf[6] != ETX || buf[5] > 8 {
            return Decoded::Garbage(1);
        }
        if buf.len() < len {
            return Decoded::NeedMore;
        }
        let mut summed = buf[..len].to_vec();
        summed[7] = 0;
        if buf[7] != sum(&summed) {
            return Decoded::Garbage(1);
        }
        let ask = buf[4];
        let data = &buf[HEADER_LEN..len];
        let reply = match *request {
            Request::Open { .. } | Request::OpenAll => Reply::OpenAck {
                accepted: ask == ASK_OK,
                door: None,
            },
            _ if ask != ASK_OK => Reply::Refused,
            Request::QueryAll if data.len() * 8 < usize::from(target.channels) => Reply::Refused,
            Request::QueryAll => {
                Reply::Doors(target.doors(bits_lsb_first(data), ACTIVE_MEANS_CLOSED))
            }
            Request::QueryOne { channel } => {
                let index = usize::from(channel) - 1;
                match bits_lsb_first(data).nth(index) {
                    Some(bit) => Reply::Door(target.door(bit, ACTIVE_MEANS_CLOSED)),
                    None => Reply::Refused,
                }
            }
        };
        Decoded::Reply {
            reply,
            skip: 0,
            len,
        }
    }

    fn parse_request(&self, buf: &[u8]) -> Parsed {
        if let Some(&first) = buf.first()
            && first != STX
        {
            return Parsed::Garbage(1);
        }
        if buf.len() < HEADER_LEN {
            return Parsed::NeedMore;
        }
        let len = HEADER_LEN + usize::from(buf[5]);
        if buf[6] != ETX {
            return Parsed::Garbage(1);
        }
        if buf.len() < len {
            return Parsed::NeedMore;
        }
        let mut summed = buf[..len].to_vec();
        summed[7] = 0;
        if buf[7] != sum(&summed) {
            return Parsed::Garbage(1);
        }
        let (address, lock) = (buf[1], u16::from(buf[2]));
        let request = match buf[3] {
            // The board always answers with its whole mask, and echoes LOCK.
            STATUS => Request::QueryOne { channel: lock + 1 },
            UNLOCK => Request::Open { channel: lock + 1 },
            _ => return Parsed::Ignored(len),
        };
        Parsed::Request {
            address,
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
        let data_len = usize::from(target.channels).div_ceil(8);
        Some(match *request {
            Request::Open { channel } if usize::from(channel) > usize::from(target.channels) => {
                // LOCK = channel count means "all".
                frame(target.address, target.channels as u8, UNLOCK, ASK_OK, &[])
            }
            Request::Open { .. } | Request::OpenAll => {
                let ask = if pulsed { ASK_OK } else { 0x11 };
                frame(target.address, lock_byte(target, request), UNLOCK, ask, &[])
            }
            Request::QueryOne { .. } | Request::QueryAll => {
                let mask = pack_lsb_first(raw_bits(target, open, ACTIVE_MEANS_CLOSED), data_len);
                frame(
                    target.address,
                    lock_byte(target, request),
                    STATUS,
                    ASK_OK,
                    &mask,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::target;
    use super::*;

    #[test]
    fn requests_and_replies_match_the_documented_bytes() {
        let t = target(0, 12);
        assert_eq!(
            KerongCu.encode(&t, &Request::QueryAll).unwrap(),
            [0x02, 0x00, 0x00, 0x80, 0x00, 0x00, 0x03, 0x85]
        );
        assert_eq!(
            KerongCu.encode(&t, &Request::Open { channel: 3 }).unwrap(),
            [0x02, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x88]
        );
        assert_eq!(
            KerongCu.encode(&t, &Request::OpenAll).unwrap(),
            [0x02, 0x00, 0x0C, 0x81, 0x00, 0x00, 0x03, 0x92]
        );
        let ok = [0x02, 0x00, 0x02, 0x81, 0x10, 0x00, 0x03, 0x98];
        assert_eq!(
            KerongCu.decode(&t, &Request::Open { channel: 3 }, &ok),
            Decoded::Reply {
                reply: Reply::OpenAck {
                    accepted: true,
                    door: None
                },
                skip: 0,
                len: 8
            }
        );
        let status = [0x02, 0x00, 0x00, 0x80, 0x10, 0x02, 0x03, 0x99, 0x02, 0x00];
        let Decoded::Reply {
            reply: Reply::Doors(doors),
            len: 10,
            ..
        } = KerongCu.decode(&t, &Request::QueryAll, &status)
        else {
            panic!()
        };
        // Only lock 2 reports locked: with the usual wiring, the rest are open.
        assert_eq!(doors.len(), 12);
        assert_eq!(doors[1], Door::Closed);
        assert_eq!(doors.iter().filter(|d| **d == Door::Closed).count(), 1);
    }

    #[test]
    fn a_failed_unlock_and_refusals() {
        let t = target(0, 12);
        let failed = frame(0, 2, UNLOCK, 0x11, &[]);
        assert!(matches!(
            KerongCu.decode(&t, &Request::Open { channel: 3 }, &failed),
            Decoded::Reply {
                reply: Reply::OpenAck {
                    accepted: false,
                    ..
                },
                ..
            }
        ));
        let checksum_error = frame(0, 0, STATUS, 0x14, &[]);
        assert!(matches!(
            KerongCu.decode(&t, &Request::QueryAll, &checksum_error),
            Decoded::Reply {
                reply: Reply::Refused,
                ..
            }
        ));
    }

    #[test]
    fn cu24_sends_three_mask_bytes() {
        let t = target(2, 24);
        let mut open = vec![false; 24];
        open[20] = true;
        let reply = KerongCu
            .encode_reply(&t, &Request::QueryAll, &open, true)
            .unwrap();
        assert_eq!(reply[5], 3);
        let Decoded::Reply {
            reply: Reply::Doors(doors),
            ..
        } = KerongCu.decode(&t, &Request::QueryAll, &reply)
        else {
            panic!()
        };
        assert_eq!(doors[20], Door::Open);
    }

    #[test]
    fn truncated_foreign_and_misaddressed_frames() {
        let t = target(0, 12);
        let status = [0x02, 0x00, 0x00, 0x80, 0x10, 0x02, 0x03, 0x99, 0x02, 0x00];
        assert_eq!(
            KerongCu.decode(&t, &Request::QueryAll, &status[..9]),
            Decoded::NeedMore
        );
        let other = target(1, 12);
        assert_eq!(
            KerongCu.decode(&other, &Request::QueryAll, &status),
            Decoded::Garbage(1)
        );
        // An 8a frame on a Kerong bus.
        assert_eq!(
            KerongCu.decode(&t, &Request::QueryAll, &[0x80, 0x01, 0x00, 0x33, 0xB2]),
            Decoded::Garbage(5)
        );
        // The reply to unlocking lock 3 is not the reply to unlocking lock 4.
        let ok3 = [0x02, 0x00, 0x02, 0x81, 0x10, 0x00, 0x03, 0x98];
        assert_eq!(
            KerongCu.decode(&t, &Request::Open { channel: 4 }, &ok3),
            Decoded::Garbage(1)
        );
    }
}
