//! An address-keyed hash table for the ledger: open addressing, linear
//! probing, backward-shift deletion, no tombstones, no lock.
//!
//! Plain Rust, no libuv: unit tests and Miri exercise it directly.
//!
//! Why not `HashMap`: the ledger does an insert, a lookup and a remove per
//! handle lifecycle, so each operation must cost a few instructions and, for
//! handles allocated side by side, touch memory side by side. In a table
//! larger than the cache, the home slot of an address is its offset in its
//! 16 KiB window of address space (`addr >> 3 & 2047`) plus an offset per
//! window, Fibonacci hashing of `addr >> 14` (the top bits of the product,
//! which spread consecutive windows evenly over the table): the objects of
//! one window land in one stretch of the table, in address order, so a walk
//! over an array of handles stays near the previous slot; windows are spread,
//! so objects aligned on large powers of two do not pile up. Each window is
//! thin (at most one object per 8 slots: objects are at least 64 bytes), so
//! a stretch where several windows overlap stays sparse. Wider windows, or
//! `addr >> 4`, made probe runs of 7 to 34 slots per insert on dense arrays
//! of 64-byte objects (simulated); this stays under 3 for arrays of 64 to
//! 512-byte objects, page-aligned ones and scattered ones.

/// Slot capacity is a power of two; the table doubles past 3/4 full, so
/// the load stays within [3/8, 3/4] while it grows; `trim` shrinks it.
const MIN_CAP: usize = 16;

#[derive(Clone, Copy)]
struct Slot<V> {
    /// 0 marks an empty slot (no object lives at address 0).
    key: usize,
    val: V,
}

pub(crate) struct Table<V: Copy + Default> {
    slots: Vec<Slot<V>>,
    len: usize,
    /// Slots stepped over by lookups and inserts (tests measure clustering).
    #[cfg(test)]
    steps: std::cell::Cell<usize>,
}

impl<V: Copy + Default> Default for Table<V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Up to this many slots (64 KiB of 16-byte slots, cache-resident) the home
/// slot is a hash of the whole address: in a small table, the low address
/// bits of an array of 128-byte objects would all name the same few slots.
/// Two multiplications: Fibonacci hashing alone maps power-of-two strides
/// to as few as half the slots.
const SPREAD_BELOW: usize = 4096;

