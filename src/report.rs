//! The report: what a shutdown waits for, and what each module still has
//! live, as text for humans and JSON for tools. Also `kr_module_dump()`.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt::Write as _;
use std::ptr;
use std::sync::Arc;

use libuv_sys2 as uv;

use crate::barrier::{BlockerState, PhaseId, PhaseState};
use crate::ffi::{fail, guard, guard_int, need};
use crate::host::Host;
use crate::kind::Kind;
use crate::ledger::{self, Entry};
use crate::module::{self, Module};
use crate::scan::Found;
use crate::shutdown::BlockerFns;
use crate::uverr;

/// Format of `kr_host_report()`.
#[allow(non_camel_case_types)]
pub type kr_report_format_t = c_int;
/// Indented text for humans.
pub const KR_REPORT_TEXT: kr_report_format_t = 0;
/// One JSON object: `{"shutdown": {...}, "modules": [...], "abandoned": [...]}`.
pub const KR_REPORT_JSON: kr_report_format_t = 1;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

/// Room given to a blocker's state function.
const STATE_BUF: usize = 256;

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Asks a blocker's state function; its failure or an overlong answer
/// cannot break the report (the buffer is bounded and re-terminated).
unsafe fn blocker_progress(fns: &BlockerFns) -> Option<String> {
    let f = fns.state?;
    let mut buf = [0u8; STATE_BUF];
    let rc = f(fns.arg, buf.as_mut_ptr() as *mut c_char, STATE_BUF);
    buf[STATE_BUF - 1] = 0;
    if rc < 0 {
        let why = CStr::from_ptr(uv::uv_strerror(rc)).to_string_lossy();
        return Some(format!("(state function failed: {why})"));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(STATE_BUF - 1);
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Live objects of one kind.
struct Group {
    count: usize,
    oldest_ms: u64,
}

/// What the ledger of the host loop holds for `m`. A module running a loop
/// of its own on another thread has that loop's objects counted but not
/// listed: only that thread may read its loop's ledger.
unsafe fn on_host_loop(m: *const Module) -> Vec<(usize, Entry)> {
    let loop_ = (*(*m).host).loop_;
    (*ledger::of_loop(loop_ as usize)).owned_by(Arc::as_ptr(&(*m).acct))
}

/// Live handles and requests of `m` on loops other than the host's.
unsafe fn on_other_loops(m: *const Module, groups: &BTreeMap<Kind, Group>) -> (usize, usize) {
    let (mut h, mut r) = (0, 0);
    for (k, g) in groups {
        if k.is_handle() {
            h += g.count;
        } else {
            r += g.count;
        }
    }
    let a = &(*m).acct;
    (a.live_handles().saturating_sub(h), a.live_requests().saturating_sub(r))
}

unsafe fn live_by_kind(m: *const Module, now: u64) -> BTreeMap<Kind, Group> {
    let mut groups: BTreeMap<Kind, Group> = BTreeMap::new();
    let now32 = now as u32;
    for (_, e) in on_host_loop(m) {
        // A handle closing with a callback has no age kept: count it only.
        let age = e.since_ms.map_or(0, |t| u64::from(now32.wrapping_sub(t)));
        let g = groups.entry(e.kind).or_insert(Group { count: 0, oldest_ms: 0 });
        g.count += 1;
        g.oldest_ms = g.oldest_ms.max(age);
    }
    groups
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Untracked handles referring to the module: the deferring scan's
/// findings while its close waits, else a fresh scan.
unsafe fn untracked_of(m: *mut Module) -> Vec<Found> {
    if !(*m).untracked.is_empty() {
        (*m).untracked.clone()
    } else {
        module::scan_now(m)
    }
}

unsafe fn module_text_at(out: &mut String, m: *mut Module, now: u64, abandoned: bool) {
    let mr = &*m;
    let untracked = untracked_of(m);
    let _ = writeln!(
        out,
        "module \"{}\": {}{}, {}, {}, {}{}",
        mr.name(),
        module::state_name_of(m),
        if abandoned { " (abandoned, library kept mapped)" } else { "" },
        plural(mr.acct.live_handles() + untracked.len(), "handle"),
        plural(mr.acct.live_requests(), "request"),
        plural(mr.acct.refs(), "ref"),
        if untracked.is_empty() { String::new() } else { format!(" ({} of the handles untracked)", untracked.len()) }
    );
    let groups = live_by_kind(m, now);
    for (kind, g) in &groups {
        let _ = writeln!(out, "  {}: {} (oldest {} ms)", kind.name(), g.count, g.oldest_ms);
    }
    let (h, r) = on_other_loops(m, &groups);
    if h + r > 0 {
        let _ = writeln!(out, "  on loops of other threads: {}, {}", plural(h, "handle"), plural(r, "request"));
    }
    for f in untracked {
        let _ = writeln!(out, "  untracked {} {:#x} ({}{})", f.type_name, f.addr, f.why, if f.closing { ", closing" } else { "" });
    }
}

/// One module's part of the report, as text (for per-module watchdogs).
pub(crate) unsafe fn module_text(m: *mut Module) -> String {
    let mut out = String::new();
    module_text_at(&mut out, m, (*(*m).host).now(), false);
    out
}

fn phase_state(s: PhaseState) -> &'static str {
    match s {
        PhaseState::Pending => "pending",
        PhaseState::Running => "running",
        PhaseState::Done => "done",
    }
}

fn blocker_state(s: BlockerState) -> &'static str {
    match s {
        BlockerState::Pending => "pending",
        BlockerState::Waiting => "waiting",
        BlockerState::Done => "done",
        BlockerState::Removed => "removed",
        BlockerState::Forced => "forced",
    }
}

unsafe fn phase_elapsed(host: *mut Host, p: PhaseId, now: u64) -> u64 {
    let ph = (*host).sd.barriers.phase(p);
    match (ph.started_ms, ph.finished_ms) {
        (Some(s), Some(f)) => f.saturating_sub(s),
        (Some(s), None) => now.saturating_sub(s),
        _ => 0,
    }
}

unsafe fn phase_text(out: &mut String, host: *mut Host, p: PhaseId, depth: usize, now: u64) {
    let b = &(*host).sd.barriers;
    let ph = b.phase(p);
    let pad = "  ".repeat(depth);
    let _ = writeln!(out, "{pad}phase \"{}\": {}, {} ms", ph.name, phase_state(ph.state), phase_elapsed(host, p, now));
    for &id in &ph.blockers {
        let bl = b.blocker(id);
        if let Some(child) = bl.child {
            phase_text(out, host, child, depth + 1, now);
            continue;
        }
        if bl.state.is_finished() {
            continue;
        }
        let loc = if bl.location.is_empty() { String::new() } else { format!(" ({})", bl.location) };
        let progress = blocker_progress(&bl.payload).map(|s| format!(": {s}")).unwrap_or_default();
        let _ = writeln!(out, "{pad}  blocker \"{}\"{loc}: {}{progress}", bl.name, blocker_state(bl.state));
    }
}

unsafe fn phase_json(host: *mut Host, p: PhaseId, now: u64) -> String {
    let b = &(*host).sd.barriers;
    let ph = b.phase(p);
    let mut blockers = Vec::new();
    let mut children = Vec::new();
    for &id in &ph.blockers {
        let bl = b.blocker(id);
        if let Some(child) = bl.child {
            children.push(phase_json(host, child, now));
            continue;
        }
        let progress = match blocker_progress(&bl.payload) {
            Some(s) if !bl.state.is_finished() => json_str(&s),
            _ => "null".into(),
        };
        blockers.push(format!(
            "{{\"name\":{},\"location\":{},\"state\":{},\"progress\":{}}}",
            json_str(&bl.name),
            json_str(&bl.location),
            json_str(blocker_state(bl.state)),
            progress
        ));
    }
    format!(
        "{{\"name\":{},\"state\":{},\"elapsed_ms\":{},\"blockers\":[{}],\"children\":[{}]}}",
        json_str(&ph.name),
        json_str(phase_state(ph.state)),
        phase_elapsed(host, p, now),
        blockers.join(","),
        children.join(",")
    )
}

unsafe fn module_json(m: *mut Module, now: u64) -> String {
    let mr = &*m;
    let mut handles = Vec::new();
    let mut requests = Vec::new();
    let groups = live_by_kind(m, now);
    let (other_h, other_r) = on_other_loops(m, &groups);
    for (kind, g) in groups {
        let item = format!("{{\"type\":{},\"count\":{},\"oldest_ms\":{}}}", json_str(kind.name()), g.count, g.oldest_ms);
        if kind.is_handle() {
            handles.push(item);
        } else {
            requests.push(item);
        }
    }
    let found = untracked_of(m);
    let untracked: Vec<String> = found
        .iter()
        .map(|f| format!("{{\"type\":{},\"address\":\"{:#x}\",\"refers_by\":{},\"closing\":{}}}", json_str(&f.type_name), f.addr, json_str(f.why), f.closing))
        .collect();
    format!(
        "{{\"name\":{},\"state\":{},\"live_handles\":{},\"live_requests\":{},\"refs\":{},\"handles\":[{}],\"requests\":[{}],\"untracked\":[{}],\"on_other_loops\":{{\"handles\":{},\"requests\":{}}}}}",
        json_str(mr.name()),
        json_str(module::state_name_of(m)),
        mr.acct.live_handles() + found.len(),
        mr.acct.live_requests(),
        mr.acct.refs(),
        handles.join(","),
        requests.join(","),
        untracked.join(","),
        other_h,
        other_r
    )
}

pub(crate) unsafe fn render(host: *mut Host, format: Format) -> String {
    let now = (*host).now();
    let sd = &(*host).sd;
    let elapsed = if sd.stage_name() == "idle" { 0 } else { now.saturating_sub(sd.started_ms) };
    let tops: Vec<PhaseId> = sd.barriers.top_phases().to_vec();
    let modules = (*host).modules.clone();
    let abandoned = (*host).abandoned.clone();
    match format {
        Format::Text => {
            let mut out = String::new();
            let _ = writeln!(out, "shutdown: {}, {} ms", sd.stage_name(), elapsed);
            for p in tops {
                phase_text(&mut out, host, p, 1, now);
            }
            for m in modules {
                module_text_at(&mut out, m, now, false);
            }
            for m in abandoned {
                module_text_at(&mut out, m, now, true);
            }
            out
        }
        Format::Json => {
            let phases: Vec<String> = tops.iter().map(|&p| phase_json(host, p, now)).collect();
            let mods: Vec<String> = modules.iter().map(|&m| module_json(m, now)).collect();
            let gone: Vec<String> = abandoned.iter().map(|&m| module_json(m, now)).collect();
            format!(
                "{{\"shutdown\":{{\"stage\":{},\"elapsed_ms\":{},\"phases\":[{}]}},\"modules\":[{}],\"abandoned\":[{}]}}",
                json_str(sd.stage_name()),
                elapsed,
                phases.join(","),
                mods.join(","),
                gone.join(",")
            )
        }
    }
}

/// Writes a report of the shutdown (each phase with its state and elapsed
/// time, each pending blocker with its name, where it was added and what
/// its state function says) and of every module (state, live handles and
/// requests by libuv type with the age of the oldest; abandoned ones too).
///
/// `*out` receives a NUL-terminated string the caller frees with
/// `kr_free()`. Works before, during and after a shutdown. Loop thread.
///
/// Errors: `UV_EINVAL` (NULL argument, unknown format), `UV_ENOMEM`.
#[no_mangle]
pub unsafe extern "C" fn kr_host_report(host: *mut Host, fmt: kr_report_format_t, out: *mut *mut c_char) -> c_int {
    guard(|| {
        need(host, "host")?;
        need(out, "out")?;
        let format = match fmt {
            KR_REPORT_TEXT => Format::Text,
            KR_REPORT_JSON => Format::Json,
            _ => return fail(uverr::EINVAL, format!("unknown report format {fmt}")),
        };
        let text = CString::new(render(host, format).replace('\0', " ")).unwrap_or_default();
        let bytes = text.as_bytes_with_nul();
        let p = libc::malloc(bytes.len()) as *mut c_char;
        if p.is_null() {
            return fail(uverr::ENOMEM, "out of memory");
        }
        ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, p, bytes.len());
        *out = p;
        Ok(())
    })
}

