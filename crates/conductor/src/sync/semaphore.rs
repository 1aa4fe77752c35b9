//! `Semaphore`: asyncio's `Semaphore`, with RAII permits.

use std::fmt;
use std::sync::Arc;

use super::const_fn;
use super::permits::{MAX_PERMITS, Permits, TryAcquireError};

/// A counter of permits for tasks (asyncio's `Semaphore(value)`): `acquire().await` takes one
/// permit, waiting while none is free, and the returned [`SemaphorePermit`] gives it back when
/// dropped (asyncio's `async with sem:`).
///
/// Waiters are served in the order they arrived: a freed permit is handed to the first waiter,
/// so a newcomer cannot take it first (asyncio's fairness fix, gh-90155). A waiter cancelled
/// after it was handed a permit passes the permit on; a permit dropped by a cancelled task (in a
/// failed [`task_group`](crate::task_group), say) is released like any other.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use conductor::sync::Semaphore;
/// # conductor::Runtime::builder().paused_clock().build().unwrap().block_on(async {
/// let sem = Arc::new(Semaphore::new(2));
/// let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
/// let tasks: Vec<_> = (0..6)
///     .map(|_| {
///         let (sem, busy) = (sem.clone(), busy.clone());
///         conductor::spawn(async move {
///             let _permit = sem.acquire().await;
///             let now = busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
///             assert!(now <= 2, "at most two tasks hold a permit");
///             conductor::sleep(Duration::from_secs(1)).await;
///             busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
///         })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(sem.available_permits(), 2);
/// # });
/// ```
pub struct Semaphore {
    permits: Permits,
    /// The most permits `release` may make available (`MAX_PERMITS` unless bounded).
    pub(super) bound: usize,
}

impl Semaphore {
    /// The most permits a semaphore can hold.
    ///
    /// ```
    /// assert_eq!(conductor::sync::Semaphore::MAX_PERMITS, usize::MAX >> 3);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    const_fn! {
        /// A semaphore with `value` free permits (`const`, so it can be a `static`).
        ///
        /// # Panics
        /// When `value` exceeds [`Semaphore::MAX_PERMITS`]. (A negative value, asyncio's
        /// `ValueError`, cannot be written.)
        ///
        /// ```
        /// let sem = conductor::sync::Semaphore::new(3);
        /// assert_eq!(sem.available_permits(), 3);
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new(value: usize) -> Semaphore {
            Semaphore {
                permits: Permits::new(value, "Semaphore"),
                bound: MAX_PERMITS,
            }
        }
    }

    const_fn! {
        #[cfg_attr(feature = "tracing", track_caller)]
        pub(crate) fn bounded(value: usize) -> Semaphore {
            Semaphore {
                permits: Permits::new(value, "BoundedSemaphore"),
                bound: value,
            }
        }
    }

    /// Waits for a permit (asyncio's `await sem.acquire()` / `async with sem:`); dropping the
    /// returned permit releases it. Cancel-safe: see the type's documentation.
    ///
    /// ```
    /// # conductor::run(async {
    /// let sem = conductor::sync::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// # });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once. The waiter keeps its place in line: later waiters wait
    /// behind it even when they need fewer permits.
    ///
    /// ```
    /// # conductor::run(async {
    /// let sem = conductor::sync::Semaphore::new(5);
    /// let permit = sem.acquire_many(3).await;
    /// assert_eq!((permit.num_permits(), sem.available_permits()), (3, 2));
    /// # });
    /// ```
    pub async fn acquire_many(&self, n: usize) -> SemaphorePermit<'_> {
        self.permits.acquire(n).await;
        SemaphorePermit { sem: self, n }
    }

    /// [`acquire`](Self::acquire) for a semaphore in an `Arc`: the permit owns a reference and
    /// can move into another task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let sem = Arc::new(conductor::sync::Semaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// conductor::spawn(async move { drop(permit) }).await.unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Self::acquire_many) for a semaphore in an `Arc`.
    ///
    /// ```
    /// # conductor::run(async {
    /// let sem = std::sync::Arc::new(conductor::sync::Semaphore::new(4));
    /// let permit = sem.clone().acquire_many_owned(4).await;
    /// assert_eq!(permit.num_permits(), 4);
    /// # });
    /// ```
    pub async fn acquire_many_owned(self: Arc<Self>, n: usize) -> OwnedSemaphorePermit {
        self.permits.acquire(n).await;
        OwnedSemaphorePermit { sem: self, n }
    }

    pub(crate) fn permits(&self) -> &Permits {
        &self.permits
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// # Errors
    /// [`TryAcquireError`] when no permit is free or tasks wait for one.
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(p);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits.
    ///
    /// # Errors
    /// [`TryAcquireError`] when fewer than `n` are free or tasks wait.
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        if self.permits.try_acquire(n) {
            Ok(SemaphorePermit { sem: self, n })
        } else {
            Err(TryAcquireError)
        }
    }

    /// [`try_acquire`](Self::try_acquire) for a semaphore in an `Arc`.
    ///
    /// # Errors
    /// [`TryAcquireError`] when no permit is free or tasks wait for one.
    ///
    /// ```
    /// let sem = std::sync::Arc::new(conductor::sync::Semaphore::new(1));
    /// let _p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        if self.permits.try_acquire(1) {
            Ok(OwnedSemaphorePermit { sem: self, n: 1 })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Adds a permit (asyncio's `release()`, which needs no prior `acquire`): the first waiter,
    /// if any, gets it. Permits taken with `acquire` are released by dropping them instead.
    ///
    /// # Panics
    /// When the semaphore would hold more than [`Semaphore::MAX_PERMITS`], or, reached through a
    /// [`BoundedSemaphore`](super::BoundedSemaphore), more than its initial value (use
    /// [`BoundedSemaphore::release`](super::BoundedSemaphore::release), which returns an error).
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        self.add_permits(1);
    }

    /// Adds `n` permits; see [`release`](Self::release).
    ///
    /// # Panics
    /// As [`release`](Self::release).
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(0);
    /// sem.add_permits(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn add_permits(&self, n: usize) {
        if self.try_add(n).is_err() {
            panic!(
                "Semaphore::add_permits: more than {} permits (a BoundedSemaphore's bound, \
                 or MAX_PERMITS)",
                self.bound
            );
        }
    }

    pub(crate) fn try_add(&self, n: usize) -> Result<(), ()> {
        self.permits.add(n, self.bound)
    }

    /// Free permits (asyncio's `_value`): permits already handed to a woken waiter are not
    /// free.
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(2);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Whether an `acquire` would wait (asyncio's `locked()`): no permit is free, or tasks are
    /// waiting (a newcomer queues behind them).
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(1);
    /// assert!(!sem.locked());
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.available() == 0 || self.permits.has_waiters()
    }

    /// [`locked`](Self::locked) under the Rust convention's name (asyncio's is `locked`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.locked()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.permits.available())
            .field("waiters", &self.permits.has_waiters())
            .finish()
    }
}

