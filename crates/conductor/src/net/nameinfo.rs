//! `getnameinfo`: an address back to a host and service name (asyncio's `loop.getnameinfo`), on
//! the thread pool because the C library may ask a name server.

// The `unsafe` of this module: getnameinfo(3) and gai_strerror(3), which rustix does not wrap.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::net::SocketAddr;

/// Host and service names of `addr` (asyncio's `loop.getnameinfo(sockaddr, flags)`), as the C
/// library's `getnameinfo` gives them: `flags` are its `NI_*` bits (`libc::NI_NUMERICHOST`,
/// `NI_NUMERICSERV`, `NI_NAMEREQD`, `NI_DGRAM`, ...), 0 for names where they are known.
///
/// ```
/// # conductor::run(async {
/// let addr = "127.0.0.1:80".parse().unwrap();
/// let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
/// let (host, service) = conductor::net::getnameinfo(addr, numeric).await.unwrap();
/// assert_eq!((host.as_str(), service.as_str()), ("127.0.0.1", "80"));
/// # });
/// ```
///
/// # Errors
/// The resolver's error, with its message (`NI_NAMEREQD` and no name, bad flags...), or the
/// thread pool's being gone.
pub async fn getnameinfo(addr: SocketAddr, flags: i32) -> io::Result<(String, String)> {
    crate::to_thread(move || lookup(addr, flags))
        .await
        .map_err(|e| io::Error::other(format!("getnameinfo did not finish: {e}")))?
}

fn lookup(addr: SocketAddr, flags: i32) -> io::Result<(String, String)> {
    let sockaddr = socket2::SockAddr::from(addr);
    let mut host = [0u8; libc::NI_MAXHOST as usize];
    let mut service = [0u8; 32];
    // SAFETY: `sockaddr` is a valid socket address of `len()` bytes; both buffers are writable
    // for the lengths passed, and getnameinfo writes NUL-terminated strings within them.
    let code = unsafe {
        libc::getnameinfo(
            sockaddr.as_ptr().cast(),
            sockaddr.len(),
            host.as_mut_ptr().cast(),
            host.len() as libc::socklen_t,
            service.as_mut_ptr().cast(),
            service.len() as libc::socklen_t,
            flags,
        )
    };
    if code != 0 {
        return Err(error(code, addr));
    }
    Ok((string(&host), string(&service)))
}

/// A NUL-terminated buffer filled by getnameinfo, as a `String` (all of it, should the NUL be
/// missing).
fn string(buf: &[u8]) -> String {
    let bytes = CStr::from_bytes_until_nul(buf).map_or(buf, CStr::to_bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

fn error(code: i32, addr: SocketAddr) -> io::Error {
    if code == libc::EAI_SYSTEM {
        return io::Error::last_os_error();
    }
    // SAFETY: gai_strerror returns a static, NUL-terminated message for any code.
    let msg = unsafe { CStr::from_ptr(libc::gai_strerror(code)) }.to_string_lossy();
    let kind = match code {
        libc::EAI_NONAME => io::ErrorKind::NotFound,
        libc::EAI_BADFLAGS | libc::EAI_FAMILY => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("getnameinfo({addr}): {msg}"))
}
