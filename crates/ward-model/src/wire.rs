//! Bytes a server sent, shown to people: a few of them, escaped, so that a port speaking
//! the wrong protocol can be reported with what it said without putting control
//! characters or invalid UTF-8 into a report.

/// How many of a reply's first bytes evidence keeps.
pub const FIRST_BYTES_SHOWN: usize = 16;

/// The first [`FIRST_BYTES_SHOWN`] bytes of `bytes` as printable ASCII: letters, digits
/// and punctuation as they are, the rest escaped as in a Rust byte string (`\r`, `\n`,
/// `\t`, `\\`, `\"`, `\'`, `\xNN`).
///
/// ```
/// assert_eq!(ward_model::wire::printable(b"\x00SSH-2\r\n"), r"\x00SSH-2\r\n");
/// ```
pub fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(FIRST_BYTES_SHOWN)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cuts() {
        assert_eq!(printable(b"HTTP/1.1 400"), "HTTP/1.1 400");
        assert_eq!(printable(b"\xff\xfe\"a\"\x1b"), r#"\xff\xfe\"a\"\x1b"#);
        assert_eq!(printable(&[b'a'; 40]), "a".repeat(FIRST_BYTES_SHOWN));
        assert_eq!(printable(b""), "");
    }
}
