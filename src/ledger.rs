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
//! There is one ledger per libuv loop, used without a lock by the thread
//! running that loop (libuv's rule for everything on a loop), so modules
//! running loops on their own threads never meet on a lock, and the host
//! loop pays a few instructions per object.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::kind::Kind;
use crate::table::Table;

/// How an owner is woken when it drains: on its home (loop) thread the host
/// acts directly; from another thread it is signalled (`uv_async_send`).
pub trait Waker: Send + Sync {
    fn on_home_thread(&self) -> bool;
    /// Called on the home thread when `on_home_thread()`, else from any thread.
    fn wake(&self);
}

#[cfg(test)]
struct NoWaker;
#[cfg(test)]
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
    /// Names the owner in ledger slots (see `owners`).
    id: u32,
    /// The address of the loop whose thread is the owner's home (the
    /// host's loop), or 0.
    home_loop: usize,
    /// Objects on the home loop: written only by its thread, so updated
    /// with a plain load and store instead of a locked read-modify-write.
    handles_home: AtomicUsize,
    requests_home: AtomicUsize,
    /// Objects on loops run by other threads.
    handles_away: AtomicUsize,
    requests_away: AtomicUsize,
    refs: AtomicUsize,
    /// Set once cleanup began: reaching zero must then wake the host.
    draining: AtomicBool,
    /// Set when a count dropped while draining; the host clears it when it
    /// acts on it ("asked again after the module's next completion").
    kicked: AtomicBool,
    waker: Arc<dyn Waker>,
}

impl Drop for Account {
    fn drop(&mut self) {
        owners::release(self.id);
    }
}

impl Account {
    /// An owner whose home is the thread running the loop at `home_loop`
    /// (where `waker.on_home_thread()` is true).
    pub fn new(waker: Arc<dyn Waker>, home_loop: usize) -> Arc<Self> {
        let a = Arc::new(Account {
            id: owners::alloc(),
            home_loop,
            handles_home: AtomicUsize::new(0),
            requests_home: AtomicUsize::new(0),
            handles_away: AtomicUsize::new(0),
            requests_away: AtomicUsize::new(0),
            refs: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            kicked: AtomicBool::new(false),
            waker,
        });
        owners::publish(a.id, Arc::as_ptr(&a));
        a
    }

    #[cfg(test)]
    pub fn unwoken() -> Arc<Self> {
        Self::new(Arc::new(NoWaker), 0)
    }

    pub fn live_handles(&self) -> usize {
        self.handles_home.load(Ordering::SeqCst) + self.handles_away.load(Ordering::SeqCst)
    }

