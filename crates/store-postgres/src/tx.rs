//! One transaction as the store's modules see it: statements prepared once per connection, and
//! a note of what to NOTIFY when it commits.

use crate::error::TxResult;
use crate::notify::{self, Channels, Pending};
use postgres::types::ToSql;
use postgres::{Row, Statement, Transaction};
use std::collections::HashMap;

/// Prepared statements of one connection, by SQL text.
pub(crate) type Statements = HashMap<String, Statement>;

/// Query parameters.
pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

pub(crate) struct Tx<'a> {
    inner: Transaction<'a>,
    statements: &'a mut Statements,
    pending: Pending,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(inner: Transaction<'a>, statements: &'a mut Statements) -> Tx<'a> {
        Tx {
            inner,
            statements,
            pending: Pending::default(),
        }
    }

    /// The statement for `sql`, prepared on this connection the first time it is used (saves
    /// a round trip per query afterwards). Prepared statements outlive the transaction.
    fn statement(&mut self, sql: &str) -> TxResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.inner.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(crate) fn query(&mut self, sql: &str, params: &Params) -> TxResult<Vec<Row>> {
        let s = self.statement(sql)?;
        Ok(self.inner.query(&s, params)?)
    }

    pub(crate) fn query_opt(&mut self, sql: &str, params: &Params) -> TxResult<Option<Row>> {
        let s = self.statement(sql)?;
        Ok(self.inner.query_opt(&s, params)?)
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: &Params) -> TxResult<Row> {
        let s = self.statement(sql)?;
        Ok(self.inner.query_one(&s, params)?)
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &Params) -> TxResult<u64> {
        let s = self.statement(sql)?;
        Ok(self.inner.execute(&s, params)?)
    }

    /// Events up to `seq` were appended: listeners hear of it on commit.
    pub(crate) fn events_appended(&mut self, seq: i64) {
        self.pending.last_seq = Some(seq);
    }

    /// Jobs were enqueued or made claimable again: claimers hear of it on commit.
    pub(crate) fn jobs_claimable(&mut self) {
        self.pending.jobs = true;
    }

    /// Sends the notifications this transaction earned (inside it, so that PostgreSQL delivers
    /// them only if it commits). Whatever fails here fails before COMMIT is sent.
    pub(crate) fn notify(&mut self, channels: &Channels) -> TxResult<()> {
        for (channel, payload) in self.pending.notifications(channels) {
            self.query_one(notify::NOTIFY, &[&channel, &payload])?;
        }
        Ok(())
    }

    pub(crate) fn commit(self) -> TxResult<()> {
        Ok(self.inner.commit()?)
    }
}
