//! Files, folders, mbox files and Maildirs: listed as units of work, then read within
//! the limits, each report or refusal sent on as it is found.

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::channel::{Item, Part, Sender, Unit, io_refusal, item};
use crate::aggregate::{Chunk, parse_aggregate_chunked};
use crate::read::Counting;
use crate::unpack::{Format, WHOLE_UP_TO, detect};
use crate::{Error as ReportError, LimitKind, Limits, Reason, ReportKey, rows};

/// Asks the store whether the report with this key came whole from a file with this
/// digest (then the file is not read again).
pub(crate) type Known<'a> = &'a (dyn Fn(&ReportKey, &str) -> bool + Sync);

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Bytes under `path` (regular files, recursively), for the progress bar. Symbolic
/// links to folders are followed only when named on the command line.
pub(crate) fn size_of(path: &Path, top: bool) -> u64 {
    let meta = if top {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    match meta {
        Ok(m) if m.is_file() => m.len(),
        Ok(m) if m.is_dir() => match fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| size_of(&e.path(), false))
                .sum(),
            Err(_) => 0,
        },
        Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
            Ok(t) if t.is_file() => t.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// Adds the units of one source to `out`: itself if it is a file, itself if it is a
/// Maildir, else the units of its entries in name order. Symbolic links to folders are
/// followed only when named on the command line (`top`), so there are no loops.
pub(crate) fn plan(path: &Path, top: bool, out: &mut Vec<Unit>) {
    let meta = if top {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(m) if m.file_type().is_symlink() => match fs::metadata(path) {
            // Inside a folder, follow links to files but not to folders (no loops).
            Ok(t) if t.is_file() => t,
            Ok(_) => return,
            Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
        },
        Ok(m) => m,
        Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
    };
    if meta.is_dir() {
        if is_maildir(path) {
            return out.push(Unit::Maildir(path.to_path_buf()));
        }
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(e) => e.filter_map(Result::ok).map(|e| e.path()).collect(),
            Err(e) => return out.push(Unit::Unreadable(path.to_path_buf(), e)),
        };
        entries.sort();
        for p in &entries {
            plan(p, false, out);
        }
    } else if meta.is_file() {
        out.push(Unit::File(path.to_path_buf()));
    }
}

/// Reads a Maildir, sending what it finds. Returns false once the receiver is gone.
pub(crate) fn walk_maildir(path: &Path, limits: &Limits, tx: &Sender) -> bool {
    let alive = Cell::new(true);
    let mut sink = |r| {
        if alive.get() {
            alive.set(tx.send(item(r)));
        }
    };
    let mut chunks = chunk_sink(tx, &alive, None);
    crate::unpack::walk_maildir_chunked(path, limits, &mut sink, Some(&mut chunks));
    alive.get() && tx.send(Item::Done(size_of(path, true)))
}

/// Where a large aggregate report's parts go: encoded here, on the parsing thread, and
/// sent on as [`Item::Part`]s. `file_digest` marks a report that is the whole of a file.
fn chunk_sink<'a>(
    tx: &'a Sender,
    alive: &'a Cell<bool>,
    file_digest: Option<String>,
) -> impl FnMut(&str, Option<Chunk<'_>>) -> bool + 'a {
    move |source, chunk| {
        if !alive.get() {
            return false;
        }
        let with_digest = |mut r: ward_model::report_rows::ReportRows| {
            r.file_digest.clone_from(&file_digest);
            Box::new(r)
        };
        let part = match chunk {
            Some(Chunk::Start(r)) => {
                rows::encode_start(source, r).map(|r| Part::Start(with_digest(r)))
            }
            Some(Chunk::More { records, first }) => {
                rows::encode_more(source, records, first).map(|r| Part::More(Box::new(r)))
            }
            Some(Chunk::End(r)) => rows::encode_end(source, r).map(|r| Part::End(with_digest(r))),
            None => Ok(Part::Abort),
        };
        match part {
            Ok(p) => {
                let sent = tx.send(Item::Part(p, None));
                alive.set(sent);
                sent
            }
            // Never for what the parser hands over; the report is dropped, named, and
            // the parser told to stop reading it.
            Err(e) => {
                alive.set(tx.send(Item::Part(Part::Abort, None)) && tx.send(Item::Refused(e)));
                false
            }
        }
    }
}

/// CRC-32 and length of a whole file: cheap enough to take of a 200 MB file in a few
/// hundredths of a second, and with the report's key it tells the same file met again.
fn file_digest(file: &mut File) -> std::io::Result<String> {
    let mut crc = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        crc.update(buf.get(..n).unwrap_or_default());
        len += n as u64;
    }
    Ok(format!("crc32:{:08x}:{len}", crc.finalize()))
}

/// The key of the one aggregate report a file holds (plain XML, or gzip of it), read
/// from its first bytes only; `None` for any other content.
fn peek_key(path: &Path, limits: &Limits) -> Option<ReportKey> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let format = detect(reader.fill_buf().ok()?);
    let mut key = None;
    let mut on = |c: Chunk<'_>| {
        if let Chunk::Start(r) = c {
            key = Some(r.key());
        }
        false
    };
    match format {
        Format::Xml => {
            let _ = parse_aggregate_chunked(reader, limits, 1, &mut on);
        }
        Format::Gzip => {
            let inflate = flate2::bufread::GzDecoder::new(reader);
            let bounded = Counting::new(inflate, limits.max_decompressed_bytes, limits);
            let _ = parse_aggregate_chunked(BufReader::new(bounded), limits, 1, &mut on);
        }
        _ => {}
    }
    key
}

