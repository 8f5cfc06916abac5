//! HPACK, the header compression of HTTP/2 (RFC 7541), decoding only.
//!
//! HTTP/2 does not send `Name: value` lines. Each header field is one of:
//! - an **index** into a table (RFC 7541 §6.1): one byte for `:method: GET` (static entry 2), or
//!   for a field this connection already sent (a dynamic entry, 62 and up);
//! - a **literal**, its name perhaps taken from a table, its value (and name) sent as a string,
//!   usually in a Huffman code (§5.2), and perhaps added to the dynamic table (§6.2.1) so the
//!   next request can send one byte instead.
//!
//! The dynamic table is state: each direction of a connection has its own, the encoder and the
//! decoder keep identical copies, and a header block can only be read by someone who has seen
//! every block before it in that direction. This is why the Tap keeps one [`Decoder`] per
//! direction, and why a proxy cannot drop or reorder header blocks.

use super::huffman::{self, HuffmanError};

/// The static table (RFC 7541 Appendix A): index 1 to 61.
pub const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The dynamic table's size until a SETTINGS_HEADER_TABLE_SIZE says otherwise (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// What an entry costs in the dynamic table: its name, its value and 32 bytes (RFC 7541 §4.1).
pub const ENTRY_OVERHEAD: usize = 32;

/// Why a header block could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    /// The block ends in the middle of a field.
    #[error("the header block ends in the middle of a field")]
    Truncated,
    /// An integer too large for the Tap to believe (RFC 7541 §5.1 allows any size).
    #[error("an integer longer than 4 bytes of continuation (RFC 7541 §5.1)")]
    IntegerOverflow,
    /// An index that is in neither table (RFC 7541 §2.3.3).
    #[error("index {0}, which is in neither table (RFC 7541 §2.3.3)")]
    BadIndex(usize),
    /// Index 0 is never valid for an indexed field (RFC 7541 §6.1).
    #[error("an indexed field with index 0 (RFC 7541 §6.1)")]
    ZeroIndex,
    /// A Huffman-coded string that does not decode.
    #[error("a Huffman-coded string: {0}")]
    Huffman(#[from] HuffmanError),
    /// A dynamic table size update after the first field of a block (RFC 7541 §4.2).
    #[error("a dynamic table size update after a field (RFC 7541 §4.2)")]
    LateSizeUpdate,
}

/// Whether a literal field was added to the dynamic table (RFC 7541 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexing {
    /// Added to the dynamic table (§6.2.1): the next block can refer to it by index.
    Incremental,
    /// Not added (§6.2.2).
    Without,
    /// Not added, and no intermediary may ever add it (§6.2.3): for secrets such as cookies.
    Never,
}

/// How one header field was represented in the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// One index into the static (1–61) or dynamic (62 and up) table (§6.1).
    Indexed(usize),
    /// A literal value.
    Literal {
        /// The index its name came from, or `None` if the name was sent as a string too.
        name_index: Option<usize>,
        /// Whether it was added to the dynamic table.
        indexing: Indexing,
        /// Whether the value was sent in the Huffman code.
        huffman: bool,
    },
}

/// One decoded header field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name (lower case in HTTP/2, RFC 9113 §8.2.1).
    pub name: String,
    /// Its value.
    pub value: String,
    /// How the block represented it.
    pub how: Representation,
}

/// A decoder of one direction's header blocks, with that direction's dynamic table.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// Newest first: the newest entry is index 62.
    dynamic: std::collections::VecDeque<(String, String)>,
    size: usize,
    max_size: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { dynamic: Default::default(), size: 0, max_size: DEFAULT_TABLE_SIZE }
    }
}

impl Decoder {
    /// A decoder with an empty dynamic table of the default size.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// The dynamic table, newest entry (index 62) first.
    pub fn dynamic_table(&self) -> impl Iterator<Item = &(String, String)> {
        self.dynamic.iter()
    }