/// Frees memory the library handed out (`kr_host_report()`). Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn kr_free(p: *mut c_void) {
    libc::free(p);
}

/// Writes one line per live handle or request of `m` to `stream`, in the
/// spirit of `uv_print_all_handles()`:
/// `<module> <type> <address> [AC] tracked <age> ms` (`tracked closing`
/// for a handle closing with a callback) for what the ledger tracks on the
/// host's loop (A active, C closing; `[req]` for requests), then
/// `<module> <type> <address> [AC] untracked (<what points into it>)` for
/// handles the reference scan finds (code calling libuv directly). Returns
/// the number of lines written. Loop thread only.
///
/// Errors: `UV_EINVAL` (NULL or unloaded module, NULL stream), `UV_EIO`.
#[no_mangle]
pub unsafe extern "C" fn kr_module_dump(m: *const Module, stream: *mut libc::FILE) -> c_int {
    guard_int(|| {
        let mr = module::module_ref(m as *mut Module)?;
        need(stream, "stream")?;
        let now = (*mr.host).now() as u32;
        let mut entries = on_host_loop(m);
        entries.sort_by_key(|(addr, e)| (e.kind, *addr));
        let mut lines = 0;
        let mut put = |line: String| -> Result<(), c_int> {
            let c = CString::new(line).unwrap_or_default();
            if libc::fputs(c.as_ptr(), stream) < 0 {
                return fail(uverr::EIO, "write failed");
            }
            lines += 1;
            Ok(())
        };
        for (addr, e) in entries {
            let flags = if e.kind.is_handle() {
                let h = addr as *const uv::uv_handle_t;
                format!(
                    "[{}{}]",
                    if uv::uv_is_active(h) != 0 { "A" } else { "-" },
                    if uv::uv_is_closing(h) != 0 { "C" } else { "-" }
                )
            } else {
                "[req]".to_owned()
            };
            let age = match e.since_ms {
                Some(t) => format!("{} ms", now.wrapping_sub(t)),
                None => "closing".to_owned(),
            };
            put(format!("{} {} {:#x} {} tracked {}\n", mr.name(), e.kind.name(), addr, flags, age))?;
        }
        for f in untracked_of(m as *mut Module) {
            let flags = format!("[{}{}]", if f.active { "A" } else { "-" }, if f.closing { "C" } else { "-" });
            put(format!("{} {} {:#x} {} untracked ({})\n", mr.name(), f.type_name, f.addr, flags, f.why))?;
        }
        Ok(lines)
    })
}

