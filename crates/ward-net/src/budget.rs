//! A time budget for everything done on behalf of one domain.
//!
//! A scan of one domain is dozens of questions and connections in a few rounds, each
//! round waiting for the last. One silent server can make every round wait its full
//! timeout, so without a bound a single domain costs a minute. [`within`] runs a future
//! under a deadline that every DNS question, TCP connection and HTTP exchange made
//! inside it respects: each wait is cut to the deadline, and once it has passed nothing
//! more is sent and each operation fails at once as [`Spent`]. What was learnt before
//! the deadline is kept.
//!
//! The budget is task-local: futures polled inside [`within`] (including those joined
//! there) see it; tasks spawned elsewhere do not.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    static BUDGET: Budget;
}

/// The deadline of the budget in force.
#[derive(Debug, Clone, Copy)]
struct Budget {
    deadline: Instant,
    limit: Duration,
}

/// The budget ran out: this operation was not attempted, or was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    /// The whole budget, in whole seconds (for messages).
    pub limit_secs: u32,
}

/// Runs `work` with `limit` for everything it does on the network.
pub async fn within<F: Future>(limit: Duration, work: F) -> F::Output {
    let budget = Budget {
        deadline: Instant::now() + limit,
        limit,
    };
    BUDGET.scope(budget, work).await
}

fn current() -> Option<Budget> {
    BUDGET.try_with(|b| *b).ok()
}

/// `Err` when the budget in force has run out.
pub fn check() -> Result<(), Spent> {
    match current() {
        Some(b) if Instant::now() >= b.deadline => Err(spent(b)),
        _ => Ok(()),
    }
}

/// The earlier of `deadline` and the budget's deadline.
pub fn cap(deadline: Instant) -> Instant {
    match current() {
        Some(b) => deadline.min(b.deadline),
        None => deadline,
    }
}

/// After a wait up to [`cap`]`(deadline)` ran out: `Err` if it was the budget, not the
/// operation's own deadline, that ended it.
pub fn ended_by_budget(deadline: Instant) -> Result<(), Spent> {
    match current() {
        Some(b) if b.deadline < deadline && Instant::now() >= b.deadline => Err(spent(b)),
        _ => Ok(()),
    }
}

fn spent(b: Budget) -> Spent {
    Spent {
        limit_secs: u32::try_from(b.limit.as_secs()).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_waits_and_then_refuses() {
        assert!(check().is_ok(), "no budget outside `within`");
        within(Duration::from_secs(3), async {
            let far = Instant::now() + Duration::from_secs(10);
            let cut = cap(far);
            assert_eq!(cut - Instant::now(), Duration::from_secs(3));
            assert!(check().is_ok());
            // Joined futures see the same budget.
            let (a, b) = tokio::join!(async { check() }, async { cap(far) });
            assert!(a.is_ok());
            assert_eq!(b, cut);
            tokio::time::sleep_until(cut).await;
            assert_eq!(check(), Err(Spent { limit_secs: 3 }));
            assert!(ended_by_budget(far).is_err());
        })
        .await;
        assert!(check().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_ends_on_its_own_deadline_is_not_the_budget() {
        within(Duration::from_secs(3), async {
            let near = Instant::now() + Duration::from_secs(1);
            tokio::time::sleep_until(cap(near)).await;
            assert!(ended_by_budget(near).is_ok());
        })
        .await;
    }
}