    /// The dynamic table's size in the RFC's measure (§4.1).
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// Decodes one complete header block (RFC 7541 §3), updating the dynamic table.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, HpackError> {
        let mut fields = Vec::new();
        let mut rest = block;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                // §6.1: 1xxxxxxx, a 7-bit-prefix index.
                let index = integer(&mut rest, 7)?;
                if index == 0 {
                    return Err(HpackError::ZeroIndex);
                }
                let (name, value) = self.entry(index)?;
                fields.push(Field { name, value, how: Representation::Indexed(index) });
            } else if first & 0x20 != 0 && first & 0xc0 == 0 {
                // §6.3: 001xxxxx, a dynamic table size update, only before the first field.
                if !fields.is_empty() {
                    return Err(HpackError::LateSizeUpdate);
                }
                self.max_size = integer(&mut rest, 5)?;
                self.evict(0);
            } else {
                // §6.2: 01xxxxxx incremental (6-bit prefix), 0000xxxx without indexing, 0001xxxx
                // never indexed (4-bit prefixes).
                let (indexing, prefix) = if first & 0xc0 == 0x40 {
                    (Indexing::Incremental, 6)
                } else if first & 0xf0 == 0x10 {
                    (Indexing::Never, 4)
                } else {
                    (Indexing::Without, 4)
                };
                let name_index = integer(&mut rest, prefix)?;
                let name = if name_index == 0 { string(&mut rest)?.0 } else { self.entry(name_index)?.0 };
                let (value, huffman) = string(&mut rest)?;
                if indexing == Indexing::Incremental {
                    self.insert(name.clone(), value.clone());
                }
                let how = Representation::Literal {
                    name_index: (name_index != 0).then_some(name_index),
                    indexing,
                    huffman,
                };
                fields.push(Field { name, value, how });
            }
        }
        Ok(fields)
    }

    fn entry(&self, index: usize) -> Result<(String, String), HpackError> {
        if let Some((name, value)) = index.checked_sub(1).and_then(|i| STATIC_TABLE.get(i)) {
            return Ok(((*name).to_owned(), (*value).to_owned()));
        }
        index
            .checked_sub(STATIC_TABLE.len() + 1)
            .and_then(|i| self.dynamic.get(i))
            .cloned()
            .ok_or(HpackError::BadIndex(index))
    }

    /// Adds an entry at the front, evicting the oldest until it fits (§4.4).
    fn insert(&mut self, name: String, value: String) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        self.evict(size);
        if size <= self.max_size {
            self.size += size;
            self.dynamic.push_front((name, value));
        }
    }

    /// Evicts the oldest entries until `room` more bytes fit (§4.3, §4.4); an entry larger
    /// than the whole table empties it.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            match self.dynamic.pop_back() {
                Some((name, value)) => self.size -= name.len() + value.len() + ENTRY_OVERHEAD,
                None => break,
            }
        }
    }
}

