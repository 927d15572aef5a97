//! Resource limits for unpacking and parsing untrusted report files.

/// Limits applied to every input. Each default lives in one `const` and is
/// documented on its field; [`Limits::default`] uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed size of one report document, in bytes.
    /// Default [`Limits::DEFAULT_MAX_DECOMPRESSED_BYTES`] (100 MB).
    pub max_decompressed_bytes: u64,
    /// Largest ratio of decompressed to compressed bytes for one compressed
    /// stream or zip member. Real DMARC XML compresses 10–50×; a ratio far
    /// above that is a bomb. Default [`Limits::DEFAULT_MAX_COMPRESSION_RATIO`] (1000).
    pub max_compression_ratio: u64,
    /// Most members read from one zip archive. Default
    /// [`Limits::DEFAULT_MAX_ZIP_MEMBERS`] (16).
    pub max_zip_members: u64,
    /// Most containers nested around a report (mbox → message → zip → gzip is
    /// 4). Default [`Limits::DEFAULT_MAX_NESTING`] (6).
    pub max_nesting: u32,
    /// Deepest XML element nesting. A DMARC aggregate report needs 6.
    /// Default [`Limits::DEFAULT_MAX_XML_DEPTH`] (32).
    pub max_xml_depth: u32,
    /// Longest text content of one XML element, in bytes. Default
    /// [`Limits::DEFAULT_MAX_TEXT_BYTES`] (1 MiB).
    pub max_text_bytes: u64,
    /// Largest file read from disk by the Maildir walker or given as one
    /// message, before any decompression. Default
    /// [`Limits::DEFAULT_MAX_INPUT_BYTES`] (256 MB).
    pub max_input_bytes: u64,
}

impl Limits {
    /// Default of [`Limits::max_decompressed_bytes`].
    pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 100 * 1000 * 1000;
    /// Default of [`Limits::max_compression_ratio`].
    pub const DEFAULT_MAX_COMPRESSION_RATIO: u64 = 1000;
    /// Default of [`Limits::max_zip_members`].
    pub const DEFAULT_MAX_ZIP_MEMBERS: u64 = 16;
    /// Default of [`Limits::max_nesting`].
    pub const DEFAULT_MAX_NESTING: u32 = 6;
    /// Default of [`Limits::max_xml_depth`].
    pub const DEFAULT_MAX_XML_DEPTH: u32 = 32;
    /// Default of [`Limits::max_text_bytes`].
    pub const DEFAULT_MAX_TEXT_BYTES: u64 = 1024 * 1024;
    /// Default of [`Limits::max_input_bytes`].
    pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 * 1000 * 1000;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: Self::DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_compression_ratio: Self::DEFAULT_MAX_COMPRESSION_RATIO,
            max_zip_members: Self::DEFAULT_MAX_ZIP_MEMBERS,
            max_nesting: Self::DEFAULT_MAX_NESTING,
            max_xml_depth: Self::DEFAULT_MAX_XML_DEPTH,
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
            max_input_bytes: Self::DEFAULT_MAX_INPUT_BYTES,
        }
    }
}
