//! The first-flight reader on byte transcripts: no sockets. Every hostile shape ends in a
//! specific error (or a request for more bytes), never a panic.

use proptest::prelude::*;
use ward_model::tls::{AlertDescription, NamedGroup, ProtocolVersion};
use ward_probe::tls::codec::DecodeError;
use ward_probe::tls::kx_kind;
use ward_probe::tls::reply::{
    Flight, FlightError, FlightReader, HRR_RANDOM, KeyExchange, MAX_FLIGHT, MAX_MESSAGE,
    MAX_RECORD, Reply, ServerHello, Want,
};

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![kind];
    h.extend_from_slice(&u24(body.len()));
    h.extend_from_slice(body);
    h
}

fn server_hello(version: u16, random: [u8; 32], suite: u16, exts: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&random);
    b.push(0); // empty session id
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    if !exts.is_empty() {
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
    }
    handshake(2, &b)
}

fn certificate(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&u24(c.len()));
        list.extend_from_slice(c);
    }
    let mut b = u24(list.len()).to_vec();
    b.extend_from_slice(&list);
    handshake(11, &b)
}

/// A TLS 1.2 ECDHE flight: ServerHello, Certificate, ServerKeyExchange (x25519),
/// ServerHelloDone, all in one record.
fn tls12_flight() -> Vec<u8> {
    let mut hs = server_hello(0x0303, [7; 32], 0xc02f, &[]);
    hs.extend(certificate(&[b"leaf-der", b"ca-der"]));
    let mut ske = vec![3, 0x00, 0x1d, 32];
    ske.extend_from_slice(&[9; 32]);
    ske.extend_from_slice(&[0x04, 0x01, 0x00, 0x02, 0xaa, 0xbb]); // signature
    hs.extend(handshake(12, &ske));
    hs.extend(handshake(14, &[]));
    record(22, &hs)
}

fn read_all(want: Want, bytes: &[u8]) -> Result<Option<Reply>, FlightError> {
    let mut r = FlightReader::new(want, kx_kind);
    r.feed(bytes)
}

fn expected_tls12() -> Reply {
    Reply::Hello(Flight {
        hello: ServerHello {
            version: ProtocolVersion::TLS12,
            suite: 0xc02f,
            retry_request: false,
            group: None,
        },
        certs: vec![b"leaf-der".to_vec(), b"ca-der".to_vec()],
        kx: Some(KeyExchange::Group(NamedGroup::X25519)),
        partial: false,
        ocsp: None,
    })
}

#[test]
fn whole_tls12_flight() {
    assert_eq!(
        read_all(Want::FirstFlight, &tls12_flight()),
        Ok(Some(expected_tls12()))
    );
}

#[test]
fn tls12_flight_one_byte_at_a_time() {
    let bytes = tls12_flight();
    let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
    let mut got = None;
    for (i, b) in bytes.iter().enumerate() {
        match r.feed(std::slice::from_ref(b)) {
            Ok(Some(reply)) => {
                assert_eq!(i, bytes.len() - 1, "finished early");
                got = Some(reply);
            }
            Ok(None) => {}
            Err(e) => panic!("byte {i}: {e}"),
        }
    }
    assert_eq!(got, Some(expected_tls12()));
}

#[test]
fn flight_spread_over_records_with_messages_split_across_them() {
    let one = tls12_flight();
    let hs = &one[5..];
    let mut bytes = record(22, &hs[..10]);
    bytes.extend(record(22, &hs[10..50]));
    bytes.extend(record(22, &hs[50..]));
    assert_eq!(
        read_all(Want::FirstFlight, &bytes),
        Ok(Some(expected_tls12()))
    );
}

#[test]
fn server_hello_only_stops_early() {
    let Ok(Some(Reply::Hello(f))) = read_all(Want::ServerHello, &tls12_flight()) else {
        panic!("no hello")
    };
    assert_eq!(f.certs, Vec::<Vec<u8>>::new());
    assert_eq!(f.hello.suite, 0xc02f);
}

#[test]
fn alert_before_hello() {
    assert_eq!(
        read_all(Want::FirstFlight, &record(21, &[2, 70])),
        Ok(Some(Reply::Alert {
            level: 2,
            description: AlertDescription::PROTOCOL_VERSION
        }))
    );
}

#[test]
fn truncated_alert_is_a_decode_error() {
    assert_eq!(
        read_all(Want::FirstFlight, &record(21, &[2])),
        Err(FlightError::Decode(DecodeError::Truncated {
            what: "alert description",
            at: 6,
            needed: 1,
            have: 0
        }))
    );
}