/// Permits taken from a [`Semaphore`]; dropping them gives them back.
///
/// ```
/// # conductor::run(async {
/// let sem = conductor::sync::Semaphore::new(1);
/// let permit: conductor::sync::SemaphorePermit<'_> = sem.acquire().await;
/// assert_eq!(sem.available_permits(), 0);
/// drop(permit);
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(3);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits taken: they are never given back (the semaphore shrinks).
    ///
    /// ```
    /// let sem = conductor::sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.permits.release(self.n);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] kept in an `Arc`; dropping them gives them back.
///
/// ```
/// use std::sync::Arc;
/// # conductor::run(async {
/// let sem = Arc::new(conductor::sync::Semaphore::new(1));
/// let permit: conductor::sync::OwnedSemaphorePermit = sem.clone().acquire_owned().await;
/// conductor::spawn(async move { drop(permit) }).await.unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<dyn AsSemaphore>,
    n: usize,
}

/// What an [`OwnedSemaphorePermit`] can hold on to: a `Semaphore` or a `BoundedSemaphore`.
pub(crate) trait AsSemaphore: Send + Sync {
    fn semaphore(&self) -> &Semaphore;
}

impl AsSemaphore for Semaphore {
    fn semaphore(&self) -> &Semaphore {
        self
    }
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// ```
    /// let sem = std::sync::Arc::new(conductor::sync::Semaphore::new(1));
    /// assert_eq!(sem.try_acquire_owned().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore the permits come from.
    ///
    /// ```
    /// let sem = std::sync::Arc::new(conductor::sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(std::ptr::eq(p.semaphore(), &*sem));
    /// ```
    pub fn semaphore(&self) -> &Semaphore {
        self.sem.semaphore()
    }

    pub(crate) fn new(sem: Arc<dyn AsSemaphore>, n: usize) -> Self {
        OwnedSemaphorePermit { sem, n }
    }

    /// Keeps the permits taken: they are never given back.
    ///
    /// ```
    /// let sem = std::sync::Arc::new(conductor::sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.semaphore().permits.release(self.n);
        }
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}
