#!/usr/bin/env bash
# Runs the task, cancellation, remote-wake and group tests under miri (Stacked Borrows, data
# races across threads). Needs a nightly toolchain with the miri component:
#   rustup toolchain install nightly --component miri
# Not part of CI (miri may be unavailable); takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
cargo +nightly miri test -p conductor --lib -- --skip wheel::tests::a_random_schedule
for t in task_cancel task_spawn rt_run rt_remote group_gather group_gather_inline group_race \
    group_task_group task_into_io_error time_timeout rt_leaks; do
    cargo +nightly miri test -p conductor --test "$t" -- --skip a_million --skip many_sleepers \
        --skip many_sockets --skip shutdown_timeout --skip slow_steps --skip the_pool_is_bounded
done
