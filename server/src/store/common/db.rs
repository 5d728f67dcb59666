//! [`SqlDb`]: the one place that names sqlx's generic bounds. The shared store
//! code is generic over `D: SqlDb` and runs statements through these few
//! methods; the bounds themselves sit on the blanket impl, so they are proven
//! once per concrete database (SQLite, PostgreSQL) and never repeated.

use std::future::Future;

use sqlx::{Arguments, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

use crate::error::{Error, Result};

/// One bound value of a statement.
#[derive(Debug, Clone, Copy)]
enum Arg<'a> {
    Int(i64),
    Bool(bool),
    Bytes(&'a [u8]),
    Text(&'a str),
    OptText(Option<&'a str>),
    OptBytes(Option<&'a [u8]>),
}

/// A statement and its arguments (`$1`, `$2`, … in order).
#[derive(Debug)]
pub(crate) struct Sql<'a> {
    text: &'static str,
    args: Vec<Arg<'a>>,
}

/// Starts a statement.
pub(crate) fn sql<'a>(text: &'static str) -> Sql<'a> {
    Sql {
        text,
        args: Vec::new(),
    }
}

impl<'a> Sql<'a> {
    /// Binds an integer.
    pub(crate) fn int(mut self, v: i64) -> Self {
        self.args.push(Arg::Int(v));
        self
    }

    /// Binds a `u64` as an SQL integer.
    pub(crate) fn uint(self, v: u64) -> Self {
        self.int(crate::store::to_i64(v))
    }

    /// Binds a boolean.
    pub(crate) fn boolean(mut self, v: bool) -> Self {
        self.args.push(Arg::Bool(v));
        self
    }

    /// Binds bytes.
    pub(crate) fn bytes(mut self, v: &'a [u8]) -> Self {
        self.args.push(Arg::Bytes(v));
        self
    }

    /// Binds text.
    pub(crate) fn text(mut self, v: &'a str) -> Self {
        self.args.push(Arg::Text(v));
        self
    }

    /// Binds text or NULL.
    pub(crate) fn opt_text(mut self, v: Option<&'a str>) -> Self {
        self.args.push(Arg::OptText(v));
        self
    }

    /// Binds bytes or NULL.
    pub(crate) fn opt_bytes(mut self, v: Option<&'a [u8]>) -> Self {
        self.args.push(Arg::OptBytes(v));
        self
    }
}

/// A row type the shared code reads (by column name, through [`col`]).
pub(crate) trait FromSql: Sized + Send {
    /// Reads one row.
    ///
    /// # Errors
    /// A column is missing, NULL where a value is required, or of another type.
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self>;
}

/// A column value type: the SQL integer, boolean, bytes and text the schema uses,
/// each optional (NULL) or not.
pub(crate) trait Column: Sized {
    /// Reads the column `name`.
    ///
    /// # Errors
    /// As [`FromSql::from_sql`].
    fn get<D: SqlDb>(row: &D::Row, name: &str) -> Result<Self>;
}

/// Reads column `name` of a row.
///
/// # Errors
/// As [`FromSql::from_sql`].
pub(crate) fn col<D: SqlDb, T: Column>(row: &D::Row, name: &str) -> Result<T> {
    T::get::<D>(row, name)
}

macro_rules! column {
    ($t:ty, $get:ident) => {
        impl Column for Option<$t> {
            fn get<D: SqlDb>(row: &D::Row, name: &str) -> Result<Self> {
                D::$get(row, name)
            }
        }
        impl Column for $t {
            fn get<D: SqlDb>(row: &D::Row, name: &str) -> Result<Self> {
                D::$get(row, name)?.ok_or_else(|| Error::internal(format!("NULL in {name}")))
            }
        }
    };
}
column!(i64, get_int);
column!(bool, get_bool);
column!(Vec<u8>, get_bytes);
column!(String, get_text);

/// The column a one-column query names (`SELECT COUNT(*) AS v …`).
pub(crate) const SCALAR: &str = "v";

/// The value of a one-column row, read from its [`SCALAR`] column.
pub(crate) struct Scalar<T>(pub(crate) T);

impl<T: Column + Send> FromSql for Scalar<T> {
    fn from_sql<D: SqlDb>(row: &D::Row) -> Result<Self> {
        col::<D, T>(row, SCALAR).map(Self)
    }
}

/// What a statement's result says about rows changed (sqlx has no trait for it).
pub(crate) trait RowsAffected {
    /// Rows inserted, updated or deleted.
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

/// What the shared store code needs of a database: run a statement, read rows
/// and columns. Implemented for every sqlx database that can bind and read the
/// schema's value types (see the blanket impl).
pub(crate) trait SqlDb: Database {
    /// Runs a statement; the number of rows it changed.
    fn execute(c: &mut Self::Connection, q: Sql<'_>) -> impl Future<Output = Result<u64>> + Send;

    /// Every row a query returns.
    fn fetch_all<R: FromSql>(
        c: &mut Self::Connection,
        q: Sql<'_>,
    ) -> impl Future<Output = Result<Vec<R>>> + Send;

    /// The first row a query returns, if any.
    fn fetch_optional<R: FromSql>(
        c: &mut Self::Connection,
        q: Sql<'_>,
    ) -> impl Future<Output = Result<Option<R>>> + Send;

    /// The first row a query returns; its absence is an internal error (the
    /// caller knows the row exists).
    fn fetch_one<R: FromSql>(
        c: &mut Self::Connection,
        q: Sql<'_>,
    ) -> impl Future<Output = Result<R>> + Send {
        let text = q.text;
        let row = Self::fetch_optional(c, q);
        async move {
            row.await?
                .ok_or_else(|| Error::internal(format!("no row for {text}")))
        }
    }

    /// An integer column.
    ///
    /// # Errors
    /// Missing column or another type.
    fn get_int(row: &Self::Row, name: &str) -> Result<Option<i64>>;

    /// A boolean column.
    ///
    /// # Errors
    /// Missing column or another type.
    fn get_bool(row: &Self::Row, name: &str) -> Result<Option<bool>>;

    /// A bytes column.
    ///
    /// # Errors
    /// Missing column or another type.
    fn get_bytes(row: &Self::Row, name: &str) -> Result<Option<Vec<u8>>>;

    /// A text column.
    ///
    /// # Errors
    /// Missing column or another type.
    fn get_text(row: &Self::Row, name: &str) -> Result<Option<String>>;
}

/// The bounds: binding `i64`, `bool`, `&[u8]`, `&str` and `Option<&str>`,
/// reading those types (optionally NULL) by column name, and running on a
/// connection.
impl<D> SqlDb for D
where
    D: Database,
    D::Arguments: IntoArguments<D>,
    D::QueryResult: RowsAffected,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'s> &'s str: ColumnIndex<D::Row>,
    for<'q> i64: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> bool: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> Vec<u8>: Decode<'q, D> + Type<D>,
    for<'q> String: Decode<'q, D> + Type<D>,
    for<'q> &'q [u8]: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q [u8]>: Encode<'q, D> + Type<D>,
    for<'q> Option<i64>: Decode<'q, D> + Type<D>,
    for<'q> Option<bool>: Decode<'q, D> + Type<D>,
    for<'q> Option<Vec<u8>>: Decode<'q, D> + Type<D>,
    for<'q> Option<String>: Decode<'q, D> + Type<D>,
{
    fn execute(c: &mut Self::Connection, q: Sql<'_>) -> impl Future<Output = Result<u64>> + Send {
        let built = build::<D>(q);
        async move {
            Ok(sqlx::query_with(built.0, built.1?)
                .execute(c)
                .await?
                .rows_affected())
        }
    }

    fn fetch_all<R: FromSql>(
        c: &mut Self::Connection,
        q: Sql<'_>,
    ) -> impl Future<Output = Result<Vec<R>>> + Send {
        let built = build::<D>(q);
        async move {
            let rows = sqlx::query_with(built.0, built.1?).fetch_all(c).await?;
            rows.iter().map(R::from_sql::<D>).collect()
        }
    }

    fn fetch_optional<R: FromSql>(
        c: &mut Self::Connection,
        q: Sql<'_>,
    ) -> impl Future<Output = Result<Option<R>>> + Send {
        let built = build::<D>(q);
        async move {
            let row = sqlx::query_with(built.0, built.1?)
                .fetch_optional(c)
                .await?;
            row.as_ref().map(R::from_sql::<D>).transpose()
        }
    }

    fn get_int(row: &Self::Row, name: &str) -> Result<Option<i64>> {
        Ok(row.try_get(name)?)
    }

    fn get_bool(row: &Self::Row, name: &str) -> Result<Option<bool>> {
        Ok(row.try_get(name)?)
    }

    fn get_bytes(row: &Self::Row, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(row.try_get(name)?)
    }

    fn get_text(row: &Self::Row, name: &str) -> Result<Option<String>> {
        Ok(row.try_get(name)?)
    }
}

/// A statement's text and its encoded arguments (encoding copies the values, so
/// the query borrows nothing).
fn build<D>(q: Sql<'_>) -> (&'static str, Result<D::Arguments>)
where
    D: Database,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> bool: Encode<'q, D> + Type<D>,
    for<'q> &'q [u8]: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q [u8]>: Encode<'q, D> + Type<D>,
{
    let mut args = D::Arguments::default();
    let added = q.args.into_iter().try_for_each(|a| match a {
        Arg::Int(v) => args.add(v),
        Arg::Bool(v) => args.add(v),
        Arg::Bytes(v) => args.add(v),
        Arg::Text(v) => args.add(v),
        Arg::OptText(v) => args.add(v),
        Arg::OptBytes(v) => args.add(v),
    });
    (q.text, added.map(|()| args).map_err(Error::internal))
}
