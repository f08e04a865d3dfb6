//! `LeaseStore` in SQL, once for every queue: each queue names its table, which rows are due
//! and in which order; a claim is one `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`, so
//! two holders never take the same row.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{db_err, ms, Sqlite};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::lease::{Claimed, Lease, LeaseStore, Queue, ScheduleStore};

/// Where a queue's rows live, which of them are live (not done), what else makes a live row
/// due (`?3` is now), and the order they are taken in.
fn queue(q: Queue) -> (&'static str, &'static str, &'static str, &'static str) {
    match q {
        Queue::Jobs => (
            "jobs",
            "status IN ('queued', 'running')",
            "",
            "created_at, id",
        ),
        Queue::Outbox => (
            "outbox",
            "status = 'pending'",
            " AND next_attempt_at <= ?3",
            "next_attempt_at, id",
        ),
        Queue::Schedules => (
            "schedules",
            "1 = 1",
            " AND next_run_at <= ?3",
            "next_run_at, id",
        ),
    }
}

#[async_trait]
impl ScheduleStore for Sqlite {
    async fn ensure_schedule(&self, id: &str, first: Timestamp) -> Result<()> {
        let id = id.to_owned();
        self.call(move |c| {
            c.execute(
                "INSERT INTO schedules (id, next_run_at, lease_count) VALUES (?1, ?2, 0)
                 ON CONFLICT (id) DO NOTHING",
                params![id, ms(first)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn finish_run(&self, id: &str, holder: &str, next: Timestamp) -> Result<bool> {
        let (id, holder) = (id.to_owned(), holder.to_owned());
        self.call(move |c| {
            Ok(c.execute(
                "UPDATE schedules SET next_run_at = ?3, lease_holder = NULL, lease_until = NULL,
                     lease_count = 0
                 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder, ms(next)],
            )
            .map_err(db_err)?
                > 0)
        })
        .await
    }
}

#[async_trait]
impl LeaseStore for Sqlite {
    async fn claim(
        &self,
        q: Queue,
        now: Timestamp,
        lease: &Lease,
        only: Option<&str>,
    ) -> Result<Option<Claimed>> {
        let (table, live, due, order) = queue(q);
        let sql = format!(
            "UPDATE {table} SET lease_holder = ?1, lease_until = ?2, lease_count = lease_count + 1
             WHERE id = (SELECT id FROM {table}
                         WHERE {live}{due} AND (lease_until IS NULL OR lease_until < ?3)
                           AND (?4 IS NULL OR id = ?4)
                         ORDER BY {order} LIMIT 1)
             RETURNING id, lease_count"
        );
        let (lease, only) = (lease.clone(), only.map(str::to_owned));
        self.call(move |c| {
            c.query_row(
                &sql,
                params![lease.holder, ms(lease.until), ms(now), only],
                |r| {
                    Ok(Claimed {
                        id: r.get(0)?,
                        claims: r.get::<_, i64>(1)?.try_into().unwrap_or(u32::MAX),
                    })
                },
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn renew(&self, q: Queue, id: &str, lease: &Lease) -> Result<bool> {
        let (table, live, _, _) = queue(q);
        let sql = format!(
            "UPDATE {table} SET lease_until = ?3 WHERE id = ?1 AND lease_holder = ?2 AND {live}"
        );
        let (id, lease) = (id.to_owned(), lease.clone());
        self.call(move |c| {
            Ok(c.execute(&sql, params![id, lease.holder, ms(lease.until)])
                .map_err(db_err)?
                > 0)
        })
        .await
    }

    async fn release(&self, q: Queue, id: &str, holder: Option<&str>) -> Result<bool> {
        let (table, _, _, _) = queue(q);
        let sql = format!(
            "UPDATE {table} SET lease_holder = NULL, lease_until = NULL,
                 lease_count = MAX(lease_count - 1, 0)
             WHERE id = ?1 AND lease_holder IS NOT NULL AND (?2 IS NULL OR lease_holder = ?2)"
        );
        let (id, holder) = (id.to_owned(), holder.map(str::to_owned));
        self.call(move |c| Ok(c.execute(&sql, params![id, holder]).map_err(db_err)? > 0))
            .await
    }
}
