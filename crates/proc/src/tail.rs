//! A bounded buffer that keeps only the last bytes of an output stream.

use std::collections::VecDeque;

/// Keeps the last `capacity` bytes written to it and counts all bytes.
#[derive(Debug, Clone)]
pub(crate) struct TailBuffer {
    capacity: usize,
    bytes: VecDeque<u8>,
    total: u64,
    /// The most recently dropped byte, if any byte was dropped.
    last_dropped: Option<u8>,
}

impl TailBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            bytes: VecDeque::with_capacity(capacity.min(64 * 1024)),
            total: 0,
            last_dropped: None,
        }
    }

    /// Appends `chunk`, dropping the oldest bytes beyond the capacity.
    pub fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if self.capacity == 0 {
            return;
        }
        if chunk.len() >= self.capacity {
            let cut = chunk.len() - self.capacity;
            self.last_dropped = match cut {
                0 => self.bytes.back().copied().or(self.last_dropped),
                _ => Some(chunk[cut - 1]),
            };
            self.bytes.clear();
            self.bytes.extend(&chunk[cut..]);
        } else {
            let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.capacity);
            if overflow > 0 {
                self.last_dropped = self.bytes.get(overflow - 1).copied();
                self.bytes.drain(..overflow);
            }
            self.bytes.extend(chunk);
        }
    }

    /// Total number of bytes ever pushed, including dropped ones.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// The kept bytes as text (invalid UTF-8 replaced).
    ///
    /// If older bytes were dropped in the middle of a line, the text starts
    /// after the first line break so it does not begin with half a line;
    /// when the kept bytes contain no usable line break, it instead skips
    /// any partial UTF-8 character at the start.
    pub fn render(&self) -> String {
        let bytes: Vec<u8> = self.bytes.iter().copied().collect();
        let mut start = 0;
        let cut_mid_line = self.last_dropped.is_some_and(|b| b != b'\n');
        if cut_mid_line {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(nl) if nl + 1 < bytes.len() => start = nl + 1,
                _ => {
                    start = bytes
                        .iter()
                        .take(3)
                        .take_while(|&&b| is_utf8_continuation(b))
                        .count();
                }
            }
        }
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }
}

fn is_utf8_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_capacity() {
        let mut t = TailBuffer::new(100);
        t.push(b"hello\n");
        t.push(b"world");
        assert_eq!(t.render(), "hello\nworld");
        assert_eq!(t.total_bytes(), 11);
    }

    #[test]
    fn cuts_at_line_boundary_when_truncated() {
        let mut t = TailBuffer::new(10);
        t.push(b"aaaa\nbbbb\ncccc\n");
        // Kept exactly two whole lines: nothing to cut.
        assert_eq!(t.render(), "bbbb\ncccc\n");
        let mut t = TailBuffer::new(12);
        t.push(b"aaaa\nbbbb\ncccc\n");
        // Kept: "aa\nbbbb\ncccc\n" minus the partial "aa\n".
        assert_eq!(t.render(), "bbbb\ncccc\n");
        assert_eq!(t.total_bytes(), 15);
    }

    #[test]
    fn tracks_boundary_across_pushes() {
        let mut t = TailBuffer::new(5);
        t.push(b"ab\n");
        t.push(b"cd\n");
        // Dropped "a": cut inside the first line.
        assert_eq!(t.render(), "cd\n");
        t.push(b"ef");
        // Dropped "ab\n": the kept bytes start on a line boundary again.
        assert_eq!(t.render(), "cd\nef");
    }

    #[test]
    fn keeps_single_long_line_when_no_break() {
        let mut t = TailBuffer::new(4);
        t.push(b"abcdefgh");
        assert_eq!(t.render(), "efgh");
        // Only a trailing newline: keep the partial line rather than nothing.
        let mut t = TailBuffer::new(4);
        t.push(b"abcdefg\n");
        assert_eq!(t.render(), "efg\n");
    }

    #[test]
    fn skips_partial_utf8_at_start() {
        let mut t = TailBuffer::new(4);
        t.push("xé€".as_bytes()); // x, é (2 bytes), € (3 bytes)
        // Kept: last byte of é + €; the stray continuation byte is skipped.
        assert_eq!(t.render(), "€");
    }

    #[test]
    fn many_small_pushes_equal_one_big_push() {
        let data: Vec<u8> = (0..1000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let mut a = TailBuffer::new(37);
        let mut b = TailBuffer::new(37);
        a.push(&data);
        for chunk in data.chunks(7) {
            b.push(chunk);
        }
        assert_eq!(a.render(), b.render());
        assert!(a.render().ends_with("999\n"));
    }

    #[test]
    fn zero_capacity_only_counts() {
        let mut t = TailBuffer::new(0);
        t.push(b"abc");
        assert_eq!(t.render(), "");
        assert_eq!(t.total_bytes(), 3);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut t = TailBuffer::new(10);
        t.push(b"ok\xff\xfe");
        assert_eq!(t.render(), "ok\u{fffd}\u{fffd}");
    }
}
