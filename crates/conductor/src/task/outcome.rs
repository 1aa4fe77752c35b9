//! What counts as a failed task output: one definition for every combinator (`gather`'s
//! fail-fast path, `wait(ReturnWhen::FirstException)`, `as_completed`'s handles, `TaskGroup`).
//!
//! In asyncio a coroutine fails by raising. In Rust it returns `Err`, and a panic is the
//! exception nobody planned for. Stable Rust cannot ask "is this generic `T` a `Result`?", so the
//! combinators that must tell a failed output from a value require [`Outcome`]: `Result`
//! implements it (an `Err` is a failure), and so does every type that implements the marker
//! [`Value`] (never a failure): the std types a task commonly returns already do.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::convert::Infallible;
use std::ffi::{CString, OsString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A task's output as the combinators see it: a success with a value, or a failure with an
/// error (asyncio's "the coroutine raised").
///
/// Implemented for `Result<T, E>` (`Err` is the failure) and for every [`Value`] (never a
/// failure, with [`Infallible`] as its error). A type of yours that is never a failure says so
/// with one line, `impl conductor::Value for MyOutput {}`; one with its own notion of failure
/// implements `Outcome` itself.
///
/// ```
/// use conductor::Outcome;
/// assert!(Err::<u8, &str>("no").is_failure());
/// assert!(!Ok::<u8, &str>(1).is_failure());
/// assert!(!42.is_failure());
/// assert_eq!(Ok::<u8, &str>(1).into_result(), Ok(1));
/// ```
#[diagnostic::on_unimplemented(
    message = "conductor cannot tell whether a `{Self}` output is a failure",
    note = "a `Result` is an outcome (`Err` is the failure); for a type that is never a failure, \
            write `impl conductor::Value for {Self} {{}}`, or return it in `Ok`"
)]
pub trait Outcome {
    /// The value of a success.
    type Ok;
    /// The error of a failure.
    type Err;

    /// Whether this output is a failure (asyncio: the coroutine raised).
    fn is_failure(&self) -> bool;

    /// The value, or the error.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
}

impl<T, E> Outcome for Result<T, E> {
    type Ok = T;
    type Err = E;

    fn is_failure(&self) -> bool {
        self.is_err()
    }

    fn into_result(self) -> Result<T, E> {
        self
    }
}

/// A task output that is never a failure: an [`Outcome`] whose error is [`Infallible`].
///
/// ```
/// struct Report {
///     pages: usize,
/// }
/// impl conductor::Value for Report {}
///
/// # conductor::run(async {
/// let reports = conductor::gather([1, 2].map(|pages| async move { Report { pages } }))
///     .await
///     .unwrap();
/// assert_eq!(reports[1].pages, 2);
/// # });
/// ```
pub trait Value {}

impl<T: Value> Outcome for T {
    type Ok = T;
    type Err = Infallible;

    fn is_failure(&self) -> bool {
        false
    }

    fn into_result(self) -> Result<T, Infallible> {
        Ok(self)
    }
}

macro_rules! values {
    ($($t:ty),* $(,)?) => { $( impl Value for $t {} )* };
}

values!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    OsString,
    CString,
    PathBuf,
    Duration,
    Instant,
    SystemTime,
    IpAddr,
    Ipv4Addr,
    Ipv6Addr,
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    std::process::ExitStatus,
    std::process::Output,
);

impl Value for &str {}
impl<T> Value for &[T] {}
impl<T, const N: usize> Value for [T; N] {}
impl<T> Value for Option<T> {}
impl<T> Value for Vec<T> {}
impl<T> Value for VecDeque<T> {}
impl<T> Value for LinkedList<T> {}
impl<T> Value for BinaryHeap<T> {}
impl<T, S> Value for HashSet<T, S> {}
impl<K, V, S> Value for HashMap<K, V, S> {}
impl<T> Value for BTreeSet<T> {}
impl<K, V> Value for BTreeMap<K, V> {}
impl<T: ?Sized> Value for Box<T> {}
impl<T: ?Sized> Value for Rc<T> {}
impl<T: ?Sized> Value for Arc<T> {}
impl<T> Value for Cell<T> {}
impl<T> Value for RefCell<T> {}
impl<B: ?Sized + ToOwned> Value for Cow<'_, B> {}

macro_rules! tuple_values {
    ($($t:ident),+) => { impl<$($t),+> Value for ($($t,)+) {} };
}

tuple_values!(A);
tuple_values!(A, B);
tuple_values!(A, B, C);
tuple_values!(A, B, C, D);
tuple_values!(A, B, C, D, E);
tuple_values!(A, B, C, D, E, F);
tuple_values!(A, B, C, D, E, F, G);
tuple_values!(A, B, C, D, E, F, G, H);
tuple_values!(A, B, C, D, E, F, G, H, I);
tuple_values!(A, B, C, D, E, F, G, H, I, J);
tuple_values!(A, B, C, D, E, F, G, H, I, J, K);
tuple_values!(A, B, C, D, E, F, G, H, I, J, K, L);
