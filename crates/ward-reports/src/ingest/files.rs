//! Files, folders, mbox files and Maildirs: listed as units of work, then read within
//! the limits, each report or refusal sent on as it is found.

use std::fs::{self, File};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::channel::{Item, Sender, Unit, io_refusal, item};
use crate::{Error as ReportError, LimitKind, Limits, Reason};

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
    let send = |item: Item| tx.send(item);
    let mut alive = true;
    crate::unpack::walk_maildir(path, limits, &mut |r| {
        if alive {
            alive = send(item(r));
        }
    });
    alive && send(Item::Done(size_of(path, true)))
}

/// Reads one file, sending what it finds. Returns false once the receiver is gone.
pub(crate) fn walk(path: &Path, limits: &Limits, tx: &Sender) -> bool {
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
    let mut alive = true;
    let mut head = [0u8; 5];
    let n = read_head(&mut file, &mut head);
    match file.seek(SeekFrom::Start(0)).map(|_| file) {
        Err(e) => return send(io_refusal(path, &e)),
        Ok(f) if head.get(..n) == Some(b"From ") => {
            // An mbox: read message by message, whatever its size.
            crate::unpack::unpack_mbox(&name, BufReader::new(f), limits, &mut |r| {
                if alive {
                    alive = send(item(r));
                }
            });
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
            let mut bytes = Vec::new();
            // Bounded even if the file grows while we read it.
            if let Err(e) = f
                .take(limits.max_input_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
            {
                return send(io_refusal(path, &e));
            }
            crate::unpack::unpack(&name, &bytes, limits, &mut |r| {
                if alive {
                    alive = send(item(r));
                }
            });
        }
    }
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
