namespace Sync.Connectors.Postgres;

/// <summary>
/// How far a run of an incremental job reads along its cursor, so that no row a transaction still
/// open may yet commit falls behind the watermark (DESIGN.md "Watermark safety", I1, I7).
/// </summary>
public enum CursorBound
{
    /// <summary>No bound: a full refresh reads its whole snapshot, and what commits later comes with the next refresh.</summary>
    None,

    /// <summary>
    /// timestamptz: rows stamped before the start of the oldest transaction open on the source
    /// (a transaction stamps with now() or clock_timestamp(), never earlier than its start).
    /// </summary>
    BeforeOldestTransaction,

    /// <summary>
    /// Any cursor a transaction takes while it runs (a sequence, now() into a timestamp, an integer
    /// version): the highest value visible at one moment, read once every transaction open at that
    /// moment has ended (<see cref="OpenTransactions"/>).
    /// </summary>
    SettledMax,
}
