//! The accounting ledger: which owner (module) each live libuv handle and
//! request belongs to, and what to call when it completes.
//!
//! Plain Rust, no libuv: unit tests and Miri exercise it directly.
//!
//! The ledger is keyed by the address of the caller-owned `uv_*_t`. A handle
//! is entered at init and leaves when its close callback is about to run; a
//! request is entered when started and leaves when its callback is about to
//! run. The owner's counters drop only after that callback has returned, so
//! "live" means "libuv or the module's callback may still touch this".
//! Entries are sharded so that modules running loops on their own threads do
//! not serialise on one lock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::kind::Kind;

/// How an owner is woken when it drains: on its home (loop) thread the host
/// acts directly; from another thread it is signalled (`uv_async_send`).
pub trait Waker: Send + Sync {
    fn on_home_thread(&self) -> bool;
    /// Called on the home thread when `on_home_thread()`, else from any thread.
    fn wake(&self);
}

struct NoWaker;
impl Waker for NoWaker {
    fn on_home_thread(&self) -> bool {
        true
    }
    fn wake(&self) {}
}

/// Per-owner counters. Lives in an `Arc` so that a thread releasing the last
/// count can still read the draining flag and signal the host after the loop
/// thread may already have freed the module.
pub struct Account {
    handles: AtomicUsize,
    requests: AtomicUsize,
    refs: AtomicUsize,
    /// Set once cleanup began: reaching zero must then wake the host.
    draining: AtomicBool,
    /// Set when a count dropped while draining; the host clears it when it
    /// acts on it ("asked again after the module's next completion").
    kicked: AtomicBool,
    waker: Arc<dyn Waker>,
}

impl Default for Account {
    fn default() -> Self {
        Self::new(Arc::new(NoWaker))
    }
}

impl Account {
    pub fn new(waker: Arc<dyn Waker>) -> Self {
        Account {
            handles: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            refs: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            kicked: AtomicBool::new(false),
            waker,
        }
    }

    pub fn live_handles(&self) -> usize {
        self.handles.load(Ordering::SeqCst)
    }

    pub fn live_requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn refs(&self) -> usize {
        self.refs.load(Ordering::SeqCst)
    }