/// An integer with an N-bit prefix (RFC 7541 §5.1): the prefix's bits, or if they are all ones,
/// that plus 7 bits per following byte, least significant first, while the top bit is set.
fn integer(rest: &mut &[u8], prefix: u8) -> Result<usize, HpackError> {
    let (&first, tail) = rest.split_first().ok_or(HpackError::Truncated)?;
    let max = (1usize << prefix) - 1;
    let mut value = usize::from(first) & max;
    *rest = tail;
    if value < max {
        return Ok(value);
    }
    for shift in (0..).step_by(7) {
        let (&byte, tail) = rest.split_first().ok_or(HpackError::Truncated)?;
        *rest = tail;
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
        value += usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    Ok(value)
}

/// A string literal (RFC 7541 §5.2): H bit, 7-bit-prefix length, then the bytes, Huffman-coded
/// if H is set. Returns the string (bytes that are not UTF-8 are shown lossily) and H.
fn string(rest: &mut &[u8]) -> Result<(String, bool), HpackError> {
    let huffman = rest.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = integer(rest, 7)?;
    if rest.len() < len {
        return Err(HpackError::Truncated);
    }
    let (bytes, tail) = rest.split_at(len);
    *rest = tail;
    let bytes = if huffman { huffman::decode(bytes)? } else { bytes.to_vec() };
    Ok((String::from_utf8_lossy(&bytes).into_owned(), huffman))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.chars().filter(char::is_ascii_hexdigit).collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    fn pairs(fields: &[Field]) -> Vec<(&str, &str)> {
        fields.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect()
    }

    #[test]
    fn integers_decode_as_in_the_rfcs_examples() {
        // RFC 7541 C.1.1: 10 in a 5-bit prefix; C.1.2: 1337 in a 5-bit prefix; C.1.3: 42, 8-bit.
        assert_eq!(integer(&mut &[0b0000_1010][..], 5).unwrap(), 10);
        assert_eq!(integer(&mut &[0b0001_1111, 0b1001_1010, 0b0000_1010][..], 5).unwrap(), 1337);
        assert_eq!(integer(&mut &[42][..], 8).unwrap(), 42);
    }

    /// RFC 7541 Appendix C.4: three requests with Huffman coding, one decoder, the dynamic table
    /// growing between them.
    #[test]
    fn the_rfcs_three_requests_decode_with_one_dynamic_table() {
        let mut decoder = Decoder::new();
        let first = decoder.decode(&hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")).unwrap();
        assert_eq!(
            pairs(&first),
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
        );
        assert_eq!(decoder.table_size(), 57);
        let second = decoder.decode(&hex("8286 84be 5886 a8eb 1064 9cbf")).unwrap();
        assert_eq!(
            second[3],
            Field {
                name: ":authority".into(),
                value: "www.example.com".into(),
                how: Representation::Indexed(62)
            }
        );
        assert_eq!(second[4].value, "no-cache");
        assert_eq!(decoder.table_size(), 110);
        let third =
            decoder.decode(&hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")).unwrap();
        assert_eq!(
            pairs(&third),
            [
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value")
            ]
        );
        assert_eq!(decoder.table_size(), 164);
        let names: Vec<&str> = decoder.dynamic_table().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["custom-key", "cache-control", ":authority"]);
    }

    /// RFC 7541 Appendix C.6: responses in a 256-byte table, so entries are evicted.
    #[test]
    fn the_rfcs_responses_evict_the_oldest_entries() {
        let mut decoder = Decoder::new();
        decoder.max_size = 256;
        decoder
            .decode(&hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"))
            .unwrap();
        assert_eq!(decoder.table_size(), 222);
        let second = decoder.decode(&hex("4883 640e ff c1 c0 bf")).unwrap();
        assert_eq!(second[0].value, "307");
        assert_eq!(second[3].value, "https://www.example.com");
        assert_eq!(decoder.table_size(), 222);
        let third = decoder
            .decode(&hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                 9587 3160 65c0 03ed 4ee5 b106 3d50 07"))
            .unwrap();
        assert_eq!(third.last().unwrap().value, "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
        assert_eq!(decoder.table_size(), 215);
    }

    #[test]
    fn a_literal_never_indexed_is_not_added() {
        // RFC 7541 C.2.3: password: secret, never indexed, name as a literal.
        let fields = Decoder::new().decode(&hex("1008 7061 7373 776f 7264 0673 6563 7265 74")).unwrap();
        assert_eq!(pairs(&fields), [("password", "secret")]);
        assert!(matches!(fields[0].how, Representation::Literal { indexing: Indexing::Never, .. }));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut decoder = Decoder::new();
        assert_eq!(decoder.decode(&[0x80]), Err(HpackError::ZeroIndex));
        assert_eq!(decoder.decode(&[0xbe]), Err(HpackError::BadIndex(62)));
        assert_eq!(decoder.decode(&[0x41, 0x05, b'a']), Err(HpackError::Truncated));
        assert_eq!(decoder.decode(&[0x82, 0x3f, 0xe1, 0x1f]), Err(HpackError::LateSizeUpdate));
        assert_eq!(
            decoder.decode(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(HpackError::IntegerOverflow)
        );
    }
}
