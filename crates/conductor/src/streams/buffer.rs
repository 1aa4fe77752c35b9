//! `Buffer`: the reader's byte buffer, a window `start..end` into a vector kept fully initialised
//! (so that `poll_read` can be given its spare room without `unsafe`).

/// A read at least this large skips the buffer; and the most a read goes past the limit.
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// The first read's size. It goes to the stack: an idle connection's reader holds no buffer.
pub(crate) const FIRST_READ: usize = 4 * 1024;
/// Reads that fill their room double the next one's, up to this.
pub(crate) const MAX_READ: usize = 64 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// True until the first bytes arrive.
    pub(crate) fn is_unallocated(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Drops the first `n` buffered bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
        if self.start == self.end {
            // Empty: reuse the room from the front.
            self.start = 0;
            self.end = 0;
        }
    }

    /// Takes the first `n` buffered bytes.
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.data[self.start..self.start + n].to_vec();
        self.consume(n);
        out
    }

    /// Takes everything buffered.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        self.take(self.len())
    }

    /// Room for at least `min` more bytes after the buffered ones: moves the data to the front
    /// when that frees enough, else grows (doubling, so that a long readuntil stays linear).
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.data.len() - self.end < min {
            let len = self.len();
            if self.start > 0 && self.data.len() - len >= min {
                self.data.copy_within(self.start..self.end, 0);
            } else {
                let size = (len + min).max(self.data.len() * 2);
                let mut grown = vec![0; size];
                grown[..len].copy_from_slice(self.as_slice());
                self.data = grown;
            }
            self.start = 0;
            self.end = len;
        }
        &mut self.data[self.end..]
    }

    /// Marks `n` bytes written into [`spare`](Self::spare) as buffered.
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(self.end + n <= self.data.len());
        self.end += n;
    }

    /// Copies buffered bytes into `out`; returns how many.
    pub(crate) fn copy_to(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.data[self.start..self.start + n]);
        self.consume(n);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_compacts() {
        let mut b = Buffer::default();
        let room = b.spare(READ_CHUNK);
        assert!(room.len() >= READ_CHUNK);
        room[..3].copy_from_slice(b"abc");
        b.commit(3);
        assert_eq!(b.take(1), b"a");
        assert_eq!(b.as_slice(), b"bc");
        let n = b.spare(READ_CHUNK).len();
        b.commit(n);
        assert_eq!(b.len(), n + 2);
        b.spare(READ_CHUNK);
        assert_eq!(&b.as_slice()[..2], b"bc");
        assert_eq!(b.take_all().len(), n + 2);
        assert!(b.is_empty());
    }
}
