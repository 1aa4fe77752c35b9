//! `BoundedSemaphore`: a [`Semaphore`] that refuses to grow past its initial value.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::const_fn;
use super::semaphore::{AsSemaphore, OwnedSemaphorePermit, Semaphore};

/// asyncio's `BoundedSemaphore`: a [`Semaphore`] whose [`release`](Self::release) fails when it
/// would raise the number of free permits above the initial value, which catches a release
/// without a matching acquire. Every other method is the [`Semaphore`]'s (through `Deref`).
///
/// ```
/// use conductor::sync::{BoundedSemaphore, TooManyReleases};
/// # conductor::run(async {
/// let sem = BoundedSemaphore::new(1);
/// sem.acquire().await.forget(); // taken, and kept: released by hand below
/// assert_eq!(sem.release(), Ok(()));
/// assert_eq!(sem.release(), Err(TooManyReleases)); // asyncio raises ValueError here
/// # });
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
}

impl BoundedSemaphore {
    const_fn! {
        /// A semaphore with `value` permits, which is also the most it may ever have free.
        ///
        /// # Panics
        /// When `value` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// ```
        /// let sem = conductor::sync::BoundedSemaphore::new(2);
        /// assert_eq!(sem.bound(), 2);
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new(value: usize) -> BoundedSemaphore {
            BoundedSemaphore {
                sem: Semaphore::bounded(value),
            }
        }
    }

    /// Adds a permit back (asyncio's `release()`), handing it to the first waiter if any.
    ///
    /// # Errors
    /// [`TooManyReleases`] when the free permits would exceed the initial value; nothing
    /// changes then.
    ///
    /// ```
    /// let sem = conductor::sync::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err(), "nothing was acquired");
    /// ```
    pub fn release(&self) -> Result<(), TooManyReleases> {
        self.sem.try_add(1).map_err(|()| TooManyReleases)
    }

    /// The initial value: the most permits that may be free.
    ///
    /// ```
    /// assert_eq!(conductor::sync::BoundedSemaphore::new(4).bound(), 4);
    /// ```
    pub fn bound(&self) -> usize {
        self.sem.bound
    }

    /// [`Semaphore::acquire_owned`] for a bounded semaphore in an `Arc`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let sem = Arc::new(conductor::sync::BoundedSemaphore::new(1));
    /// let permit = sem.clone().acquire_owned().await;
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.sem.permits().acquire(1).await;
        OwnedSemaphorePermit::new(self, 1)
    }
}

impl AsSemaphore for BoundedSemaphore {
    fn semaphore(&self) -> &Semaphore {
        &self.sem
    }
}

impl Deref for BoundedSemaphore {
    type Target = Semaphore;

    fn deref(&self) -> &Semaphore {
        &self.sem
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.sem.available_permits())
            .field("bound", &self.sem.bound)
            .finish()
    }
}

/// [`BoundedSemaphore::release`] would make more permits free than the semaphore started with
/// (asyncio's `ValueError: BoundedSemaphore released too many times`).
///
/// ```
/// let sem = conductor::sync::BoundedSemaphore::new(1);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err, conductor::sync::TooManyReleases);
/// assert!(err.to_string().contains("released too many times"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyReleases;

impl fmt::Display for TooManyReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "BoundedSemaphore released too many times: every release must match an acquire \
             (drop the permit instead of releasing by hand)",
        )
    }
}

impl std::error::Error for TooManyReleases {}
