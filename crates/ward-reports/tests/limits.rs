//! Bombs and limits: every container and parser limit is hit by a hostile
//! input built here, and each must give its own `LimitExceeded` quickly.

use std::io::Write;
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use ward_reports::unpack::unpack_all;
use ward_reports::{LimitKind, Limits, Reason};

const GIB: u64 = 1024 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

/// Raw deflate of `data`, ended by a full flush so that the bytes can be
/// repeated: each copy is a self-contained run of blocks.
fn deflate_chunk(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 500 + 4096);
    let mut flush = FlushCompress::None;
    loop {
        let consumed = usize::try_from(c.total_in()).expect("usize");
        out.reserve(64 * 1024);
        c.compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate");
        if c.total_in() as usize == data.len() {
            if flush == FlushCompress::Full && out.len() < out.capacity() {
                break;
            }
            flush = FlushCompress::Full;
        }
    }
    out
}

/// A raw deflate stream that inflates to `prefix` then `total` bytes of the
/// repeating `pattern`, built from one compressed chunk repeated.
fn deflate_bomb(prefix: &[u8], pattern: &[u8], total: u64) -> Vec<u8> {
    let mut chunk_data = Vec::with_capacity(CHUNK + pattern.len());
    while chunk_data.len() < CHUNK {
        chunk_data.extend_from_slice(pattern);
    }
    let chunk = deflate_chunk(&chunk_data);
    let copies = total / chunk_data.len() as u64;
    let mut out = deflate_chunk(prefix);
    for _ in 0..copies {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&[0x03, 0x00]); // final empty block
    out
}

fn gzip_wrap(deflate: &[u8], claimed: u64) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(deflate);
    out.extend_from_slice(&0u32.to_le_bytes()); // CRC32, never reached
    out.extend_from_slice(&(claimed as u32).to_le_bytes()); // ISIZE mod 2^32
    out
}

/// One-member zip (method 8) whose headers claim `claimed` uncompressed bytes.
fn zip_wrap(name: &str, deflate: &[u8], claimed: u32) -> Vec<u8> {
    let n = name.as_bytes();
    let csize = u32::try_from(deflate.len()).expect("small");
    let mut local = Vec::new();
    local.extend_from_slice(b"PK\x03\x04");
    local.extend_from_slice(&20u16.to_le_bytes()); // version needed
    local.extend_from_slice(&0u16.to_le_bytes()); // flags
    local.extend_from_slice(&8u16.to_le_bytes()); // deflate
    local.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
    local.extend_from_slice(&0u32.to_le_bytes()); // crc
    local.extend_from_slice(&csize.to_le_bytes());
    local.extend_from_slice(&claimed.to_le_bytes());
    local.extend_from_slice(&(n.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(n);
    local.extend_from_slice(deflate);
    let cd_offset = u32::try_from(local.len()).expect("small");
    let mut cd = Vec::new();
    cd.extend_from_slice(b"PK\x01\x02");
    cd.extend_from_slice(&20u16.to_le_bytes());
    cd.extend_from_slice(&20u16.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&8u16.to_le_bytes());
    cd.extend_from_slice(&[0, 0, 0x21, 0]);
    cd.extend_from_slice(&0u32.to_le_bytes());
    cd.extend_from_slice(&csize.to_le_bytes());
    cd.extend_from_slice(&claimed.to_le_bytes());
    cd.extend_from_slice(&(n.len() as u16).to_le_bytes());
    cd.extend_from_slice(&[0; 12]); // extra, comment, disk, int attr
    cd.extend_from_slice(&0u32.to_le_bytes()); // ext attr
    cd.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    cd.extend_from_slice(n);
    let mut out = local;
    let cd_len = u32::try_from(cd.len()).expect("small");
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// XML that keeps the parser busy with small events: memory stays flat, so
/// only the decompression cap can stop it.
const PREFIX: &[u8] = b"<?xml version=\"1.0\"?><feedback>";
const PATTERN: &[u8] = b"<pad>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</pad>";

fn only_error(got: &[Result<ward_reports::Unpacked, ward_reports::Error>]) -> &Reason {
    assert_eq!(got.len(), 1, "{got:?}");
    match &got[0] {
        Err(e) => &e.reason,
        Ok(u) => panic!("bomb parsed: {}", u.source),
    }
}

/// Generous for an unoptimised build on a shared 2-core machine; an
/// unbounded reader would run for minutes and use gigabytes.
const QUICK: Duration = Duration::from_secs(60);

/// Peak resident memory of this test process, where Linux tells it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The size cap is lowered to 16 MB here so that an unoptimised test build
/// stays fast; the mechanism is the same at the 100 MB default.
#[test]
fn gzip_bomb_of_10_gib_stops_at_the_decompressed_size_cap() {
    let bomb = gzip_wrap(&deflate_bomb(PREFIX, PATTERN, 10 * GIB), 10 * GIB);
    let limits = Limits {
        max_decompressed_bytes: 16_000_000,
        ..Limits::default()
    };
    let t = Instant::now();
    let got = unpack_all("bomb.xml.gz", &bomb, &limits);
    let took = t.elapsed();
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::DecompressedBytes,
            limit: 16_000_000
        }
    );
    println!(
        "gzip bomb: {} compressed bytes (10 GiB inflated) refused in {took:?}",
        bomb.len()
    );
    assert!(took < QUICK, "took {took:?}");
    if let Some(peak) = peak_rss_bytes() {
        // The bomb itself is ~42 MB; inflating it fully would need 10 GiB.
        assert!(peak < 512 * 1024 * 1024, "peak RSS {peak} bytes");
    }
}

#[test]
fn gzip_bomb_trips_the_ratio_cap_when_that_is_lower() {
    let bomb = gzip_wrap(&deflate_bomb(PREFIX, PATTERN, GIB), GIB);
    let limits = Limits {
        max_compression_ratio: 10,
        ..Limits::default()
    };
    let got = unpack_all("bomb.xml.gz", &bomb, &limits);
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::CompressionRatio,
            limit: 10
        }
    );
}

