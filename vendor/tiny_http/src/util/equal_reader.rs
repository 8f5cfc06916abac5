use std::io::Read;
use std::io::Result as IoResult;
use std::sync::mpsc::channel;
use std::sync::mpsc::{Receiver, Sender};

/// A `Reader` that reads exactly the number of bytes from a sub-reader.
///
/// If the limit is reached, it returns EOF. If the limit is not reached
/// when the destructor is called, the remaining bytes will be read and
/// thrown away.
pub struct EqualReader<R>
where
    R: Read,
{
    reader: R,
    size: usize,
    last_read_signal: Sender<IoResult<()>>,
    // DUPLEX PATCH (PATCHES.md, 1): how much of an unread body may be drained, and what to do
    // with the connection when more is left.
    max_drain: usize,
    on_abandon: Option<Box<dyn FnOnce() + Send>>,
}

impl<R> EqualReader<R>
where
    R: Read,
{
    pub fn new(reader: R, size: usize) -> (EqualReader<R>, Receiver<IoResult<()>>) {
        let (tx, rx) = channel();

        let r = EqualReader {
            reader,
            size,
            last_read_signal: tx,
            max_drain: usize::MAX,
            on_abandon: None,
        };

        (r, rx)
    }
}

impl<R> EqualReader<R>
where
    R: Read,
{
    /// DUPLEX PATCH (PATCHES.md, 1): an unread rest of at most `max_drain` bytes is drained when
    /// the reader is dropped (so the connection can serve its next request); a larger rest is
    /// not read at all, and `on_abandon` is called instead (it closes the connection).
    pub fn with_drain_limit(mut self, max_drain: usize, on_abandon: Box<dyn FnOnce() + Send>) -> Self {
        self.max_drain = max_drain;
        self.on_abandon = Some(on_abandon);
        self
    }
}

impl<R> Read for EqualReader<R>
where
    R: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        if self.size == 0 {
            return Ok(0);
        }

        let buf = if buf.len() < self.size {
            buf
        } else {
            &mut buf[..self.size]
        };

        match self.reader.read(buf) {
            Ok(len) => {
                self.size -= len;
                Ok(len)
            }
            err @ Err(_) => err,
        }
    }
}

impl<R> Drop for EqualReader<R>
where
    R: Read,
{
    fn drop(&mut self) {
        // DUPLEX PATCH (PATCHES.md, 1): upstream allocated `vec![0; remaining]` here, as large as
        // the client's `Content-Length` said: `Content-Length: 99999999999999` aborted the whole
        // process. Now: a fixed buffer, and a rest larger than `max_drain` is not read at all.
        if self.size > self.max_drain {
            if let Some(abandon) = self.on_abandon.take() {
                abandon();
            }
            self.last_read_signal.send(Ok(())).ok();
            return;
        }
        let mut remaining_to_read = self.size;
        let mut buf = [0u8; 4096];

        while remaining_to_read > 0 {
            let want = remaining_to_read.min(buf.len());
            match self.reader.read(&mut buf[..want]) {
                Err(e) => {
                    self.last_read_signal.send(Err(e)).ok();
                    break;
                }
                Ok(0) => {
                    self.last_read_signal.send(Ok(())).ok();
                    break;
                }
                Ok(other) => {
                    remaining_to_read -= other;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EqualReader;
    use std::io::Read;

    #[test]
    fn test_limit() {
        use std::io::Cursor;

        let mut org_reader = Cursor::new("hello world".to_string().into_bytes());

        {
            let (mut equal_reader, _) = EqualReader::new(org_reader.by_ref(), 5);

            let mut string = String::new();
            equal_reader.read_to_string(&mut string).unwrap();
            assert_eq!(string, "hello");
        }

        let mut string = String::new();
        org_reader.read_to_string(&mut string).unwrap();
        assert_eq!(string, " world");
    }

    #[test]
    fn duplex_patch_a_huge_unread_rest_is_abandoned_not_allocated() {
        use std::io::Cursor;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        let abandoned = Arc::new(AtomicBool::new(false));
        let flag = abandoned.clone();
        let mut org_reader = Cursor::new(b"hello".to_vec());
        {
            let (reader, _) = EqualReader::new(org_reader.by_ref(), 99_999_999_999_999);
            let _reader =
                reader.with_drain_limit(64 * 1024, Box::new(move || flag.store(true, Ordering::SeqCst)));
        }
        assert!(abandoned.load(Ordering::SeqCst), "the connection is closed instead");
        assert_eq!(org_reader.position(), 0, "nothing was read");
    }

    #[test]
    fn duplex_patch_a_small_unread_rest_is_drained_in_pieces() {
        use std::io::Cursor;

        let mut org_reader = Cursor::new(vec![7u8; 10_000]);
        {
            let (reader, _) = EqualReader::new(org_reader.by_ref(), 9_000);
            let _reader = reader.with_drain_limit(64 * 1024, Box::new(|| panic!("not abandoned")));
        }
        assert_eq!(org_reader.position(), 9_000);
    }

    #[test]
    fn test_not_enough() {
        use std::io::Cursor;

        let mut org_reader = Cursor::new("hello world".to_string().into_bytes());

        {
            let (mut equal_reader, _) = EqualReader::new(org_reader.by_ref(), 5);

            let mut vec = [0];
            equal_reader.read_exact(&mut vec).unwrap();
            assert_eq!(vec[0], b'h');
        }

        let mut string = String::new();
        org_reader.read_to_string(&mut string).unwrap();
        assert_eq!(string, " world");
    }
}
