using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sync.Outbox;

/// <summary>
/// The few statements EF cannot express (row locks), built from the model's own table and column
/// names so a host schema is honoured. Values always travel as parameters ({0}, {1}).
/// </summary>
internal static class OutboxSql
{
    /// <summary>Locks one inbox row: a concurrent duplicate waits here instead of running the consumer twice.</summary>
    public static string LockInbox(DbContext dbContext)
    {
        var (table, column) = Names<InboxState>(dbContext);
        return $"SELECT * FROM {table} WHERE {column(nameof(InboxState.MessageId))} = {{0}} AND {column(nameof(InboxState.ConsumerId))} = {{1}} FOR UPDATE";
    }

    /// <summary>The oldest unit of work no other replica is delivering.</summary>
    public static string NextOutbox(DbContext dbContext)
    {
        var (table, column) = Names<OutboxState>(dbContext);
        return $"SELECT * FROM {table} ORDER BY {column(nameof(OutboxState.Created))} LIMIT 1 FOR UPDATE SKIP LOCKED";
    }

    /// <summary>The oldest consumed, undelivered inbox row that no consumer pass holds (its process died, or its message went to the error queue).</summary>
    public static string NextStrandedInbox(DbContext dbContext)
    {
        var (table, column) = Names<InboxState>(dbContext);
        var consumed = column(nameof(InboxState.Consumed));
        return $"SELECT * FROM {table} WHERE {consumed} < {{0}} AND {column(nameof(InboxState.Delivered))} IS NULL ORDER BY {consumed} LIMIT 1 FOR UPDATE SKIP LOCKED";
    }

    private static (string Table, Func<string, string> Column) Names<T>(DbContext dbContext)
    {
        var entity = dbContext.Model.FindEntityType(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not in {dbContext.GetType().Name}'s model; call modelBuilder.AddSyncOutbox() in OnModelCreating.");
        var table = entity.GetTableName()!;
        var schema = entity.GetSchema();
        var store = StoreObjectIdentifier.Table(table, schema);
        var qualified = schema is null ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
        return (qualified, property => Quote(entity.FindProperty(property)!.GetColumnName(store)!));
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