#[test]
fn zip_bomb_that_claims_4_gb_is_refused_before_inflating() {
    let bomb = zip_wrap(
        "bomb.xml",
        &deflate_bomb(PREFIX, PATTERN, 64 * 1024 * 1024),
        4_000_000_000,
    );
    let t = Instant::now();
    let got = unpack_all("bomb.zip", &bomb, &Limits::default());
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::DecompressedBytes,
            limit: Limits::DEFAULT_MAX_DECOMPRESSED_BYTES
        }
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn zip_bomb_that_lies_about_its_size_is_stopped_at_the_declared_size() {
    // Claims 1 kB; really 10 GiB. The zip reader itself refuses to read past
    // the declared size, so this stops after about a kilobyte.
    let bomb = zip_wrap("bomb.xml", &deflate_bomb(PREFIX, PATTERN, 10 * GIB), 1000);
    let t = Instant::now();
    let got = unpack_all("bomb.zip", &bomb, &Limits::default());
    assert!(
        matches!(only_error(&got), Reason::Decompress { .. }),
        "{got:?}"
    );
    assert!(t.elapsed() < QUICK, "took {:?}", t.elapsed());
}

#[test]
fn zip_member_over_the_ratio_cap_stops_while_streaming() {
    // Honest size (64 MiB, under the size cap) but a ratio far above 10.
    let size = 64 * 1024 * 1024;
    let deflate = deflate_bomb(PREFIX, PATTERN, size);
    let claimed = u32::try_from(size + PREFIX.len() as u64).expect("fits");
    let bomb = zip_wrap("bomb.xml", &deflate, claimed);
    let limits = Limits {
        max_compression_ratio: 10,
        ..Limits::default()
    };
    let got = unpack_all("bomb.zip", &bomb, &limits);
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::CompressionRatio,
            limit: 10
        }
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

const TINY: &[u8] = br#"<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>
<date_range><begin>1</begin><end>2</end></date_range></report_metadata>
<policy_published><domain>example.com</domain></policy_published></feedback>"#;

#[test]
fn nested_gzip_stops_at_the_nesting_cap() {
    let limits = Limits::default();
    let mut data = TINY.to_vec();
    for _ in 0..limits.max_nesting {
        data = gzip(&data);
    }
    // Exactly at the cap: parses.
    let got = unpack_all("ok.gz", &data, &limits);
    assert!(matches!(got.as_slice(), [Ok(_)]), "{got:?}");
    // One more layer: refused.
    let data = gzip(&data);
    let got = unpack_all("deep.gz", &data, &limits);
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::Nesting,
            limit: u64::from(limits.max_nesting)
        }
    );
}

#[test]
fn deep_xml_stops_at_the_depth_cap() {
    let mut xml = b"<feedback>".to_vec();
    for _ in 0..100 {
        xml.extend_from_slice(b"<a>");
    }
    let got = unpack_all("deep.xml", &xml, &Limits::default());
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::XmlDepth,
            limit: u64::from(Limits::DEFAULT_MAX_XML_DEPTH)
        }
    );
}

#[test]
fn huge_element_text_stops_at_the_text_cap() {
    let mut xml = b"<feedback><report_metadata><org_name>".to_vec();
    xml.resize(xml.len() + 2 * 1024 * 1024, b'a');
    let got = unpack_all("long.xml", &gzip(&xml), &Limits::default());
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::TextBytes,
            limit: Limits::DEFAULT_MAX_TEXT_BYTES
        }
    );
}

#[test]
fn zip_with_too_many_members_is_refused() {
    let limits = Limits {
        max_zip_members: 0,
        ..Limits::default()
    };
    let z = zip_wrap("a.xml", &deflate_chunk(TINY), TINY.len() as u32);
    let got = unpack_all("many.zip", &z, &limits);
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::ZipMembers,
            limit: 0
        }
    );
}

#[test]
fn input_larger_than_the_input_cap_is_refused_unread() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    let got = unpack_all("big.xml", TINY, &limits);
    assert_eq!(
        only_error(&got),
        &Reason::LimitExceeded {
            kind: LimitKind::InputBytes,
            limit: 10
        }
    );
}

#[test]
fn limits_defaults_are_the_documented_constants() {
    let l = Limits::default();
    assert_eq!(l.max_decompressed_bytes, 100_000_000);
    assert_eq!(l.max_compression_ratio, 1000);
    assert_eq!(l.max_zip_members, 16);
    assert_eq!(l.max_nesting, 6);
    assert_eq!(l.max_xml_depth, 32);
    assert_eq!(l.max_text_bytes, 1024 * 1024);
    assert_eq!(l.max_input_bytes, 256_000_000);
}