#[test]
fn hello_retry_request_names_the_group() {
    // supported_versions = TLS 1.3, key_share = secp384r1 (no key in an HRR).
    let exts = [0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 0x18];
    let bytes = record(22, &server_hello(0x0303, HRR_RANDOM, 0x1302, &exts));
    assert_eq!(
        read_all(Want::FirstFlight, &bytes),
        Ok(Some(Reply::Hello(Flight {
            hello: ServerHello {
                version: ProtocolVersion::TLS13,
                suite: 0x1302,
                retry_request: true,
                group: Some(NamedGroup::SECP384R1),
            },
            certs: vec![],
            kx: None,
            partial: false,
            ocsp: None,
        })))
    );
}

#[test]
fn unknown_suite_and_extension_are_kept_not_refused() {
    let exts = [0xfe, 0xed, 0, 3, 1, 2, 3];
    let bytes = record(22, &server_hello(0x0303, [1; 32], 0xabcd, &exts));
    let Ok(Some(Reply::Hello(f))) = read_all(Want::ServerHello, &bytes) else {
        panic!("no hello")
    };
    assert_eq!(f.hello.suite, 0xabcd);
}

#[test]
fn lying_session_id_length() {
    let mut body = 0x0303u16.to_be_bytes().to_vec();
    body.extend_from_slice(&[0; 32]);
    body.push(40); // session id longer than 32, and longer than what follows
    body.extend_from_slice(&[0; 40]);
    body.extend_from_slice(&[0xc0, 0x2f, 0]);
    let bytes = record(22, &handshake(2, &body));
    assert_eq!(
        read_all(Want::ServerHello, &bytes),
        Err(FlightError::Decode(DecodeError::TooLarge {
            what: "session_id",
            at: 38,
            declared: 40,
            limit: 32
        }))
    );
}

#[test]
fn extensions_length_beyond_the_message() {
    let mut hs = server_hello(0x0303, [0; 32], 0xc02f, &[0, 23, 0, 0]);
    // Claim 0x100 bytes of extensions where there are 4.
    let at = hs.len() - 6;
    hs[at] = 1;
    hs[at + 1] = 0;
    assert_eq!(
        read_all(Want::ServerHello, &record(22, &hs)),
        Err(FlightError::Decode(DecodeError::Truncated {
            what: "extensions",
            at: 4 + 2 + 32 + 1 + 2 + 1 + 2,
            needed: 256,
            have: 4
        }))
    );
}

#[test]
fn huge_record_length_is_refused_before_buffering() {
    assert_eq!(
        read_all(Want::FirstFlight, &[22, 3, 3, 0xff, 0xff]),
        Err(FlightError::Decode(DecodeError::TooLarge {
            what: "record",
            at: 3,
            declared: 0xffff,
            limit: MAX_RECORD
        }))
    );
}

#[test]
fn huge_handshake_length_is_refused() {
    let bytes = record(22, &[11, 0xff, 0xff, 0xff, 0, 0]);
    assert_eq!(
        read_all(Want::FirstFlight, &bytes),
        Err(FlightError::Decode(DecodeError::TooLarge {
            what: "handshake message",
            at: 1,
            declared: 0xff_ffff,
            limit: MAX_MESSAGE
        }))
    );
}

#[test]
fn ten_megabyte_chain_stops_at_the_flight_limit() {
    let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
    assert_eq!(
        r.feed(&record(22, &server_hello(0x0303, [0; 32], 0x002f, &[]))),
        Ok(None)
    );
    // A Certificate message that claims (within the message limit) to keep going,
    // delivered in full records.
    let chunk = record(22, &[0u8; 16384]);
    let mut result = Ok(None);
    let mut fed = 0usize;
    while fed < 10 * 1024 * 1024 {
        result = r.feed(&chunk);
        fed += chunk.len();
        if result != Ok(None) {
            break;
        }
    }
    // Zero bytes make a handshake message of type 0 with length 0: unexpected, which
    // ends the read long before the limit. Either way it stops, well under 10 MB.
    assert!(fed <= MAX_FLIGHT + chunk.len(), "read {fed} bytes");
    assert_eq!(
        result,
        Err(FlightError::Unexpected {
            expected: "Certificate",
            got: 0,
            handshake: true
        })
    );
}

#[test]
fn certificate_list_length_is_checked_against_the_limit() {
    let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
    let mut hs = server_hello(0x0303, [0; 32], 0x002f, &[]);
    // A Certificate message of 120 KiB whose list claims 0x414141 bytes.
    hs.extend_from_slice(&[11]);
    hs.extend_from_slice(&u24(120 * 1024));
    assert_eq!(r.feed(&record(22, &hs)), Ok(None));
    let chunk = record(22, &[0x41; 16384]);
    let mut fed = 0usize;
    let result = loop {
        let res = r.feed(&chunk);
        fed += chunk.len();
        if res != Ok(None) {
            break res;
        }
        assert!(fed < 1 << 20, "no limit after {fed} bytes");
    };
    assert_eq!(
        result,
        Err(FlightError::Decode(DecodeError::TooLarge {
            what: "certificate_list",
            at: 42 + 4,
            declared: 0x41_4141,
            limit: MAX_MESSAGE
        }))
    );
}

