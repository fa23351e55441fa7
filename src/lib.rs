//! kr-uvshim: per-module libuv accounting, an asynchronous unload protocol
//! and graceful shutdown for C daemons that `dlopen()` plugin modules.
//!
//! The core (ledger, module state machine) is plain Rust; `host`, `module`
//! and `tracked` are the thin C boundary. The C contract is the generated
//! header `include/kr_uvshim.h`.

#![allow(clippy::missing_safety_doc)]

pub mod ffi;
pub mod host;
mod barrier;
mod kind;
mod ledger;
mod table;
mod lifecycle;
mod scan;
pub mod module;
pub mod report;
pub mod shutdown;
pub mod tracked;
mod uverr;

#[cfg(test)]
mod header_test {
    /// The checked-in header must be what cbindgen makes of the code now.
    #[test]
    fn header_is_current() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/kr_uvshim.h"));
        let checked_in = include_str!("../include/kr_uvshim.h");
        assert!(
            generated == checked_in,
            "include/kr_uvshim.h is stale: run `KR_UVSHIM_WRITE_HEADER=1 cargo build` and commit it"
        );
    }
}
