using System.ComponentModel.DataAnnotations;

namespace Sync.Connectors.Postgres;

/// <summary>How a run reads a PostgreSQL table or query source (section <c>PostgresSource</c>, e.g. <c>PostgresSource__OpenTransactionWait</c>).</summary>
public sealed class PostgresSourceOptions
{
    public const string SectionName = "PostgresSource";

    /// <summary>
    /// The longest a run of an integer, numeric or timestamp (without time zone) cursor waits for
    /// the transactions open on the source when it took its bound; past it the run fails naming
    /// them, the watermark stays, and the next run tries again. Default 60 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan OpenTransactionWait { get; set; } = TimeSpan.FromSeconds(60);
}