#[test]
fn endless_change_cipher_specs_hit_the_flight_limit() {
    let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
    let hello = record(22, &server_hello(0x0303, [0; 32], 0x002f, &[]));
    assert_eq!(r.feed(&hello), Ok(None));
    let ccs = record(20, &[1; 1000]);
    let mut fed = hello.len();
    let result = loop {
        let res = r.feed(&ccs);
        fed += ccs.len();
        if res != Ok(None) {
            break res;
        }
    };
    assert_eq!(result, Err(FlightError::FlightTooLarge { received: fed }));
    assert!(fed > MAX_FLIGHT && fed <= MAX_FLIGHT + ccs.len());
}

#[test]
fn message_before_server_hello_is_unexpected() {
    let bytes = record(22, &certificate(&[b"x"]));
    assert_eq!(
        read_all(Want::FirstFlight, &bytes),
        Err(FlightError::Unexpected {
            expected: "ServerHello",
            got: 11,
            handshake: true
        })
    );
}

#[test]
fn sslv2_style_reply_is_unexpected() {
    assert_eq!(
        read_all(Want::FirstFlight, &[0x80, 0x2e, 0x04, 0x00, 0x01, 0x00]),
        Err(FlightError::Unexpected {
            expected: "a TLS record",
            got: 0x80,
            handshake: false
        })
    );
}

#[test]
fn stream_ending_after_server_hello_still_proves_support() {
    let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
    let full = tls12_flight();
    // Everything up to the middle of the Certificate message.
    let cut = 5 + 4 + 38 + 10;
    assert_eq!(r.feed(&full[..cut]), Ok(None));
    assert_eq!(
        r.end(),
        Some(Reply::Hello(Flight {
            hello: ServerHello {
                version: ProtocolVersion::TLS12,
                suite: 0xc02f,
                retry_request: false,
                group: None,
            },
            certs: vec![],
            kx: None,
            partial: true,
            ocsp: None,
        }))
    );
}

#[test]
fn every_truncation_asks_for_more_and_never_errs() {
    let full = tls12_flight();
    for cut in 0..full.len() {
        let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
        assert_eq!(r.feed(&full[..cut]), Ok(None), "cut at {cut}");
        // Before the ServerHello is whole there is no answer at all.
        if cut < 5 + 4 + 38 {
            assert_eq!(r.end(), None, "cut at {cut}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        split in 1usize..64,
    ) {
        for want in [Want::ServerHello, Want::FirstFlight] {
            let mut r = FlightReader::new(want, kx_kind);
            for chunk in bytes.chunks(split) {
                if r.feed(chunk) != Ok(None) {
                    break;
                }
            }
            let _ = r.end();
        }
    }

    #[test]
    fn mutated_flights_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = tls12_flight();
        let n = bytes.len();
        for (at, v) in flips {
            bytes[at % n] = v;
        }
        let mut r = FlightReader::new(Want::FirstFlight, kx_kind);
        let _ = r.feed(&bytes);
        let _ = r.end();
    }

    #[test]
    fn server_hello_suite_round_trips(suite in any::<u16>(), version in 0x0300u16..0x0304) {
        let bytes = record(22, &server_hello(version, [3; 32], suite, &[]));
        let Ok(Some(Reply::Hello(f))) = read_all(Want::ServerHello, &bytes) else {
            panic!("no hello");
        };
        prop_assert_eq!(f.hello.suite, suite);
        prop_assert_eq!(f.hello.version, ProtocolVersion(version));
    }
}

#[test]
fn certificate_status_is_kept_and_checked() {
    let flight = |status: &[u8]| {
        let mut hs = server_hello(0x0303, [7; 32], 0xc02f, &[]);
        hs.extend(certificate(&[b"leaf-der"]));
        hs.extend(handshake(22, status));
        hs.extend(handshake(14, &[]));
        record(22, &hs)
    };
    // status_type ocsp, a 3-byte "response".
    let got = read_all(Want::FirstFlight, &flight(&[1, 0, 0, 3, 0x30, 0x01, 0x00]));
    let Ok(Some(Reply::Hello(f))) = got else {
        panic!("{got:?}");
    };
    assert_eq!(f.ocsp, Some(vec![0x30, 0x01, 0x00]));
    assert_eq!(f.certs, vec![b"leaf-der".to_vec()]);
    // An unknown status_type is refused where it stands.
    assert!(matches!(
        read_all(Want::FirstFlight, &flight(&[2, 0, 0, 0])),
        Err(FlightError::Decode(DecodeError::Invalid {
            what: "status_type",
            value: 2,
            ..
        }))
    ));
    // A response longer than the message is truncated, not over-read.
    assert!(matches!(
        read_all(Want::FirstFlight, &flight(&[1, 0, 0, 9, 0x30])),
        Err(FlightError::Decode(DecodeError::Truncated { .. }))
    ));
}