/// `mask` is the capacity (a power of two, at least `MIN_CAP`) minus one.
#[inline]
fn home(key: usize, mask: usize) -> usize {
    const FIB: u64 = 0x9E37_79B9_7F4A_7C15;
    let shift = 64 - (mask + 1).trailing_zeros();
    if mask < SPREAD_BELOW {
        let x = ((key >> 3) as u64).wrapping_mul(FIB);
        return ((x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> shift) as usize;
    }
    let window = ((key >> 14) as u64).wrapping_mul(FIB) >> shift;
    ((key >> 3) & 2047).wrapping_add(window as usize) & mask
}

impl<V: Copy + Default> Table<V> {
    pub const fn new() -> Self {
        Table {
            slots: Vec::new(),
            len: 0,
            #[cfg(test)]
            steps: std::cell::Cell::new(0),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held by the table (for the memory benchmark's reasoning).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `key`, or the empty slot that ends its probe run.
    #[inline]
    fn probe(&self, key: usize) -> (usize, bool) {
        debug_assert!(key != 0 && !self.slots.is_empty());
        let mask = self.mask();
        let mut i = home(key, mask);
        loop {
            let k = self.slots[i].key;
            if k == key {
                return (i, true);
            }
            if k == 0 {
                return (i, false);
            }
            #[cfg(test)]
            self.steps.set(self.steps.get() + 1);
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn find(&self, key: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        match self.probe(key) {
            (i, true) => Some(i),
            _ => None,
        }
    }

    pub fn get(&self, key: usize) -> Option<V> {
        self.find(key).map(|i| self.slots[i].val)
    }

    pub fn get_mut(&mut self, key: usize) -> Option<&mut V> {
        self.find(key).map(move |i| &mut self.slots[i].val)
    }

    /// Inserts or replaces; returns the value replaced. `key` must not be 0.
    pub fn insert(&mut self, key: usize, val: V) -> Option<V> {
        assert!(key != 0, "the ledger never tracks address 0");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(MIN_CAP));
        }
        let (i, found) = self.probe(key);
        let slot = &mut self.slots[i];
        if found {
            return Some(std::mem::replace(&mut slot.val, val));
        }
        *slot = Slot { key, val };
        self.len += 1;
        None
    }

    pub fn remove(&mut self, key: usize) -> Option<V> {
        let mut i = self.find(key)?;
        let val = self.slots[i].val;
        // Backward-shift deletion: pull later members of the probe run into
        // the hole as long as that does not move them before their home.
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let k = self.slots[j].key;
            if k == 0 {
                break;
            }
            let h = home(k, mask);
            if (j.wrapping_sub(h) & mask) >= (j.wrapping_sub(i) & mask) {
                self.slots[i] = self.slots[j];
                i = j;
            }
        }
        self.slots[i] = Slot { key: 0, val: V::default() };
        self.len -= 1;
        Some(val)
    }

    fn resize(&mut self, cap: usize) {
        debug_assert!(cap.is_power_of_two() && cap * 3 / 4 >= self.len);
        let old = std::mem::replace(&mut self.slots, vec![Slot { key: 0, val: V::default() }; cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s.key != 0) {
            let mut i = home(s.key, mask);
            while self.slots[i].key != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Shrinks to at most half full, if that at least halves the table.
    /// Not done on `remove`: a loop that opens and closes batches of
    /// handles would grow and shrink the table on every batch.
    pub fn trim(&mut self) {
        let fit = (self.len * 2).next_power_of_two().max(MIN_CAP);
        if fit * 2 <= self.slots.len() {
            self.resize(fit);
        }
    }

    /// Gives the memory back when nothing is left.
    pub fn release_if_empty(&mut self) {
        if self.len == 0 {
            self.slots = Vec::new();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, V)> + '_ {
        self.slots.iter().filter(|s| s.key != 0).map(|s| (s.key, s.val))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A small deterministic generator (no dependency on `rand`).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 17
        }
    }

    #[test]
    fn insert_get_replace_remove() {
        let mut t: Table<u32> = Table::new();
        assert_eq!(t.get(0x1000), None);
        assert_eq!(t.remove(0x1000), None);
        assert_eq!(t.insert(0x1000, 1), None);
        assert_eq!(t.insert(0x1000, 2), Some(1));
        assert_eq!(t.len(), 1);
        *t.get_mut(0x1000).unwrap() = 3;
        assert_eq!(t.get(0x1000), Some(3));
        assert_eq!(t.remove(0x1000), Some(3));
        assert!(t.is_empty());
        t.release_if_empty();
        assert_eq!(t.capacity(), 0);
    }

    /// Against `HashMap` as the model, with address patterns that collide
    /// on purpose: page-aligned objects (same offset in every window), dense
    /// arrays, and random addresses; the table grows and shrinks.
    #[test]
    fn agrees_with_a_model_through_growth_and_shrinking() {
        let n = if cfg!(miri) { 300 } else { 20_000 };
        let patterns: [&dyn Fn(u64) -> usize; 3] = [
            &|i| 0x7f00_0000_0000 + (i as usize) * 4096,
            &|i| 0x5555_0000_0000 + (i as usize) * 152,
            &|i| ((i.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 20) as usize & !63) | 64,
        ];
        for pat in patterns {
            let mut t: Table<u64> = Table::new();
            let mut model: HashMap<usize, u64> = HashMap::new();
            let mut rng = Lcg(7);
            for step in 0..(n * 3) {
                let i = rng.next() % n;
                let key = pat(i);
                match rng.next() % 3 {
                    0 | 1 if step < n * 2 => assert_eq!(t.insert(key, step), model.insert(key, step)),
                    _ => assert_eq!(t.remove(key), model.remove(&key)),
                }
                assert_eq!(t.len(), model.len());
            }
            for (k, v) in &model {
                assert_eq!(t.get(*k), Some(*v));
            }
            let mut seen: Vec<_> = t.iter().collect();
            seen.sort();
            let mut want: Vec<_> = model.into_iter().collect();
            want.sort();
            assert_eq!(seen, want);
            t.trim();
            assert!(t.capacity() <= MIN_CAP || t.len() * 4 > t.capacity(), "trim: {} in {}", t.len(), t.capacity());
            for (k, v) in t.iter().collect::<Vec<_>>() {
                assert_eq!(t.get(k), Some(v), "found after trim");
            }
        }
    }

    /// The home function keeps probe runs short for the address patterns a
    /// daemon produces: arrays of small and large objects, page-aligned
    /// objects, scattered allocations (filling the table to 3/4).
    #[test]
    fn probe_runs_stay_short_for_arrays_pages_and_scatter() {
        // 98k fill 2^17 slots to 3/4 (the locality regime); 64 and 1000
        // stay in the small-table regime.
        let sizes: &[usize] = if cfg!(miri) { &[64, 400] } else { &[64, 1000, 98_000] };
        for &n in sizes {
            let mut rng = Lcg(3);
            type Pattern = (String, Box<dyn FnMut(usize) -> usize>);
            let mut patterns: Vec<Pattern> = Vec::new();
            for stride in [64, 96, 128, 152, 256, 512] {
                patterns.push((format!("{stride}-byte array"), Box::new(move |i| 0x5555_0000_0040 + i * stride)));
            }
            patterns.push(("pages".into(), Box::new(|i| 0x7f00_0000_0000 + i * 4096)));
            patterns.push(("scattered".into(), Box::new(move |_| 0x5555_0000_0000 + ((rng.next() as usize) & 0xff_ffff) * 64)));
            for (name, mut addr) in patterns {
                let mut t: Table<u8> = Table::new();
                for i in 0..n {
                    t.insert(addr(i), 1);
                }
                let per_insert = t.steps.get() as f64 / n as f64;
                assert!(per_insert < 4.0, "{name}, {n} entries: {per_insert:.2} slots stepped over per insert");
            }
        }
    }

    #[test]
    fn load_stays_between_three_eighths_and_three_quarters() {
        let mut t: Table<u64> = Table::new();
        let n = if cfg!(miri) { 200 } else { 100_000 };
        for i in 1..=n {
            t.insert(i * 64, 0);
            if t.capacity() > MIN_CAP {
                assert!(t.len() * 4 <= t.capacity() * 3);
                assert!(t.len() * 8 >= t.capacity() * 3, "{} in {}", t.len(), t.capacity());
            }
        }
    }
}