    /// Nothing live and nobody holding a reference.
    pub fn is_idle(&self) -> bool {
        self.live_handles() == 0 && self.live_requests() == 0 && self.refs() == 0
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.kicked.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Returns and clears the "a count dropped since last asked" flag.
    pub fn take_kick(&self) -> bool {
        self.kicked.swap(false, Ordering::SeqCst)
    }

    pub fn add_ref(&self) {
        self.refs.fetch_add(1, Ordering::SeqCst);
    }

    fn counter(&self, kind: Kind) -> &AtomicUsize {
        if kind.is_handle() {
            &self.handles
        } else {
            &self.requests
        }
    }

    /// Counts one more live object of `kind`.
    pub fn count(&self, kind: Kind) {
        self.counter(kind).fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one live object of `kind` less, waking the owner when it is
    /// draining. The owner may be gone once this returns.
    ///
    /// # Safety
    /// `this` must come from `Arc::as_ptr` of a live `Arc<Account>` and the
    /// object being uncounted must still be counted (it keeps the owner alive
    /// until this decrement).
    pub unsafe fn uncount(this: *const Account, kind: Kind) {
        Self::release(this, |a| {
            let prev = a.counter(kind).fetch_sub(1, Ordering::SeqCst);
            debug_assert!(prev > 0, "ledger count underflow");
            true
        });
    }

    /// Drops one reference; false when none was held (never underflows).
    ///
    /// # Safety
    /// As for [`Account::uncount`], with a reference held instead of an object.
    pub unsafe fn unref(this: *const Account) -> bool {
        Self::release(this, |a| a.refs.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok())
    }

    unsafe fn release(this: *const Account, drop_one: impl FnOnce(&Account) -> bool) -> bool {
        let a = &*this;
        if a.waker.on_home_thread() {
            // Owners are freed only on their home thread, i.e. not while we run.
            if !drop_one(a) {
                return false;
            }
            if a.is_draining() {
                a.kicked.store(true, Ordering::SeqCst);
                if a.is_idle() {
                    a.waker.wake();
                }
            }
            true
        } else {
            // The loop thread may free the owner the moment our decrement lands:
            // hold the account itself, and read the flag only after the
            // decrement (a cleanup that starts concurrently then sees it).
            Arc::increment_strong_count(this);
            let held = Arc::from_raw(this);
            if !drop_one(&held) {
                return false;
            }
            if held.is_draining() {
                held.kicked.store(true, Ordering::SeqCst);
                held.waker.wake();
            }
            true
        }
    }
}

/// One live handle or request.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub owner: *const Account,
    /// The caller's callback (close callback for handles, completion
    /// callback for requests), as an address; 0 for none.
    pub cb: usize,
    /// Loop time (ms, truncated) when it was created or started.
    pub since_ms: u32,
    pub kind: Kind,
}

// SAFETY: entries are plain data; the owner pointer is only dereferenced by
// code that holds the guarantees stated on `Account`.
unsafe impl Send for Entry {}

/// Hash for addresses: objects are at least 8-byte aligned; multiply to
/// spread the remaining bits (Fibonacci hashing).
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = ((n as u64) >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Shard = Mutex<HashMap<usize, Entry, BuildHasherDefault<AddrHasher>>>;

const SHARDS: usize = 16;

pub struct Ledger {
    shards: [Shard; SHARDS],
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    pub const fn new() -> Self {
        Ledger {
            shards: [const { Mutex::new(HashMap::with_hasher(BuildHasherDefault::new())) }; SHARDS],
        }
    }

    fn shard(&self, addr: usize) -> std::sync::MutexGuard<'_, HashMap<usize, Entry, BuildHasherDefault<AddrHasher>>> {
        let i = ((addr >> 4) ^ (addr >> 10)) % SHARDS;
        // A poisoned shard only means a panic elsewhere while it was held;
        // the map itself is still consistent (every operation is one call).
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters a live object at `addr`, counting it for `owner`.
    ///
    /// If an entry was still there, the memory was reused: libuv allows that
    /// only after the old object finished, so the stale entry is released.
    ///
    /// # Safety
    /// `owner` must come from `Arc::as_ptr` and stay alive until the entry is released.
    pub unsafe fn enter(&self, addr: usize, owner: *const Account, kind: Kind, cb: usize, since_ms: u32) {
        (*owner).count(kind);
        let stale = self.shard(addr).insert(addr, Entry { owner, cb, since_ms, kind });
        if let Some(old) = stale {
            Account::uncount(old.owner, old.kind);
        }
    }

    /// Replaces the callback of a live entry; false when `addr` is untracked.
    pub fn set_cb(&self, addr: usize, cb: usize) -> bool {
        match self.shard(addr).get_mut(&addr) {
            Some(e) => {
                e.cb = cb;
                true
            }
            None => false,
        }
    }

    pub fn get(&self, addr: usize) -> Option<Entry> {
        self.shard(addr).get(&addr).copied()
    }

    /// Removes the entry at `addr` without uncounting it: the caller runs the
    /// user's callback, then calls [`Account::uncount`].
    pub fn take(&self, addr: usize) -> Option<Entry> {
        self.shard(addr).remove(&addr)
    }

    /// Removes and uncounts (a start that failed synchronously).
    ///
    /// # Safety
    /// The entry's owner must be valid.
    pub unsafe fn forget(&self, addr: usize) {
        if let Some(e) = self.take(addr) {
            Account::uncount(e.owner, e.kind);
        }
    }

    /// Returns the tables' memory to the allocator if nothing is tracked
    /// (the last host is gone), so leak checkers see nothing left behind.
    pub fn release_memory_if_empty(&self) {
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
            if map.is_empty() {
                *map = HashMap::with_hasher(BuildHasherDefault::new());
            }
        }
    }

    /// Snapshot of the entries owned by `owner`, as (address, entry).
    pub fn owned_by(&self, owner: *const Account) -> Vec<(usize, Entry)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let map = shard.lock().unwrap_or_else(|e| e.into_inner());
            out.extend(map.iter().filter(|(_, e)| std::ptr::eq(e.owner, owner)).map(|(a, e)| (*a, *e)));
        }
        out
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process-wide ledger used by the tracked libuv functions.
pub static LEDGER: Ledger = Ledger::new();

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct CountingWaker {
        home: bool,
        wakes: AtomicUsize,
    }
    impl Waker for CountingWaker {
        fn on_home_thread(&self) -> bool {
            self.home
        }
        fn wake(&self) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn acct() -> Arc<Account> {
        Arc::new(Account::default())
    }

