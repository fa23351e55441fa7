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

impl Drop for Account {
    fn drop(&mut self) {
        owners::release(self.id);
    }
}

impl Account {
    pub fn new(waker: Arc<dyn Waker>) -> Arc<Self> {
        let a = Arc::new(Account {
            id: owners::alloc(),
            handles: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
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
        Self::new(Arc::new(NoWaker))
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

/// One live handle or request, as reports see it.
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

/// What a table slot keeps about an object, in 8 bytes: the slot is 16
/// bytes with its key, which keeps a tracked handle under 48 bytes of
/// bookkeeping at any table load.
#[derive(Clone, Copy, Default)]
struct Meta {
    since_ms: u32,
    /// Owner id (24 bits) << 8 | close-callback flag (bit 7) | kind (bits 0-5).
    tag: u32,
}

const HAS_CLOSE_CB: u32 = 0x80;

impl Meta {
    fn new(owner: &Account, kind: Kind, since_ms: u32) -> Meta {
        Meta { since_ms, tag: owner.id << 8 | kind as u32 }
    }
    fn kind(self) -> Kind {
        Kind::ALL[(self.tag & 0x3f) as usize]
    }
    fn owner(self) -> *const Account {
        owners::resolve(self.tag >> 8)
    }
    fn entry(self, cb: usize) -> Entry {
        Entry { owner: self.owner(), cb, since_ms: self.since_ms, kind: self.kind() }
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
    /// Close callbacks of tracked handles between `uv_close` and their
    /// close callback: a handle has one only then, so it is kept aside and
    /// the handles' slots stay at 16 bytes.
    closing: Table<usize>,
    requests: Table<RequestMeta>,
}

impl LoopLedger {
    pub const fn new(loop_addr: usize) -> Self {
        LoopLedger { loop_addr, handles: Table::new(), closing: Table::new(), requests: Table::new() }
    }

    /// Enters a live handle at `addr`, counting it for `owner`. If an entry
    /// was still there the memory was reused without a close (a caller bug
    /// libuv does not catch either): the stale entry is released.
    ///
    /// # Safety
    /// `owner` must be alive and stay alive until the entry is released.
    pub unsafe fn enter_handle(&mut self, addr: usize, owner: &Account, kind: Kind, since_ms: u32) {
        debug_assert!(kind.is_handle());
        owner.count(kind);
        if let Some(old) = self.handles.insert(addr, Meta::new(owner, kind, since_ms)) {
            if old.tag & HAS_CLOSE_CB != 0 {
                self.closing.remove(addr);
            }
            Account::uncount(old.owner(), old.kind());
        }
    }

    /// Enters a request started at `addr` whose completion calls `cb`.
    ///
    /// # Safety
    /// As for [`LoopLedger::enter_handle`].
    pub unsafe fn enter_request(&mut self, addr: usize, owner: &Account, kind: Kind, cb: usize, since_ms: u32) {
        debug_assert!(!kind.is_handle());
        owner.count(kind);
        if let Some(old) = self.requests.insert(addr, RequestMeta { cb, meta: Meta::new(owner, kind, since_ms) }) {
            Account::uncount(old.meta.owner(), old.meta.kind());
        }
    }

    /// Sets the close callback (0 for none) of a tracked handle; false when
    /// `addr` is not tracked here.
    pub fn set_close_cb(&mut self, addr: usize, cb: usize) -> bool {
        let Some(m) = self.handles.get_mut(addr) else {
            return false;
        };
        let had = m.tag & HAS_CLOSE_CB != 0;
        if cb != 0 {
            m.tag |= HAS_CLOSE_CB;
            self.closing.insert(addr, cb);
        } else if had {
            m.tag &= !HAS_CLOSE_CB;
            self.closing.remove(addr);
        }
        true
    }

    pub fn is_tracked_handle(&self, addr: usize) -> bool {
        self.handles.get(addr).is_some()
    }

    /// Removes a handle's entry without uncounting it: the caller runs the
    /// close callback (`cb` of the entry), then calls [`Account::uncount`].
    pub fn take_handle(&mut self, addr: usize) -> Option<Entry> {
        let m = self.handles.remove(addr)?;
        let cb = if m.tag & HAS_CLOSE_CB != 0 { self.closing.remove(addr).unwrap_or(0) } else { 0 };
        Some(m.entry(cb))
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
            Account::uncount(e.owner, e.kind);
        }
    }

    /// Snapshot of the entries owned by `owner`, as (address, entry),
    /// handles first.
    pub fn owned_by(&self, owner: *const Account) -> Vec<(usize, Entry)> {
        // SAFETY: only compared, never dereferenced.
        let id = unsafe { (*owner).id };
        let mine = |m: Meta| m.tag >> 8 == id;
        let handles = self.handles.iter().filter(|(_, m)| mine(*m)).map(|(a, m)| (a, m.entry(self.closing.get(a).unwrap_or(0))));
        let requests = self.requests.iter().filter(|(_, r)| mine(r.meta)).map(|(a, r)| (a, r.meta.entry(r.cb)));
        handles.chain(requests).collect()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty() && self.requests.is_empty() && self.closing.is_empty()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.handles.len() + self.requests.len()
    }

    fn release_memory_if_empty(&mut self) {
        self.handles.release_if_empty();
        self.closing.release_if_empty();
        self.requests.release_if_empty();
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
        assert_eq!((e.cb, e.since_ms, e.kind), (7, 6, Kind::FsWrite));
        assert!(std::ptr::eq(e.owner, Arc::as_ptr(&a)));
        // Taken but its callback has not returned: still live.
        assert_eq!(a.live_requests(), 1);
        unsafe { Account::uncount(e.owner, e.kind) };
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
        assert!(l.closing.is_empty());
        assert!(l.set_close_cb(0x40, 11));
        let e = l.take_handle(0x40).unwrap();
        assert_eq!((e.cb, e.kind), (11, Kind::Tcp));
        assert!(l.is_empty());
        unsafe { Account::uncount(e.owner, e.kind) };
        assert!(a.is_idle());
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
        assert!(l.closing.is_empty(), "the stale close callback went with it");
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
        let a = Account::new(w.clone());
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
        unsafe { Account::uncount(e.owner, e.kind) };
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
        let a = Account::new(w.clone());
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
                        unsafe { Account::uncount(e.owner, e.kind) };
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
