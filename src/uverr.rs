//! libuv error codes as plain constants (on Unix, `UV_Exxx == -Exxx`), so
//! the core needs no libuv to build or test. A test checks them against
//! libuv's own values.

pub(crate) const EINVAL: i32 = -libc::EINVAL;
pub(crate) const EBUSY: i32 = -libc::EBUSY;
pub(crate) const EEXIST: i32 = -libc::EEXIST;
pub(crate) const ENOENT: i32 = -libc::ENOENT;
pub(crate) const EALREADY: i32 = -libc::EALREADY;
pub(crate) const ETIMEDOUT: i32 = -libc::ETIMEDOUT;
pub(crate) const EIO: i32 = -libc::EIO;
pub(crate) const ECANCELED: i32 = -libc::ECANCELED;
pub(crate) const ENOMEM: i32 = -libc::ENOMEM;
pub(crate) const ENAMETOOLONG: i32 = -libc::ENAMETOOLONG;

#[cfg(test)]
mod tests {
    use libuv_sys2 as uv;

    #[test]
    fn match_libuv() {
        assert_eq!(super::EINVAL, uv::uv_errno_t_UV_EINVAL);
        assert_eq!(super::EBUSY, uv::uv_errno_t_UV_EBUSY);
        assert_eq!(super::EEXIST, uv::uv_errno_t_UV_EEXIST);
        assert_eq!(super::ENOENT, uv::uv_errno_t_UV_ENOENT);
        assert_eq!(super::EALREADY, uv::uv_errno_t_UV_EALREADY);
        assert_eq!(super::ETIMEDOUT, uv::uv_errno_t_UV_ETIMEDOUT);
        assert_eq!(super::EIO, uv::uv_errno_t_UV_EIO);
        assert_eq!(super::ECANCELED, uv::uv_errno_t_UV_ECANCELED);
        assert_eq!(super::ENOMEM, uv::uv_errno_t_UV_ENOMEM);
        assert_eq!(super::ENAMETOOLONG, uv::uv_errno_t_UV_ENAMETOOLONG);
    }
}
