//! Deterministic pseudo-random numbers for the fleet generator.
//! SplitMix64: tiny, fast, and the same sequence on every platform for a given seed.

/// A SplitMix64 generator. Not for cryptography: it only has to make fleets reproducible.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function; also a good 64-bit hash for deriving stream seeds.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent stream for `(seed, stream)`, so what one repository draws never shifts
    /// what another draws: adding a file kind to one renderer leaves the other repos identical.
    pub fn stream(seed: u64, stream: u64) -> Self {
        Self::new(mix(seed ^ mix(stream.wrapping_add(GOLDEN))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift: no modulo bias worth noting.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An index in `0..n` skewed towards 0 (`n * u³`): the first few indices are drawn often and
    /// the rest form a long tail, which is how a few hub repositories end up referenced by many.
    pub fn skewed_below(&mut self, n: usize) -> usize {
        let u = self.unit();
        let index = (n as f64 * u * u * u) as usize;
        index.min(n.saturating_sub(1))
    }

    /// One element of a non-empty constant list.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = self.below(items.len() as u64) as usize;
        items.get(index).copied().unwrap_or_default()
    }

    /// `len` lowercase hex digits, for fake secrets and digests.
    pub fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 16 == 0 {
                bits = self.next_u64();
            }
            out.push(char::from(DIGITS[(bits & 0xf) as usize]));
            bits >>= 4;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..8 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::stream(1, 0).next_u64(), Rng::stream(1, 1).next_u64());
        assert_ne!(Rng::stream(1, 0).next_u64(), Rng::stream(2, 0).next_u64());
    }

    #[test]
    fn known_splitmix64_values() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn bounded_draws_stay_in_bounds() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            assert!(r.below(5) < 5);
            let x = r.range(2, 4);
            assert!((2..=4).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(r.skewed_below(10) < 10);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.skewed_below(0), 0);
        assert_eq!(r.hex(40).len(), 40);
    }

    #[test]
    fn skew_favours_low_indices() {
        let mut r = Rng::new(3);
        let mut counts = [0u32; 100];
        for _ in 0..100_000 {
            counts[r.skewed_below(100)] += 1;
        }
        // P(index 0) = (1/100)^(1/3) ≈ 0.215; the tail still gets hits.
        assert!(counts[0] > 15_000, "{}", counts[0]);
        assert!(counts[99] > 0 && counts[99] < 2_000, "{}", counts[99]);
    }
}
