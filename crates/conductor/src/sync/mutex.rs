//! `Mutex<T>`: a [`Lock`] that owns the data it protects.

// The `unsafe` of this module: the data behind the lock, reached through an `UnsafeCell`.
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::const_fn;
use super::lock::Lock;
use super::permits::TryAcquireError;

/// A [`Lock`] around a value: the value is reachable only through the guard, so holding the
/// guard is the proof of holding the lock. The Rust form of asyncio's "a `Lock` next to the data
/// it guards". Fair and cancel-safe as [`Lock`] is; the guard may be held across `.await`.
///
/// ```
/// use std::sync::Arc;
/// use conductor::sync::Mutex;
/// # conductor::run(async {
/// let counter = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let counter = counter.clone();
///         conductor::spawn(async move {
///             let mut n = counter.lock().await;
///             let read = *n;
///             conductor::yield_now().await; // others run, but cannot touch the value
///             *n = read + 1;
///         })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*counter.lock().await, 10);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    lock: Lock,
    data: UnsafeCell<T>,
}

// SAFETY: the value moves between threads only with the whole `Mutex` (hence `T: Send`).
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: through `&Mutex<T>` the value is reached only by the holder of the lock's single
// permit (a guard), one at a time, possibly from another thread than the last holder: `T: Send`
// suffices, as for `std::sync::Mutex`. The permit's acquire/release orderings order the accesses.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    const_fn! {
        /// A new, unlocked mutex holding `value` (`const`, so it can be a `static`).
        ///
        /// ```
        /// use conductor::sync::Mutex;
        /// static NAMES: Mutex<Vec<&str>> = Mutex::new(Vec::new());
        /// # conductor::run(async {
        /// NAMES.lock().await.push("W0");
        /// assert_eq!(*NAMES.lock().await, ["W0"]);
        /// # });
        /// ```
        #[cfg_attr(feature = "tracing", track_caller)]
        pub fn new(value: T) -> Mutex<T> {
            Mutex::typed(value, "Mutex")
        }
    }

    const_fn! {
        /// A mutex that tokio-console names `concrete_type` (a `Condition`'s).
        #[cfg_attr(feature = "tracing", track_caller)]
        pub(crate) fn typed(value: T, concrete_type: &'static str) -> Mutex<T> {
            Mutex {
                lock: Lock::typed(concrete_type),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// The value, taking the mutex apart.
    ///
    /// ```
    /// let m = conductor::sync::Mutex::new(String::from("x"));
    /// assert_eq!(m.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock; the guard gives access to the value and releases the lock when
    /// dropped. Cancel-safe, as [`Lock::acquire`].
    ///
    /// ```
    /// # conductor::run(async {
    /// let m = conductor::sync::Mutex::new(vec![1]);
    /// m.lock().await.push(2);
    /// assert_eq!(*m.lock().await, [1, 2]);
    /// # });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.lock.permits().acquire(1).await;
        MutexGuard {
            mutex: self,
            _marker: PhantomData,
        }
    }

    /// [`lock`](Self::lock) for a mutex in an `Arc`: the guard owns a reference and can move
    /// into another task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # conductor::run(async {
    /// let m = Arc::new(conductor::sync::Mutex::new(1));
    /// let mut guard = m.clone().lock_owned().await;
    /// conductor::spawn(async move { *guard += 1 }).await.unwrap();
    /// assert_eq!(*m.lock().await, 2);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.lock.permits().acquire(1).await;
        OwnedMutexGuard { mutex: self }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    /// [`TryAcquireError`] when the lock is held or tasks wait for it.
    ///
    /// ```
    /// let m = conductor::sync::Mutex::new(5);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// assert_eq!(*g, 5);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryAcquireError> {
        if self.lock.permits().try_acquire(1) {
            Ok(MutexGuard {
                mutex: self,
                _marker: PhantomData,
            })
        } else {
            Err(TryAcquireError)
        }
    }

    /// [`try_lock`](Self::try_lock) for a mutex in an `Arc`.
    ///
    /// # Errors
    /// [`TryAcquireError`] when the lock is held or tasks wait for it.
    ///
    /// ```
    /// let m = std::sync::Arc::new(conductor::sync::Mutex::new(5));
    /// assert_eq!(*m.clone().try_lock_owned().unwrap(), 5);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryAcquireError> {
        if self.lock.permits().try_acquire(1) {
            Ok(OwnedMutexGuard { mutex: self })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Whether the mutex is locked (asyncio's `locked()`).
    ///
    /// ```
    /// let m = conductor::sync::Mutex::new(());
    /// let _g = m.try_lock().unwrap();
    /// assert!(m.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// [`locked`](Self::locked) under the Rust convention's name (asyncio's is `locked`).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.locked()
    }

    pub(crate) fn raw(&self) -> &Lock {
        &self.lock
    }

    /// The value, without locking: `&mut self` proves nobody else can reach it.
    ///
    /// ```
    /// let mut m = conductor::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[cfg_attr(feature = "tracing", track_caller)]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to the value of a locked [`Mutex`]; dropping it releases the lock.
///
/// ```
/// # conductor::run(async {
/// let m = conductor::sync::Mutex::new(vec![1]);
/// let mut guard: conductor::sync::MutexGuard<'_, Vec<i32>> = m.lock().await;
/// guard.push(2); // `DerefMut` to the value
/// drop(guard);
/// assert_eq!(m.into_inner(), [1, 2]);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    // `Sync` only when `T: Sync`, as `&mut T` (a shared guard hands out `&T`).
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The guard of a lock whose permit the caller has just acquired (and hands over).
    pub(crate) fn acquired(mutex: &'a Mutex<T>) -> Self {
        MutexGuard {
            mutex,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock's only permit until it is dropped, so no other guard
        // exists, and the borrow of `self` keeps this one alive while the reference lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.lock.permits().release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Access to the value of a locked [`Mutex`] kept in an `Arc`; dropping it releases the lock.
///
/// ```
/// use std::sync::Arc;
/// # conductor::run(async {
/// let m = Arc::new(conductor::sync::Mutex::new(0));
/// let mut guard: conductor::sync::OwnedMutexGuard<i32> = m.clone().lock_owned().await;
/// conductor::spawn(async move { *guard += 1 }).await.unwrap();
/// assert_eq!(*m.lock().await, 1);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
}

// SAFETY: a shared guard hands out `&T` on any thread that holds it: `T: Sync` is needed on top
// of what the `Arc<Mutex<T>>` requires (`T: Send`), as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// # conductor::run(async {
    /// let m = std::sync::Arc::new(conductor::sync::Mutex::new(0));
    /// let g = m.clone().lock_owned().await;
    /// assert!(std::sync::Arc::ptr_eq(g.mutex(), &m));
    /// # });
    /// ```
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: as for `MutexGuard::deref`: this guard holds the only permit.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `MutexGuard::deref_mut`.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.lock.permits().release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