/// Files from this size on are looked up before they are read: a gzip this large may
/// hold a report of tens of megabytes, and the same file met again is then skipped in
/// the time its digest takes. Smaller files are read, as fast as a lookup.
const LOOKUP_FROM: u64 = 256 * 1024;

/// What the lookup of a file before reading it found.
enum Lookup {
    /// The same file was stored whole before: skip it.
    Known,
    /// Read it; if it holds a single aggregate report, this is its digest, to be stored
    /// with the report.
    Read(Option<String>),
}

fn look_up(
    path: &Path,
    file: &mut File,
    limits: &Limits,
    known: Known<'_>,
) -> std::io::Result<Lookup> {
    let digest = file_digest(file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(match peek_key(path, limits) {
        Some(key) if known(&key, &digest) => Lookup::Known,
        Some(_) => Lookup::Read(Some(digest)),
        None => Lookup::Read(None),
    })
}

/// A file over [`WHOLE_UP_TO`], read as a stream, its aggregate reports in parts.
fn walk_large(
    path: &Path,
    file: File,
    len: u64,
    file_digest: Option<String>,
    limits: &Limits,
    tx: &Sender,
) -> bool {
    let name = path.display().to_string();
    let alive = Cell::new(true);
    let mut sink = |r| {
        if alive.get() {
            alive.set(tx.send(item(r)));
        }
    };
    let mut chunks = chunk_sink(tx, &alive, file_digest);
    // Bounded even if the file grows while we read it.
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        file.take(limits.max_input_bytes.saturating_add(1)),
    );
    crate::unpack::unpack_reader(&name, &mut reader, limits, &mut sink, Some(&mut chunks));
    alive.get() && tx.send(Item::Done(len))
}

/// Reads one file, sending what it finds. Returns false once the receiver is gone.
pub(crate) fn walk(path: &Path, limits: &Limits, tx: &Sender, known: Known<'_>) -> bool {
    let send = |item: Item| tx.send(item);
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return send(io_refusal(path, &e)),
    };
    if !meta.is_file() {
        return true;
    }
    let name = path.display().to_string();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return send(io_refusal(path, &e)),
    };
    let mut head = [0u8; 5];
    let n = read_head(&mut file, &mut head);
    let alive = match file.seek(SeekFrom::Start(0)).map(|_| file) {
        Err(e) => return send(io_refusal(path, &e)),
        Ok(f) if head.get(..n) == Some(b"From ") => {
            // An mbox: read message by message, whatever its size.
            let live = Cell::new(true);
            let mut sink = |r| {
                if live.get() {
                    live.set(send(item(r)));
                }
            };
            let mut chunks = chunk_sink(tx, &live, None);
            let reader = BufReader::new(f);
            crate::unpack::unpack_mbox_chunked(&name, reader, limits, &mut sink, Some(&mut chunks));
            live.get()
        }
        Ok(f) => {
            if meta.len() > limits.max_input_bytes {
                return send(Item::Refused(ReportError::new(
                    name,
                    Reason::LimitExceeded {
                        kind: LimitKind::InputBytes,
                        limit: limits.max_input_bytes,
                    },
                ))) && send(Item::Done(meta.len()));
            }
            let mut f = f;
            let mut file_digest = None;
            if meta.len() >= LOOKUP_FROM {
                match look_up(path, &mut f, limits, known) {
                    Ok(Lookup::Known) => {
                        return send(Item::Known(name)) && send(Item::Done(meta.len()));
                    }
                    Ok(Lookup::Read(d)) => file_digest = d,
                    Err(e) => return send(io_refusal(path, &e)),
                }
            }
            if meta.len() > WHOLE_UP_TO {
                return walk_large(path, f, meta.len(), file_digest, limits, tx);
            }
            let mut bytes = Vec::new();
            // Bounded even if the file grows while we read it.
            if let Err(e) = f
                .take(limits.max_input_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
            {
                return send(io_refusal(path, &e));
            }
            let live = Cell::new(true);
            let mut sink = |r| {
                if live.get() {
                    let mut found = item(r);
                    if let Item::Found(rows, _) = &mut found {
                        rows.file_digest.clone_from(&file_digest);
                    }
                    live.set(send(found));
                }
            };
            let mut chunks = chunk_sink(tx, &live, file_digest.clone());
            crate::unpack::unpack_chunked(&name, &bytes, limits, &mut sink, Some(&mut chunks));
            live.get()
        }
    };
    alive && send(Item::Done(meta.len()))
}

fn read_head(file: &mut File, head: &mut [u8]) -> usize {
    let mut n = 0;
    while n < head.len() {
        match file.read(head.get_mut(n..).unwrap_or_default()) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// Unpacks one in-memory input, within the same limits as a file.
pub(crate) fn unpack_bytes(name: &str, bytes: &[u8], limits: &Limits, tx: &Sender) -> bool {
    let send = |item: Item| tx.send(item);
    if bytes.len() as u64 > limits.max_input_bytes {
        return send(Item::Refused(ReportError::new(
            name.to_owned(),
            Reason::LimitExceeded {
                kind: LimitKind::InputBytes,
                limit: limits.max_input_bytes,
            },
        ))) && send(Item::Done(bytes.len() as u64));
    }
    let mut alive = true;
    crate::unpack::unpack(name, bytes, limits, &mut |r| {
        if alive {
            alive = send(item(r));
        }
    });
    alive && send(Item::Done(bytes.len() as u64))
}
