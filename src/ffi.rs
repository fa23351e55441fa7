//! The panic boundary and error reporting shared by every exported function.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::uverr;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records the detail of the failure being returned (a `dlerror()` text).
pub fn set_last_error(msg: impl Into<Vec<u8>>) {
    let mut bytes = msg.into();
    bytes.retain(|&b| b != 0);
    let text = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// Fails with `code`, recording `msg` for `kr_last_error()`.
pub fn fail<T>(code: c_int, msg: impl Into<Vec<u8>>) -> Result<T, c_int> {
    set_last_error(msg);
    Err(code)
}

/// Runs an exported function's body: no panic crosses into C. A panic is a
/// bug in the library; it is reported as `UV_EIO` with the panic text.
pub fn guard(body: impl FnOnce() -> Result<(), c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(code)) => code,
        Err(panic) => {
            set_last_error(format!("kr_uvshim internal error: {}", panic_text(&panic)));
            uverr::EIO
        }
    }
}

/// As [`guard`] for functions that return a value; `fallback` on panic.
pub fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        set_last_error(format!("kr_uvshim internal error: {}", panic_text(&panic)));
        fallback
    })
}

/// As [`guard`] for functions whose success is a non-negative count or
/// descriptor (synchronous `uv_fs_*`, `kr_module_dump`): passed through.
pub fn guard_int(body: impl FnOnce() -> Result<c_int, c_int>) -> c_int {
    let mut out = 0;
    let rc = guard(|| {
        out = body()?;
        Ok(())
    });
    if rc < 0 {
        rc
    } else {
        out
    }
}

/// Runs Rust code called back from libuv; a panic there would unwind into C.
pub fn guard_callback(body: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(body)) {
        eprintln!("kr_uvshim: internal error in a libuv callback: {}", panic_text(&panic));
        std::process::abort();
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// `UV_EINVAL` unless `p` is non-NULL.
pub fn need<T>(p: *const T, what: &str) -> Result<(), c_int> {
    if p.is_null() {
        fail(uverr::EINVAL, format!("{what} is NULL"))
    } else {
        Ok(())
    }
}

/// The text of the last failure on this thread that had more to say than its
/// error code (a `dlerror()` text, a bad argument's name), or "" if none.
///
/// The string is owned by the library and valid until the next failing call
/// on the same thread. Thread-safe (the text is per thread). Never NULL.
#[no_mangle]
pub extern "C" fn kr_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}
