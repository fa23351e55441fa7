//! The reference scan: before a library is closed, find the handles the
//! ledger does not know (a module that calls libuv directly, not through the
//! compat header) that still point into the library's mapped image, either
//! because the handle lives there or because one of its callbacks does.

use std::ffi::{c_int, c_void};

use libuv_sys2 as uv;

use crate::ledger;

/// The address ranges (PT_LOAD segments) of one loaded object.
#[derive(Clone, Debug, Default)]
pub(crate) struct Image {
    ranges: Vec<(usize, usize)>,
}

impl Image {
    pub(crate) fn contains(&self, addr: usize) -> bool {
        addr != 0 && self.ranges.iter().any(|&(lo, hi)| addr >= lo && addr < hi)
    }

    /// The image of the loaded object that contains `addr` (one of its
    /// symbols), from the loader's program headers.
    pub(crate) unsafe fn containing(addr: *const c_void) -> Option<Image> {
        struct Search {
            addr: usize,
            found: Option<Image>,
        }
        unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
            let s = &mut *(data as *mut Search);
            let info = &*info;
            let base = info.dlpi_addr as usize;
            let mut ranges = Vec::new();
            for i in 0..info.dlpi_phnum as usize {
                let ph = &*info.dlpi_phdr.add(i);
                if ph.p_type == libc::PT_LOAD {
                    let lo = base + ph.p_vaddr as usize;
                    ranges.push((lo, lo + ph.p_memsz as usize));
                }
            }
            let img = Image { ranges };
            if img.contains(s.addr) {
                s.found = Some(img);
                return 1;
            }
            0
        }
        let mut s = Search { addr: addr as usize, found: None };
        libc::dl_iterate_phdr(Some(visit), &mut s as *mut Search as *mut c_void);
        s.found
    }
}

/// An untracked handle that still refers to a module's image.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub addr: usize,
    pub type_name: String,
    /// What points into the image: "memory", "close_cb", "timer_cb", ...
    pub why: &'static str,
    pub active: bool,
    pub closing: bool,
}

unsafe fn cb_in<T>(image: &Image, f: Option<T>) -> bool {
    match f {
        Some(f) => image.contains(std::mem::transmute_copy::<T, usize>(&f)),
        None => false,
    }
}

/// Why handle `h` refers to `image`, if it does. Callback fields are read
/// only where libuv initialises them (a stale field would defer forever).
unsafe fn reference(h: *mut uv::uv_handle_t, image: &Image) -> Option<&'static str> {
    if image.contains(h as usize) {
        return Some("memory");
    }
    if uv::uv_is_closing(h) != 0 && cb_in(image, (*h).close_cb) {
        return Some("close_cb");
    }
    let t = uv::uv_handle_get_type(h);
    let hit = |ok: bool, why: &'static str| ok.then_some(why);
    match t {
        uv::uv_handle_type_UV_TIMER => hit(cb_in(image, (*(h as *mut uv::uv_timer_t)).timer_cb), "timer_cb"),
        uv::uv_handle_type_UV_TCP | uv::uv_handle_type_UV_NAMED_PIPE | uv::uv_handle_type_UV_TTY => {
            let s = h as *mut uv::uv_stream_t;
            hit(cb_in(image, (*s).read_cb), "read_cb")
                .or_else(|| hit(cb_in(image, (*s).alloc_cb), "alloc_cb"))
                .or_else(|| hit(cb_in(image, (*s).connection_cb), "connection_cb"))
        }
        uv::uv_handle_type_UV_UDP => {
            let u = h as *mut uv::uv_udp_t;
            hit(cb_in(image, (*u).recv_cb), "recv_cb").or_else(|| hit(cb_in(image, (*u).alloc_cb), "alloc_cb"))
        }
        uv::uv_handle_type_UV_POLL => hit(cb_in(image, (*(h as *mut uv::uv_poll_t)).poll_cb), "poll_cb"),
        uv::uv_handle_type_UV_SIGNAL => hit(cb_in(image, (*(h as *mut uv::uv_signal_t)).signal_cb), "signal_cb"),
        uv::uv_handle_type_UV_IDLE => hit(cb_in(image, (*(h as *mut uv::uv_idle_t)).idle_cb), "idle_cb"),
        uv::uv_handle_type_UV_CHECK => hit(cb_in(image, (*(h as *mut uv::uv_check_t)).check_cb), "check_cb"),
        uv::uv_handle_type_UV_PREPARE => hit(cb_in(image, (*(h as *mut uv::uv_prepare_t)).prepare_cb), "prepare_cb"),
        uv::uv_handle_type_UV_ASYNC => hit(cb_in(image, (*(h as *mut uv::uv_async_t)).async_cb), "async_cb"),
        uv::uv_handle_type_UV_PROCESS => hit(cb_in(image, (*(h as *mut uv::uv_process_t)).exit_cb), "exit_cb"),
        // The callback is set only by uv_fs_event_start.
        uv::uv_handle_type_UV_FS_EVENT if uv::uv_is_active(h) != 0 => {
            hit(cb_in(image, (*(h as *mut uv::uv_fs_event_t)).cb), "fs_event_cb")
        }
        _ => None,
    }
}

/// Walks `loop_` for untracked handles that refer to `image`. Costs one
/// pass over the loop's handles (linear in their number).
pub(crate) unsafe fn scan(loop_: *mut uv::uv_loop_t, image: &Image) -> Vec<Found> {
    struct Walk<'a> {
        image: &'a Image,
        found: Vec<Found>,
    }
    unsafe extern "C" fn visit(h: *mut uv::uv_handle_t, arg: *mut c_void) {
        let w = &mut *(arg as *mut Walk);
        // The range test comes first: most handles do not refer to the image.
        let Some(why) = reference(h, w.image) else { return };
        // SAFETY: scans run on the loop's thread.
        if !(*ledger::of_loop((*h).loop_ as usize)).is_tracked_handle(h as usize) {
            let name = uv::uv_handle_type_name(uv::uv_handle_get_type(h));
            let type_name = if name.is_null() { "unknown".into() } else { std::ffi::CStr::from_ptr(name).to_string_lossy().into_owned() };
            w.found.push(Found { addr: h as usize, type_name, why, active: uv::uv_is_active(h) != 0, closing: uv::uv_is_closing(h) != 0 });
        }
    }
    let mut w = Walk { image, found: Vec::new() };
    uv::uv_walk(loop_, Some(visit), &mut w as *mut Walk as *mut c_void);
    w.found
}
