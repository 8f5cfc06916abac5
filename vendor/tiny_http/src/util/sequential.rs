use std::io::Result as IoResult;
use std::io::{Read, Write};

use std::sync::mpsc::channel;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use std::mem;

pub struct SequentialReaderBuilder<R>
where
    R: Read + Send,
{
    inner: SequentialReaderBuilderInner<R>,
}

enum SequentialReaderBuilderInner<R>
where
    R: Read + Send,
{
    First(R),
    NotFirst(Receiver<Turn<R>>),
}

pub struct SequentialReader<R>
where
    R: Read + Send,
{
    inner: SequentialReaderInner<R>,
    next: Sender<Turn<R>>,
}

enum SequentialReaderInner<R>
where
    R: Read + Send,
{
    MyTurn(R),
    Waiting(Receiver<Turn<R>>),
    Empty,
}

/// DUPLEX PATCH (PATCHES.md, 13): what a reader hands the one after it. Upstream sent only the
/// stream, so a reader dropped before its turn had to wait for its turn, just to pass the
/// stream on: dropping a connection whose request was upgraded blocked its thread until the
/// WebSocket ended (a thread of tiny_http's per WebSocket, doing nothing). Now such a reader
/// hands on its own place in the line instead, and the next reader waits there.
enum Turn<R> {
    /// The stream: it is your turn.
    Reader(R),
    /// Not yet: wait for the stream on this channel instead.
    After(Receiver<Turn<R>>),
}

/// Waits on `recv` until the stream comes, following the places handed on.
fn await_turn<R>(mut recv: Receiver<Turn<R>>) -> R {
    loop {
        match recv.recv().unwrap() {
            Turn::Reader(reader) => return reader,
            Turn::After(earlier) => recv = earlier,
        }
    }
}

pub struct SequentialWriterBuilder<W>
where
    W: Write + Send,
{
    writer: Arc<Mutex<W>>,
    next_trigger: Option<Receiver<()>>,
}

pub struct SequentialWriter<W>
where
    W: Write + Send,
{
    trigger: Option<Receiver<()>>,
    writer: Arc<Mutex<W>>,
    on_finish: Sender<()>,
}

impl<R: Read + Send> SequentialReaderBuilder<R> {
    pub fn new(reader: R) -> SequentialReaderBuilder<R> {
        SequentialReaderBuilder {
            inner: SequentialReaderBuilderInner::First(reader),
        }
    }
}

impl<W: Write + Send> SequentialWriterBuilder<W> {
    pub fn new(writer: W) -> SequentialWriterBuilder<W> {
        SequentialWriterBuilder {
            writer: Arc::new(Mutex::new(writer)),
            next_trigger: None,
        }
    }
}

impl<R: Read + Send> Iterator for SequentialReaderBuilder<R> {
    type Item = SequentialReader<R>;

    fn next(&mut self) -> Option<SequentialReader<R>> {
        let (tx, rx) = channel();

        let inner = mem::replace(&mut self.inner, SequentialReaderBuilderInner::NotFirst(rx));

        match inner {
            SequentialReaderBuilderInner::First(reader) => Some(SequentialReader {
                inner: SequentialReaderInner::MyTurn(reader),
                next: tx,
            }),

            SequentialReaderBuilderInner::NotFirst(previous) => Some(SequentialReader {
                inner: SequentialReaderInner::Waiting(previous),
                next: tx,
            }),
        }
    }
}

impl<W: Write + Send> Iterator for SequentialWriterBuilder<W> {
    type Item = SequentialWriter<W>;
    fn next(&mut self) -> Option<SequentialWriter<W>> {
        let (tx, rx) = channel();
        let mut next_next_trigger = Some(rx);
        ::std::mem::swap(&mut next_next_trigger, &mut self.next_trigger);

        Some(SequentialWriter {
            trigger: next_next_trigger,
            writer: self.writer.clone(),
            on_finish: tx,
        })
    }
}

impl<R: Read + Send> SequentialReader<R> {
    /// DUPLEX PATCH (PATCHES.md, 2): blocks until the reader before this one is done, so that
    /// what happens next (the next head's deadline) starts when this reader's turn does.
    pub fn wait_turn(&mut self) {
        if let SequentialReaderInner::Waiting(_) = self.inner {
            let SequentialReaderInner::Waiting(recv) = mem::replace(&mut self.inner, SequentialReaderInner::Empty)
            else {
                unreachable!()
            };
            self.inner = SequentialReaderInner::MyTurn(await_turn(recv));
        }
    }
}

impl<R: Read + Send> Read for SequentialReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        if let SequentialReaderInner::MyTurn(ref mut reader) = self.inner {
            return reader.read(buf);
        }
        self.wait_turn();
        match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => reader.read(buf),
            _ => unreachable!(),
        }
    }
}

impl<W: Write + Send> SequentialWriter<W> {
    /// DUPLEX PATCH (PATCHES.md, 9): blocks until the response before this one is written (or
    /// abandoned).
    pub fn wait_turn(&mut self) {
        if let Some(v) = self.trigger.as_mut() {
            let _ = v.recv();
        }
        self.trigger = None;
    }
}

impl<W: Write + Send> Write for SequentialWriter<W> {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> IoResult<()> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().flush()
    }
}

impl<R> Drop for SequentialReader<R>
where
    R: Read + Send,
{
    fn drop(&mut self) {
        let inner = mem::replace(&mut self.inner, SequentialReaderInner::Empty);

        match inner {
            SequentialReaderInner::MyTurn(reader) => {
                self.next.send(Turn::Reader(reader)).ok();
            }
            // DUPLEX PATCH (PATCHES.md, 13): hand on the place, do not wait for the turn.
            SequentialReaderInner::Waiting(recv) => {
                self.next.send(Turn::After(recv)).ok();
            }
            SequentialReaderInner::Empty => (),
        }
    }
}

impl<W> Drop for SequentialWriter<W>
where
    W: Write + Send,
{
    fn drop(&mut self) {
        self.on_finish.send(()).ok();
    }
}
