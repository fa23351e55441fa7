#![allow(dead_code)] // the full table: reports name every kind
//! What a ledger entry is: a libuv handle type or a request kind.
//! Plain Rust; names are the libuv names, used in reports.

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Async = 0,
    Check = 1,
    FsEvent = 2,
    FsPoll = 3,
    Idle = 4,
    Pipe = 5,
    Poll = 6,
    Prepare = 7,
    Process = 8,
    Tcp = 9,
    Timer = 10,
    Tty = 11,
    Udp = 12,
    Signal = 13,
    Write = 14,
    Shutdown = 15,
    Connect = 16,
    UdpSend = 17,
    GetAddrInfo = 18,
    GetNameInfo = 19,
    Work = 20,
    Random = 21,
    FsClose = 22,
    FsOpen = 23,
    FsRead = 24,
    FsUnlink = 25,
    FsWrite = 26,
    FsCopyfile = 27,
    FsMkdir = 28,
    FsMkdtemp = 29,
    FsMkstemp = 30,
    FsRmdir = 31,
    FsScandir = 32,
    FsOpendir = 33,
    FsReaddir = 34,
    FsClosedir = 35,
    FsStat = 36,
    FsFstat = 37,
    FsRename = 38,
    FsFsync = 39,
    FsFdatasync = 40,
    FsFtruncate = 41,
    FsSendfile = 42,
    FsAccess = 43,
    FsChmod = 44,
    FsUtime = 45,
    FsFutime = 46,
    FsLutime = 47,
    FsLstat = 48,
    FsLink = 49,
    FsSymlink = 50,
    FsReadlink = 51,
    FsRealpath = 52,
    FsFchmod = 53,
    FsChown = 54,
    FsFchown = 55,
    FsLchown = 56,
    FsStatfs = 57,
}

/// Kinds below this are handles; the rest are requests.
const FIRST_REQUEST: u8 = Kind::Write as u8;

impl Kind {
    pub const ALL: [Kind; 58] = [Kind::Async, Kind::Check, Kind::FsEvent, Kind::FsPoll, Kind::Idle, Kind::Pipe, Kind::Poll, Kind::Prepare, Kind::Process, Kind::Tcp, Kind::Timer, Kind::Tty, Kind::Udp, Kind::Signal, Kind::Write, Kind::Shutdown, Kind::Connect, Kind::UdpSend, Kind::GetAddrInfo, Kind::GetNameInfo, Kind::Work, Kind::Random, Kind::FsClose, Kind::FsOpen, Kind::FsRead, Kind::FsUnlink, Kind::FsWrite, Kind::FsCopyfile, Kind::FsMkdir, Kind::FsMkdtemp, Kind::FsMkstemp, Kind::FsRmdir, Kind::FsScandir, Kind::FsOpendir, Kind::FsReaddir, Kind::FsClosedir, Kind::FsStat, Kind::FsFstat, Kind::FsRename, Kind::FsFsync, Kind::FsFdatasync, Kind::FsFtruncate, Kind::FsSendfile, Kind::FsAccess, Kind::FsChmod, Kind::FsUtime, Kind::FsFutime, Kind::FsLutime, Kind::FsLstat, Kind::FsLink, Kind::FsSymlink, Kind::FsReadlink, Kind::FsRealpath, Kind::FsFchmod, Kind::FsChown, Kind::FsFchown, Kind::FsLchown, Kind::FsStatfs];

    pub fn is_handle(self) -> bool {
        (self as u8) < FIRST_REQUEST
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Async => "async",
            Kind::Check => "check",
            Kind::FsEvent => "fs_event",
            Kind::FsPoll => "fs_poll",
            Kind::Idle => "idle",
            Kind::Pipe => "pipe",
            Kind::Poll => "poll",
            Kind::Prepare => "prepare",
            Kind::Process => "process",
            Kind::Tcp => "tcp",
            Kind::Timer => "timer",
            Kind::Tty => "tty",
            Kind::Udp => "udp",
            Kind::Signal => "signal",
            Kind::Write => "write",
            Kind::Shutdown => "shutdown",
            Kind::Connect => "connect",
            Kind::UdpSend => "udp_send",
            Kind::GetAddrInfo => "getaddrinfo",
            Kind::GetNameInfo => "getnameinfo",
            Kind::Work => "work",
            Kind::Random => "random",
            Kind::FsClose => "fs_close",
            Kind::FsOpen => "fs_open",
            Kind::FsRead => "fs_read",
            Kind::FsUnlink => "fs_unlink",
            Kind::FsWrite => "fs_write",
            Kind::FsCopyfile => "fs_copyfile",
            Kind::FsMkdir => "fs_mkdir",
            Kind::FsMkdtemp => "fs_mkdtemp",
            Kind::FsMkstemp => "fs_mkstemp",
            Kind::FsRmdir => "fs_rmdir",
            Kind::FsScandir => "fs_scandir",
            Kind::FsOpendir => "fs_opendir",
            Kind::FsReaddir => "fs_readdir",
            Kind::FsClosedir => "fs_closedir",
            Kind::FsStat => "fs_stat",
            Kind::FsFstat => "fs_fstat",
            Kind::FsRename => "fs_rename",
            Kind::FsFsync => "fs_fsync",
            Kind::FsFdatasync => "fs_fdatasync",
            Kind::FsFtruncate => "fs_ftruncate",
            Kind::FsSendfile => "fs_sendfile",
            Kind::FsAccess => "fs_access",
            Kind::FsChmod => "fs_chmod",
            Kind::FsUtime => "fs_utime",
            Kind::FsFutime => "fs_futime",
            Kind::FsLutime => "fs_lutime",
            Kind::FsLstat => "fs_lstat",
            Kind::FsLink => "fs_link",
            Kind::FsSymlink => "fs_symlink",
            Kind::FsReadlink => "fs_readlink",
            Kind::FsRealpath => "fs_realpath",
            Kind::FsFchmod => "fs_fchmod",
            Kind::FsChown => "fs_chown",
            Kind::FsFchown => "fs_fchown",
            Kind::FsLchown => "fs_lchown",
            Kind::FsStatfs => "fs_statfs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_names() {
        assert!(Kind::Signal.is_handle());
        assert!(Kind::Timer.is_handle());
        assert!(!Kind::Write.is_handle());
        assert!(!Kind::FsStatfs.is_handle());
        assert_eq!(Kind::FsWrite.name(), "fs_write");
        assert_eq!(Kind::GetAddrInfo.name(), "getaddrinfo");
        let mut names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len(), "names are unique");
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
        }
    }
}