    pub fn live_requests(&self) -> usize {
        self.requests_home.load(Ordering::SeqCst) + self.requests_away.load(Ordering::SeqCst)
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

    fn counter(&self, kind: Kind, home: bool) -> &AtomicUsize {
        match (kind.is_handle(), home) {
            (true, true) => &self.handles_home,
            (true, false) => &self.handles_away,
            (false, true) => &self.requests_home,
            (false, false) => &self.requests_away,
        }
    }

    /// Whether objects on `loop_addr` count as home-loop objects.
    pub fn is_home(&self, loop_addr: usize) -> bool {
        loop_addr == self.home_loop && loop_addr != 0
    }

    /// Counts one more live object of `kind`; `home` as [`Account::is_home`]
    /// of its loop, and then the caller is on the home loop's thread.
    pub fn count(&self, kind: Kind, home: bool) {
        let c = self.counter(kind, home);
        if home {
            c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Counts one live object of `kind` less, waking the owner when it is
    /// draining. The owner may be gone once this returns.
    ///
    /// # Safety
    /// `this` must come from `Arc::as_ptr` of a live `Arc<Account>` and the
    /// object being uncounted must still be counted (it keeps the owner alive
    /// until this decrement). `home` as given to [`Account::count`].
    pub unsafe fn uncount(this: *const Account, kind: Kind, home: bool) {
        if home {
            // On the home loop's thread: owners are freed only there, i.e.
            // not while we run, and nobody else writes this counter.
            let a = &*this;
            let c = a.counter(kind, true);
            let n = c.load(Ordering::Relaxed);
            debug_assert!(n > 0, "ledger count underflow");
            c.store(n.wrapping_sub(1), Ordering::Relaxed);
            a.dropped_on_home_thread();
            return;
        }
        Self::release(this, |a| {
            let prev = a.counter(kind, false).fetch_sub(1, Ordering::SeqCst);
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

    /// After a count dropped on the home thread: a draining owner is asked
    /// again, and woken once nothing is left.
    fn dropped_on_home_thread(&self) {
        if self.is_draining() {
            self.kicked.store(true, Ordering::SeqCst);
            if self.is_idle() {
                self.waker.wake();
            }
        }
    }

    unsafe fn release(this: *const Account, drop_one: impl FnOnce(&Account) -> bool) -> bool {
        let a = &*this;
        if a.waker.on_home_thread() {
            // Owners are freed only on their home thread, i.e. not while we run.
            if !drop_one(a) {
                return false;
            }
            a.dropped_on_home_thread();
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

/// One live handle or request, as reports see it.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub owner: *const Account,
    /// The caller's callback (close callback for handles, completion
    /// callback for requests), as an address; 0 for none.
    pub cb: usize,
    /// Loop time (ms, truncated) when it was created or started; `None`
    /// for a handle closing with a callback (the slot keeps the callback).
    pub since_ms: Option<u32>,
    pub kind: Kind,
    /// Counted on its owner's home loop (see [`Account::is_home`]).
    pub home: bool,
}

// SAFETY: entries are plain data; the owner pointer is only dereferenced by
// code that holds the guarantees stated on `Account`.
unsafe impl Send for Entry {}

impl Entry {
    /// Drops the entry's count from its owner (after its callback returned).
    ///
    /// # Safety
    /// As for [`Account::uncount`].
    pub unsafe fn uncount(&self) {
        Account::uncount(self.owner, self.kind, self.home);
    }
}

/// What a table slot keeps about an object, in 8 bytes: the slot is 16
/// bytes with its key, which keeps a tracked handle under 48 bytes of
/// bookkeeping at any table load.
#[derive(Clone, Copy, Default)]
struct Meta {
    /// Loop time when created or started; for a handle closing with a
    /// callback, the callback's index in `LoopLedger::close_cbs` instead.
    since_or_cb: u32,
    /// Owner id (24 bits) << 8 | HOME | CLOSE_CB | kind (bits 0-5).
    tag: u32,
}

/// The handle is closing and `since_or_cb` holds its close callback.
const CLOSE_CB: u32 = 0x80;
/// Counted on the owner's home loop.
const HOME: u32 = 0x40;

impl Meta {
    fn new(owner: &Account, loop_addr: usize, kind: Kind, since_ms: u32) -> Meta {
        let home = if owner.is_home(loop_addr) { HOME } else { 0 };
        Meta { since_or_cb: since_ms, tag: owner.id << 8 | home | kind as u32 }
    }
    fn kind(self) -> Kind {
        Kind::ALL[(self.tag & 0x3f) as usize]
    }
    fn owner(self) -> *const Account {
        owners::resolve(self.tag >> 8)
    }
    fn home(self) -> bool {
        self.tag & HOME != 0
    }
    fn entry(self, cb: usize) -> Entry {
        let since_ms = if self.tag & CLOSE_CB != 0 { None } else { Some(self.since_or_cb) };
        Entry { owner: self.owner(), cb, since_ms, kind: self.kind(), home: self.home() }
    }
}

#[derive(Clone, Copy, Default)]
struct RequestMeta {
    cb: usize,
    meta: Meta,
}

/// Process-wide owner ids, so that a ledger slot names its owner in 24 bits.
/// An id is valid while its `Account` lives; every ledger entry keeps its
/// owner alive (it is counted), so resolving an entry's id is always sound.
mod owners {
    use super::Account;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::Mutex;

    const CHUNK_BITS: u32 = 12;
    const CHUNK: usize = 1 << CHUNK_BITS;
    /// 4096 chunks of 4096: 16M owners alive at once (24-bit ids).
    const CHUNKS: usize = 1 << 12;

    type Chunk = [AtomicPtr<Account>; CHUNK];

    static TABLE: [AtomicPtr<Chunk>; CHUNKS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNKS];

    struct Ids {
        next: u32,
        free: Vec<u32>,
    }
    static IDS: Mutex<Ids> = Mutex::new(Ids { next: 0, free: Vec::new() });

    fn ids() -> std::sync::MutexGuard<'static, Ids> {
        IDS.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh id; its slot is published by [`publish`].
    pub(super) fn alloc() -> u32 {
        let mut ids = ids();
        if let Some(id) = ids.free.pop() {
            return id;
        }
        let id = ids.next;
        assert!((id as usize) < CHUNK * CHUNKS, "more than 16M live module accounts");
        ids.next += 1;
        let c = &TABLE[id as usize >> CHUNK_BITS];
        if c.load(Ordering::Acquire).is_null() {
            // Chunks are never freed: readers index them without a lock.
            let chunk: Box<Chunk> = Box::new([const { AtomicPtr::new(std::ptr::null_mut()) }; CHUNK]);
            c.store(Box::into_raw(chunk), Ordering::Release);
        }
        id
    }

    fn slot(id: u32) -> &'static AtomicPtr<Account> {
        let chunk = TABLE[id as usize >> CHUNK_BITS].load(Ordering::Acquire);
        // SAFETY: `alloc` created the chunk before handing out the id.
        unsafe { &(*chunk)[id as usize & (CHUNK - 1)] }
    }

    pub(super) fn publish(id: u32, a: *const Account) {
        slot(id).store(a as *mut Account, Ordering::Release);
    }

    pub(super) fn resolve(id: u32) -> *const Account {
        slot(id).load(Ordering::Acquire)
    }

    pub(super) fn release(id: u32) {
        slot(id).store(std::ptr::null_mut(), Ordering::Release);
        ids().free.push(id);
    }
}

/// The entries of one libuv loop. Only the thread running that loop touches
/// it (libuv's own rule for the loop's handles and requests), so it has no
/// lock: that is what makes tracking cost a few instructions per object.
/// Readers on other threads are not allowed; reports read the host loop's
/// ledger on the host loop's thread.
pub struct LoopLedger {
    loop_addr: usize,
    handles: Table<Meta>,
    requests: Table<RequestMeta>,
    /// Close callbacks in use, so that a closing handle's slot names its
    /// callback in 32 bits (modules use a handful of close callbacks).
    close_cbs: Vec<usize>,
    close_cb_index: Table<u32>,
    /// The callback interned last, and its index: most closes repeat it.
    last_close_cb: (usize, u32),
    /// Handles closing with a callback: the interned callbacks can be
    /// forgotten when none is.
    closing_with_cb: usize,
}

impl LoopLedger {
    pub const fn new(loop_addr: usize) -> Self {
        LoopLedger {
            loop_addr,
            handles: Table::new(),
            requests: Table::new(),
            close_cbs: Vec::new(),
            close_cb_index: Table::new(),
            last_close_cb: (0, 0),
            closing_with_cb: 0,
        }
    }

    /// Enters a live handle at `addr`, counting it for `owner`. If an entry
    /// was still there the memory was reused without a close (a caller bug
    /// libuv does not catch either): the stale entry is released.
    ///
    /// # Safety
    /// `owner` must be alive and stay alive until the entry is released.
    pub unsafe fn enter_handle(&mut self, addr: usize, owner: &Account, kind: Kind, since_ms: u32) {
        debug_assert!(kind.is_handle());
        let meta = Meta::new(owner, self.loop_addr, kind, since_ms);
        owner.count(kind, meta.home());
        if let Some(old) = self.handles.insert(addr, meta) {
            if old.tag & CLOSE_CB != 0 {
                self.closing_with_cb -= 1;
            }
            old.entry(0).uncount();
        }
    }

    /// Enters a request started at `addr` whose completion calls `cb`.
    ///
    /// # Safety
    /// As for [`LoopLedger::enter_handle`].
    pub unsafe fn enter_request(&mut self, addr: usize, owner: &Account, kind: Kind, cb: usize, since_ms: u32) {
        debug_assert!(!kind.is_handle());
        let meta = Meta::new(owner, self.loop_addr, kind, since_ms);
        owner.count(kind, meta.home());
        if let Some(old) = self.requests.insert(addr, RequestMeta { cb, meta }) {
            old.meta.entry(old.cb).uncount();
        }
    }

    /// Sets the close callback (0 for none) of a tracked handle that is
    /// about to close; false when `addr` is not tracked here.
    pub fn set_close_cb(&mut self, addr: usize, cb: usize) -> bool {
        let Some(m) = self.handles.get_mut(addr) else {
            return false;
        };
        let had = m.tag & CLOSE_CB != 0;
        if cb != 0 {
            m.since_or_cb = if self.last_close_cb.0 == cb {
                self.last_close_cb.1
            } else {
                let i = match self.close_cb_index.get(cb) {
                    Some(i) => i,
                    None => {
                        let i = self.close_cbs.len() as u32;
                        self.close_cbs.push(cb);
                        self.close_cb_index.insert(cb, i);
                        i
                    }
                };
                self.last_close_cb = (cb, i);
                i
            };
            m.tag |= CLOSE_CB;
            self.closing_with_cb += usize::from(!had);
        } else if had {
            // The shim closes it without the module's callback; its age is
            // not kept past a close.
            m.since_or_cb = 0;
            m.tag &= !CLOSE_CB;
            self.closing_with_cb -= 1;
        }
        true
    }

    pub fn is_tracked_handle(&self, addr: usize) -> bool {
        self.handles.get(addr).is_some()
    }

    fn close_cb_of(&self, m: Meta) -> usize {
        if m.tag & CLOSE_CB != 0 {
            self.close_cbs[m.since_or_cb as usize]
        } else {
            0
        }
    }

    /// Removes a handle's entry without uncounting it: the caller runs the
    /// close callback (`cb` of the entry), then calls [`Entry::uncount`].
    pub fn take_handle(&mut self, addr: usize) -> Option<Entry> {
        let m = self.handles.remove(addr)?;
        if m.tag & CLOSE_CB != 0 {
            self.closing_with_cb -= 1;
        }
        Some(m.entry(self.close_cb_of(m)))
    }

    /// Removes a request's entry without uncounting it (as `take_handle`).
    pub fn take_request(&mut self, addr: usize) -> Option<Entry> {
        let r = self.requests.remove(addr)?;
        Some(r.meta.entry(r.cb))
    }

    /// Removes and uncounts a request (a start that failed synchronously).
    ///
    /// # Safety
    /// The entry's owner must be valid.
    pub unsafe fn forget_request(&mut self, addr: usize) {
        if let Some(e) = self.take_request(addr) {
            e.uncount();
        }
    }

    /// Snapshot of the entries owned by `owner`, as (address, entry),
    /// handles first.
    pub fn owned_by(&self, owner: *const Account) -> Vec<(usize, Entry)> {
        // SAFETY: the caller holds the owner.
        let id = unsafe { (*owner).id };
        let mine = |m: Meta| m.tag >> 8 == id;
        let handles = self.handles.iter().filter(|(_, m)| mine(*m)).map(|(a, m)| (a, m.entry(self.close_cb_of(m))));
        let requests = self.requests.iter().filter(|(_, r)| mine(r.meta)).map(|(a, r)| (a, r.meta.entry(r.cb)));
        handles.chain(requests).collect()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty() && self.requests.is_empty() && self.closing_with_cb == 0
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.handles.len() + self.requests.len()
    }

    /// Shrinks the tables to what they hold (a module left; tables do not
    /// shrink as objects come and go, which would resize on every batch),
    /// and forgets the close callbacks when no handle is closing with one
    /// (they may belong to a library that is gone).
    pub fn trim(&mut self) {
        self.handles.trim();
        self.requests.trim();
        self.forget_unused_close_cbs();
    }

    fn forget_unused_close_cbs(&mut self) {
        if self.closing_with_cb > 0 {
            return;
        }
        self.close_cbs = Vec::new();
        self.close_cb_index = Table::new();
        self.last_close_cb = (0, 0);
    }

    fn release_memory_if_empty(&mut self) {
        self.handles.release_if_empty();
        self.requests.release_if_empty();
        self.forget_unused_close_cbs();
    }
}

/// Every loop's ledger. Ledgers are never freed (only their tables'
/// memory), so a thread's cached pointer can never dangle.
static LOOPS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

thread_local! {
    /// The ledger this thread used last: almost always the loop it runs.
    static LAST: Cell<(usize, *mut LoopLedger)> = const { Cell::new((0, std::ptr::null_mut())) };
}

fn loops() -> std::sync::MutexGuard<'static, Vec<usize>> {
    LOOPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The ledger of the loop at `loop_addr`.
///
/// # Safety
/// Call on the thread running that loop (or owning it while it is not
/// running), and do not keep the pointer across a call that can run libuv
/// callbacks.
#[inline]
pub unsafe fn of_loop(loop_addr: usize) -> *mut LoopLedger {
    let (addr, l) = LAST.with(Cell::get);
    if addr == loop_addr && !l.is_null() {
        return l;
    }
    of_loop_slow(loop_addr)
}

#[cold]
fn of_loop_slow(loop_addr: usize) -> *mut LoopLedger {
    let mut all = loops();
    let found = all.iter().map(|&p| p as *mut LoopLedger).find(|&p| unsafe { (*p).loop_addr } == loop_addr);
    let l = found.unwrap_or_else(|| {
        let p = Box::into_raw(Box::new(LoopLedger::new(loop_addr)));
        all.push(p as usize);
        p
    });
    LAST.with(|c| c.set((loop_addr, l)));
    l
}

/// Returns the tables' memory to the allocator where nothing is tracked
/// (the last host is gone, so no loop thread is using a ledger).
pub fn release_memory_if_empty() {
    for &p in loops().iter() {
        // SAFETY: no tracked object is live, so no loop thread touches it.
        unsafe { (*(p as *mut LoopLedger)).release_memory_if_empty() };
    }
}

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

    #[test]
    fn counts_follow_enter_take_uncount() {
        let mut l = LoopLedger::new(1);
        let a = Account::unwoken();
        unsafe {
            l.enter_handle(0x1000, &a, Kind::Timer, 5);
            l.enter_request(0x2000, &a, Kind::FsWrite, 7, 6);
        }
        assert_eq!((a.live_handles(), a.live_requests()), (1, 1));
        let e = l.take_request(0x2000).expect("tracked");
        assert_eq!((e.cb, e.since_ms, e.kind), (7, Some(6), Kind::FsWrite));
        assert!(std::ptr::eq(e.owner, Arc::as_ptr(&a)));
        // Taken but its callback has not returned: still live.
        assert_eq!(a.live_requests(), 1);
        unsafe { e.uncount() };
        assert_eq!(a.live_requests(), 0);
        assert!(l.take_request(0x2000).is_none());
        assert!(l.take_handle(0x2000).is_none(), "handles and requests are apart");
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn close_callbacks_are_kept_aside_until_taken() {
        let mut l = LoopLedger::new(1);
        let a = Account::unwoken();
        unsafe { l.enter_handle(0x40, &a, Kind::Tcp, 0) };
        assert!(!l.set_close_cb(0x80, 9), "untracked");
        assert!(l.set_close_cb(0x40, 9));
        assert_eq!(l.owned_by(Arc::as_ptr(&a))[0].1.cb, 9);
        assert!(l.set_close_cb(0x40, 0), "the shim closes it without the module's callback");
        assert_eq!(l.closing_with_cb, 0);
        assert!(l.set_close_cb(0x40, 11));
        assert!(l.set_close_cb(0x40, 9));
        assert!(l.set_close_cb(0x40, 11));
        assert_eq!(l.close_cbs, vec![9, 11], "callbacks are interned once");
        assert_eq!(l.closing_with_cb, 1);
        let e = l.take_handle(0x40).unwrap();
        assert_eq!((e.cb, e.kind), (11, Kind::Tcp));
        assert!(l.is_empty());
        unsafe { e.uncount() };
        assert!(a.is_idle());
        l.trim();
        assert!(l.close_cbs.is_empty(), "forgotten once nothing closes with them");
    }

    #[test]
    fn reusing_memory_releases_the_stale_entry() {
        let mut l = LoopLedger::new(1);
        let (a, b) = (Account::unwoken(), Account::unwoken());
        unsafe {
            l.enter_handle(0x40, &a, Kind::Tcp, 0);
            assert!(l.set_close_cb(0x40, 3));
            l.enter_handle(0x40, &b, Kind::Tcp, 0);
        }
        assert_eq!(a.live_handles(), 0);
        assert_eq!(b.live_handles(), 1);
        assert_eq!(l.closing_with_cb, 0, "the stale close callback went with it");
        let e = l.take_handle(0x40).unwrap();
        assert!(std::ptr::eq(e.owner, Arc::as_ptr(&b)));
        assert_eq!(e.cb, 0);
    }

    #[test]
    fn owner_ids_are_reused_only_after_the_account_is_gone() {
        let a = Account::unwoken();
        let b = Account::unwoken();
        assert_ne!(a.id, b.id);
        assert!(std::ptr::eq(owners::resolve(a.id), Arc::as_ptr(&a)));
        let id = b.id;
        drop(b);
        assert!(owners::resolve(id).is_null());
        let c = Account::unwoken();
        assert!(std::ptr::eq(owners::resolve(c.id), Arc::as_ptr(&c)));
    }

    #[test]
    fn home_thread_wakes_only_when_draining_and_idle() {
        let w = Arc::new(CountingWaker { home: true, wakes: AtomicUsize::new(0) });
        let a = Account::new(w.clone(), 0);
        let ap = Arc::as_ptr(&a);
        let mut l = LoopLedger::new(1);
        unsafe {
            l.enter_handle(0x10, &a, Kind::Timer, 0);
            l.enter_request(0x20, &a, Kind::Write, 0, 0);
            l.forget_request(0x20);
        }
        assert_eq!(w.wakes.load(Ordering::SeqCst), 0, "not draining yet");
        a.set_draining();
        assert!(a.take_kick(), "starting to drain asks at once");
        a.add_ref();
        let e = l.take_handle(0x10).unwrap();
        unsafe { e.uncount() };
        assert_eq!(w.wakes.load(Ordering::SeqCst), 0, "a ref is still held");
        assert!(a.take_kick(), "a count dropped while draining");
        assert!(unsafe { Account::unref(ap) });
        assert_eq!(w.wakes.load(Ordering::SeqCst), 1);
        assert!(a.take_kick());
        assert!(!a.take_kick());
        assert!(!unsafe { Account::unref(ap) }, "no underflow");
        assert_eq!(a.refs(), 0);
    }

    /// Objects on the owner's home loop use the plain counters; objects on
    /// another loop the locked ones; both add up and both wake a drain.
    #[test]
    fn home_and_away_loops_count_apart_and_add_up() {
        let w = Arc::new(CountingWaker { home: true, wakes: AtomicUsize::new(0) });
        let a = Account::new(w.clone(), 0x77);
        let (mut home, mut away) = (LoopLedger::new(0x77), LoopLedger::new(0x99));
        unsafe {
            home.enter_handle(0x100, &a, Kind::Timer, 0);
            home.enter_request(0x200, &a, Kind::Work, 0, 0);
            away.enter_handle(0x300, &a, Kind::Timer, 0);
        }
        assert_eq!(a.handles_home.load(Ordering::SeqCst), 1);
        assert_eq!(a.handles_away.load(Ordering::SeqCst), 1);
        assert_eq!((a.live_handles(), a.live_requests()), (2, 1));
        a.set_draining();
        let taken = [home.take_handle(0x100).unwrap(), home.take_request(0x200).unwrap(), away.take_handle(0x300).unwrap()];
        assert!(taken[0].home && taken[1].home && !taken[2].home);
        for e in &taken {
            unsafe { e.uncount() };
        }
        assert!(a.is_idle());
        assert_eq!(w.wakes.load(Ordering::SeqCst), 1, "woken once, when the last count dropped");
    }

    #[test]
    fn remote_release_keeps_the_account_alive_and_signals() {
        let w = Arc::new(CountingWaker { home: false, wakes: AtomicUsize::new(0) });
        let a = Account::new(w.clone(), 0);
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
    fn owned_by_lists_one_owner() {
        let mut l = LoopLedger::new(1);
        let (a, b) = (Account::unwoken(), Account::unwoken());
        unsafe {
            for i in 0..100usize {
                let owner = if i % 3 == 0 { &a } else { &b };
                l.enter_handle(0x1000 + i * 128, owner, Kind::Idle, 0);
                l.enter_request(0x9000_0000 + i * 64, owner, Kind::Work, i, 0);
            }
        }
        assert_eq!(l.owned_by(Arc::as_ptr(&a)).len(), 68);
        assert_eq!(l.owned_by(Arc::as_ptr(&b)).len(), 132);
        assert_eq!((a.live_handles(), a.live_requests()), (34, 34));
    }

    /// Each loop thread has its own ledger and never meets another on a lock.
    #[test]
    fn loops_on_threads_have_their_own_ledgers() {
        let accounts: Vec<_> = (0..4).map(|_| Account::unwoken()).collect();
        let threads: Vec<_> = accounts
            .iter()
            .enumerate()
            .map(|(t, a)| {
                let a = a.clone();
                std::thread::spawn(move || {
                    let loop_addr = 0x5000 + t * 0x100;
                    let n = if cfg!(miri) { 20 } else { 2000 };
                    for i in 0..n {
                        let addr = (t + 1) << 32 | (i + 1) << 7;
                        let l = unsafe { &mut *of_loop(loop_addr) };
                        unsafe { l.enter_request(addr, &a, Kind::Work, 0, 0) };
                        let l = unsafe { &mut *of_loop(loop_addr) };
                        let e = l.take_request(addr).unwrap();
                        unsafe { e.uncount() };
                    }
                    let l = unsafe { &*of_loop(loop_addr) };
                    assert!(l.is_empty());
                    l as *const LoopLedger as usize
                })
            })
            .collect();
        let mut ledgers: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        ledgers.dedup();
        assert_eq!(ledgers.len(), 4);
        assert!(accounts.iter().all(|a| a.is_idle()));
    }
}
