//! `Lock`: asyncio's `Lock`, with RAII guards.

use std::fmt;
use std::sync::Arc;

use super::const_fn;
use super::permits::{Permits, TryAcquireError};

/// A mutual-exclusion lock for tasks (asyncio's `Lock`): `acquire().await` gives a guard, and
/// dropping the guard releases the lock (asyncio's `async with lock:`).
///
/// Waiters get the lock in the order they asked for it: a release hands the lock to the first
/// waiter, so a task arriving later cannot take it first, even before that waiter has run. If
/// that waiter's task is cancelled before it runs, the lock goes on to the next waiter. A guard
/// dropped by a cancelled task releases the lock like any other.
///
/// Unlike asyncio's, it is `Send + Sync`: tasks on different loops may share it (in an `Arc`).
/// To protect data, [`Mutex`](super::Mutex) puts it inside the lock.
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Lock;
/// # conductor::run(async {
/// let lock = Arc::new(Lock::new());
/// let guard = lock.acquire().await;
/// assert!(lock.locked());
/// let l2 = lock.clone();
/// let waiter = conductor::spawn(async move {
///     let _g = l2.acquire().await; // waits for the release
///     "got it"
/// });
/// conductor::sleep(std::time::Duration::from_millis(1)).await;
/// drop(guard); // release: the waiter gets the lock
/// assert_eq!(waiter.await.unwrap(), "got it");
/// assert!(!lock.locked());
/// # });
/// ```
pub struct Lock {
    permits: Permits,
}

impl Lock {
    const_fn! {
        /// An unlocked lock. (`const`, so a lock can be a `static`, as asyncio's module-level
        /// locks are.)
        ///
        /// ```
        /// static LOCK: conductor::sync::Lock = conductor::sync::Lock::new();
        /// assert!(!LOCK.locked());
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new() -> Lock {
            Lock::typed("Lock")
        }
    }

    const_fn! {
        /// A lock that tokio-console names `concrete_type` (a `Mutex`'s).
        #[cfg_attr(feature = "tracing", track_caller)]
        pub(crate) fn typed(concrete_type: &'static str) -> Lock {
            Lock {
                permits: Permits::new(1, concrete_type),
            }
        }
    }

    /// Waits for the lock and returns a guard that releases it when dropped (asyncio's
    /// `await lock.acquire()`, or `async with lock:`).
    ///
    /// Cancel-safe: a task cancelled while waiting never holds the lock afterwards, and a lock
    /// handed to it just before passes to the next waiter.
    ///
    /// ```
    /// # conductor::run(async {
    /// let lock = conductor::sync::Lock::new();
    /// {
    ///     let _guard = lock.acquire().await;
    ///     assert!(lock.locked());
    /// } // released here
    /// assert!(!lock.locked());
    /// # });
    /// ```
    pub async fn acquire(&self) -> LockGuard<'_> {
        self.permits.acquire(1).await;
        LockGuard { lock: self }
    }

    /// [`acquire`](Self::acquire) for a lock in an `Arc`: the guard owns a reference, so it can
    /// move into another task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let lock = Arc::new(conductor::sync::Lock::new());
    /// let guard = lock.clone().acquire_owned().await;
    /// let holder = conductor::spawn(async move {
    ///     let _guard = guard; // released when this task ends
    /// });
    /// holder.await.unwrap();
    /// assert!(!lock.locked());
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedLockGuard {
        self.permits.acquire(1).await;
        OwnedLockGuard { lock: self }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    /// [`TryAcquireError`] when the lock is held or tasks wait for it.
    ///
    /// ```
    /// let lock = conductor::sync::Lock::new();
    /// let guard = lock.try_acquire().unwrap();
    /// assert!(lock.try_acquire().is_err());
    /// drop(guard);
    /// assert!(lock.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, TryAcquireError> {
        if self.permits.try_acquire(1) {
            Ok(LockGuard { lock: self })
        } else {
            Err(TryAcquireError)
        }
    }

    /// [`try_acquire`](Self::try_acquire) for a lock in an `Arc`.
    ///
    /// # Errors
    /// [`TryAcquireError`] when the lock is held or tasks wait for it.
    ///
    /// ```
    /// let lock = std::sync::Arc::new(conductor::sync::Lock::new());
    /// let _guard = lock.clone().try_acquire_owned().unwrap();
    /// assert!(lock.locked());
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedLockGuard, TryAcquireError> {
        if self.permits.try_acquire(1) {
            Ok(OwnedLockGuard { lock: self })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Whether the lock is held (asyncio's `locked()`). A lock handed to a waiter that has not
    /// run yet counts as held; asyncio reports it free for that moment, but no newcomer could
    /// take it there either.
    ///
    /// ```
    /// let lock = conductor::sync::Lock::new();
    /// assert!(!lock.locked());
    /// let _g = lock.try_acquire().unwrap();
    /// assert!(lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// [`locked`](Self::locked) under the Rust convention's name (asyncio's is `locked`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.locked()
    }

    pub(crate) fn permits(&self) -> &Permits {
        &self.permits
    }
}

impl Default for Lock {
    #[cfg_attr(feature = "tracing", track_caller)]
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("waiters", &self.permits.has_waiters())
            .finish()
    }
}

/// Holds a [`Lock`]; dropping it releases the lock (to the first waiter, if any).
///
/// ```
/// # conductor::run(async {
/// let lock = conductor::sync::Lock::new();
/// let guard: conductor::sync::LockGuard<'_> = lock.acquire().await;
/// assert!(lock.locked());
/// drop(guard);
/// assert!(!lock.locked());
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// Releases the lock now (asyncio's `lock.release()`); the same as dropping the guard.
    ///
    /// ```
    /// # conductor::run(async {
    /// let lock = conductor::sync::Lock::new();
    /// let guard = lock.acquire().await;
    /// guard.release();
    /// assert!(!lock.locked());
    /// # });
    /// ```
    pub fn release(self) {}
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Holds a [`Lock`] kept in an `Arc`; dropping it releases the lock.
///
/// ```
/// use std::sync::Arc;
/// # conductor::run(async {
/// let lock = Arc::new(conductor::sync::Lock::new());
/// let guard: conductor::sync::OwnedLockGuard = lock.clone().acquire_owned().await;
/// conductor::spawn(async move { drop(guard) }).await.unwrap();
/// assert!(!lock.locked());
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedLockGuard {
    lock: Arc<Lock>,
}

impl OwnedLockGuard {
    /// The lock this guard holds.
    ///
    /// ```
    /// # conductor::run(async {
    /// let lock = std::sync::Arc::new(conductor::sync::Lock::new());
    /// let guard = lock.clone().acquire_owned().await;
    /// assert!(std::sync::Arc::ptr_eq(guard.lock(), &lock));
    /// # });
    /// ```
    pub fn lock(&self) -> &Arc<Lock> {
        &self.lock
    }

    /// Releases the lock now; the same as dropping the guard.
    ///
    /// ```
    /// # conductor::run(async {
    /// let lock = std::sync::Arc::new(conductor::sync::Lock::new());
    /// lock.clone().acquire_owned().await.release();
    /// assert!(!lock.locked());
    /// # });
    /// ```
    pub fn release(self) {}
}

impl Drop for OwnedLockGuard {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl fmt::Debug for OwnedLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedLockGuard")
    }
}