    #[test]
    fn counts_follow_enter_take_uncount() {
        let l = Ledger::new();
        let a = acct();
        let ap = Arc::as_ptr(&a);
        unsafe {
            l.enter(0x1000, ap, Kind::Timer, 0, 0);
            l.enter(0x2000, ap, Kind::FsWrite, 7, 0);
        }
        assert_eq!((a.live_handles(), a.live_requests()), (1, 1));
        let e = l.take(0x2000).expect("tracked");
        assert_eq!(e.cb, 7);
        // Taken but its callback has not returned: still live.
        assert_eq!(a.live_requests(), 1);
        unsafe { Account::uncount(e.owner, e.kind) };
        assert_eq!(a.live_requests(), 0);
        assert!(l.take(0x2000).is_none());
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn reusing_memory_releases_the_stale_entry() {
        let l = Ledger::new();
        let (a, b) = (acct(), acct());
        unsafe {
            l.enter(0x40, Arc::as_ptr(&a), Kind::Tcp, 0, 0);
            l.enter(0x40, Arc::as_ptr(&b), Kind::Tcp, 0, 0);
        }
        assert_eq!(a.live_handles(), 0);
        assert_eq!(b.live_handles(), 1);
        assert!(std::ptr::eq(l.get(0x40).unwrap().owner, Arc::as_ptr(&b)));
    }

    #[test]
    fn home_thread_wakes_only_when_draining_and_idle() {
        let w = Arc::new(CountingWaker { home: true, wakes: AtomicUsize::new(0) });
        let a = Arc::new(Account::new(w.clone()));
        let ap = Arc::as_ptr(&a);
        let l = Ledger::new();
        unsafe {
            l.enter(0x10, ap, Kind::Timer, 0, 0);
            l.enter(0x20, ap, Kind::Write, 0, 0);
            l.forget(0x20);
        }
        assert_eq!(w.wakes.load(Ordering::SeqCst), 0, "not draining yet");
        a.set_draining();
        assert!(a.take_kick(), "starting to drain asks at once");
        a.add_ref();
        unsafe { l.forget(0x10) };
        assert_eq!(w.wakes.load(Ordering::SeqCst), 0, "a ref is still held");
        assert!(a.take_kick(), "a count dropped while draining");
        assert!(unsafe { Account::unref(ap) });
        assert_eq!(w.wakes.load(Ordering::SeqCst), 1);
        assert!(a.take_kick());
        assert!(!a.take_kick());
        assert!(!unsafe { Account::unref(ap) }, "no underflow");
        assert_eq!(a.refs(), 0);
    }

    #[test]
    fn remote_release_keeps_the_account_alive_and_signals() {
        let w = Arc::new(CountingWaker { home: false, wakes: AtomicUsize::new(0) });
        let a = Arc::new(Account::new(w.clone()));
        a.add_ref();
        a.set_draining();
        let ap = Arc::as_ptr(&a);
        // The owner lets go of its Arc: only the ref keeps the count up.
        let raw = Arc::into_raw(a) as usize;
        let t = std::thread::spawn(move || unsafe { Account::unref(raw as *const Account) } as usize);
        assert_eq!(t.join().unwrap(), 1);
        assert_eq!(w.wakes.load(Ordering::SeqCst), 1);
        unsafe {
            assert!((*ap).is_idle());
            drop(Arc::from_raw(raw as *const Account));
        }
    }

    #[test]
    fn set_cb_and_owned_by() {
        let l = Ledger::new();
        let (a, b) = (acct(), acct());
        unsafe {
            for i in 0..100usize {
                let owner = if i % 3 == 0 { &a } else { &b };
                l.enter(0x1000 + i * 64, Arc::as_ptr(owner), Kind::Idle, 0, 0);
            }
        }
        assert!(l.set_cb(0x1000, 99));
        assert!(!l.set_cb(0x7, 1));
        assert_eq!(l.get(0x1000).unwrap().cb, 99);
        assert_eq!(l.owned_by(Arc::as_ptr(&a)).len(), 34);
        assert_eq!(l.owned_by(Arc::as_ptr(&b)).len(), 66);
        assert_eq!(a.live_handles(), 34);
    }

    #[test]
    fn concurrent_owners_on_threads() {
        let l = Arc::new(Ledger::new());
        let accounts: Vec<_> = (0..4).map(|_| acct()).collect();
        let threads: Vec<_> = accounts
            .iter()
            .enumerate()
            .map(|(t, a)| {
                let l = l.clone();
                let a = a.clone();
                std::thread::spawn(move || {
                    let n = if cfg!(miri) { 20 } else { 2000 };
                    for i in 0..n {
                        let addr = (t + 1) << 32 | i << 4;
                        unsafe { l.enter(addr, Arc::as_ptr(&a), Kind::Work, 0, 0) };
                        let e = l.take(addr).unwrap();
                        unsafe { Account::uncount(e.owner, e.kind) };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(l.is_empty());
        assert!(accounts.iter().all(|a| a.is_idle()));
    }
}
